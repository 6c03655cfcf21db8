// Numbers and money for the reader's locale (Intl.NumberFormat), from the API's exact decimal
// strings: the string itself goes to Intl (exact, no float), with as many fraction digits as
// the API sent. Sums are done in BigInt minor units, never in floats.

const locale = navigator.language || "en";

function digits(text) {
  return (String(text).split(".")[1] || "").length;
}

// "92000000.00", "EUR" -> "€92,000,000.00" (en-US) or "92.000.000,00 €" (de-DE).
export function formatMoney(amount, currency) {
  return formatMoneyIn(locale, amount, currency);
}

// Money for one locale (the panel: the customer's, as its talking points write it).
export function moneyIn(forLocale) {
  return (amount, currency) => formatMoneyIn(forLocale, amount, currency);
}

function formatMoneyIn(forLocale, amount, currency) {
  if (amount === null || amount === undefined || amount === "") return "–";
  const places = digits(amount);
  try {
    return new Intl.NumberFormat(forLocale, { style: "currency", currency,
      minimumFractionDigits: places, maximumFractionDigits: places }).format(String(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

// {"EUR": "12.00", "USD": "3.00"} -> "€12.00, $3.00".
export function formatMoneyMap(byCurrency) {
  const entries = Object.entries(byCurrency || {});
  return entries.length ? entries.map(([c, a]) => formatMoney(a, c)).join(", ") : "–";
}

export function formatNumber(value, fractionDigits) {
  if (value === null || value === undefined || value === "") return "–";
  const places = fractionDigits === undefined ? digits(value) : fractionDigits;
  return new Intl.NumberFormat(locale, { minimumFractionDigits: places,
    maximumFractionDigits: places }).format(String(value));
}

// A share ("0.7709") as a percentage ("77.1%").
export function formatShare(share, fractionDigits = 1) {
  if (share === null || share === undefined || share === "") return "–";
  return new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits }).format(Number(share));
}

// A short axis label: 12345.67 -> "12K".
export function formatCompact(value) {
  return new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

// Exact sums of decimal strings: "10.05" + "0.5" = "10.55" (as many places as the widest).
export function addDecimals(...values) {
  const places = Math.max(0, ...values.map(digits));
  let total = 0n;
  for (const value of values) {
    const [whole, fraction = ""] = String(value).replace("-", "").split(".");
    const scaled = BigInt(whole + fraction.padEnd(places, "0"));
    total += String(value).startsWith("-") ? -scaled : scaled;
  }
  const negative = total < 0n;
  const text = (negative ? -total : total).toString().padStart(places + 1, "0");
  const body = places ? `${text.slice(0, -places)}.${text.slice(-places)}` : text;
  return negative ? `-${body}` : body;
}
