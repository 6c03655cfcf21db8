// Finance cockpit, pools: every pool in effect sorted by risk (share spent ahead of the share
// of the period gone), totals per currency, and a form to set a pool (PUT /v1/budgets/<team>)
// with the API's field errors next to the fields and the what-if of the change one click away.
import { api, clearError, clearFieldErrors, el, showError, showFieldErrors, table } from "./api.js";
import { addDecimals, formatMoney, formatShare } from "./format.js";

const POOL_FIELDS = { team: "pool-team", currency: "pool-currency", period: "pool-period",
  limit: "pool-limit", fix_limit: "pool-fix-limit", overdelivery_limit: "pool-overdelivery-limit",
  effective_at: "pool-effective" };
const AMOUNT = /^\d+(\.\d+)?$/;

// How far spending runs ahead of the calendar: the higher, the sooner the pool runs dry.
export function risk(pool) {
  return Number(pool.pace.spent_share) - Number(pool.pace.elapsed_share);
}

function paceBar(pool) {
  const spent = Math.min(1, Number(pool.pace.spent_share));
  const elapsed = Math.min(1, Number(pool.pace.elapsed_share));
  // A split pool paces its overdelivery line (fix money never prices down the gifts).
  const what = pool.split ? "the overdelivery line" : "the limit";
  const label = `${formatShare(pool.pace.spent_share)} of ${what} spent, ` +
    `${formatShare(pool.pace.elapsed_share)} of the period gone`;
  const bar = el("div", { class: "pace", role: "img", "aria-label": label, title: label },
    el("div", { class: spent > elapsed ? "pace-spent ahead" : "pace-spent" }),
    el("div", { class: "pace-elapsed" }));
  // Widths are set through the CSSOM: the page's CSP refuses inline style attributes.
  bar.children[0].style.width = `${spent * 100}%`;
  bar.children[1].style.left = `${elapsed * 100}%`;
  return el("div", {}, bar, el("span", { class: "muted small", text: label }));
}

// A split pool's two lines under a figure: "fix … · overdelivery …" (nothing for one line).
function lines(pool, figure) {
  if (!pool.split || !pool.lines) return null;
  return el("div", { class: "muted small" },
    `fix ${formatMoney(pool.lines.fix[figure], pool.currency)} · ` +
    `overdelivery ${formatMoney(pool.lines.overdelivery[figure], pool.currency)}`);
}

function riskText(pool) {
  const ahead = risk(pool);
  if (Number(pool.pace.spent_share) >= 1) return "used up";
  if (ahead > 0.005) return `${(ahead * 100).toFixed(1)} pts ahead`;
  return "on or behind pace";
}

function totals(pools) {
  const byCurrency = new Map();
  for (const p of pools) {
    const sum = byCurrency.get(p.currency) || { limit: "0", reserved: "0", committed: "0", remaining: "0", count: 0 };
    for (const name of ["limit", "reserved", "committed", "remaining"]) sum[name] = addDecimals(sum[name], p[name]);
    sum.count += 1;
    byCurrency.set(p.currency, sum);
  }
  return [...byCurrency.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export async function loadPools(onEdit) {
  const box = document.getElementById("pools");
  try {
    const { pools } = await api("GET", "/v1/budgets");
    if (!pools.length) {
      box.replaceChildren(el("p", {}, "No pool is in effect: accepting plans is refused until finance sets one."));
      return [];
    }
    const sorted = [...pools].sort((a, b) => risk(b) - risk(a) || a.team.localeCompare(b.team));
    const wrapper = table(
      ["Team", "Currency", "Period", "Limit", "Reserved", "Committed", "Remaining", "Pace", "Risk", "Cost price", "Change"],
      sorted.map((p) => el("tr", { "data-team": p.team, "data-currency": p.currency, class: risk(p) > 0.1 ? "at-risk" : null },
        el("th", { scope: "row", text: p.team }),
        el("td", { "data-label": "Currency", text: p.currency }),
        el("td", { class: "nowrap", "data-label": "Period" }, el("span", {}, `${p.period_key}`,
          el("div", { class: "muted small", text: p.period }),
          p.scheduled ? el("div", { class: "muted small" },
            `v${p.scheduled.version}: ${formatMoney(p.scheduled.limit, p.scheduled.currency)} from ${p.scheduled.effective_at}`) : null)),
        el("td", { class: "num", "data-label": "Limit" }, el("span", {}, formatMoney(p.limit, p.currency),
          lines(p, "limit"))),
        el("td", { class: "num", "data-label": "Reserved" }, el("span", {}, formatMoney(p.reserved, p.currency),
          lines(p, "reserved"))),
        el("td", { class: "num", "data-label": "Committed" }, el("span", {}, formatMoney(p.committed, p.currency),
          lines(p, "committed"))),
        el("td", { class: "num remaining", "data-label": "Remaining" }, el("span", {}, formatMoney(p.remaining, p.currency),
          lines(p, "remaining"))),
        el("td", { "data-label": "Pace" }, paceBar(p)),
        el("td", { class: "risk", "data-label": "Risk", text: riskText(p) }),
        el("td", { class: "num", "data-label": "Cost price", text: p.pace.cost_price }),
        el("td", { "data-label": "Change" }, el("button", { type: "button", class: "secondary", "aria-label": `Edit ${p.team} ${p.currency}`,
          onclick: () => onEdit(p) }, "Edit")))),
      "Pools in effect, the riskiest first");
    wrapper.querySelector("table").append(el("tfoot", {}, totals(pools).map(([currency, sum]) =>
      el("tr", { class: "total" },
        el("th", { scope: "row", class: "nowrap", text: `Total ${currency}` }),
        el("td", { "data-label": "Pools", text: `${sum.count} pool(s)` }),
        el("td", { class: "empty" }),
        el("td", { class: "num", "data-label": "Limit", text: formatMoney(sum.limit, currency) }),
        el("td", { class: "num", "data-label": "Reserved", text: formatMoney(sum.reserved, currency) }),
        el("td", { class: "num", "data-label": "Committed", text: formatMoney(sum.committed, currency) }),
        el("td", { class: "num", "data-label": "Remaining", text: formatMoney(sum.remaining, currency) }),
        el("td", { class: "empty", colspan: "4" })))));
    box.replaceChildren(wrapper);
    return pools;
  } catch (error) {
    const alert = el("div", { class: "error", role: "alert" });
    showError(alert, error, "Pools could not be loaded");
    box.replaceChildren(alert);
    return [];
  }
}

function fieldFor(path) {
  const name = path.replace(/^pools\.\d+\./, "");
  return POOL_FIELDS[name] || null;
}

// Read the pool form: the request body, or null after showing what is missing. One limit, or
// both lines (a limit beside them is checked by the API: it must be their sum).
function readPool(form) {
  const value = (id) => document.getElementById(id).value.trim();
  const local = {};
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(value("pool-team"))) local["pool-team"] = ["a team name such as emea or default"];
  if (!/^[A-Za-z]{3}$/.test(value("pool-currency"))) local["pool-currency"] = ["a currency code such as EUR"];
  const fix = value("pool-fix-limit");
  const overdelivery = value("pool-overdelivery-limit");
  if (fix && !overdelivery) local["pool-overdelivery-limit"] = ["required with a fix line: a split pool names both lines"];
  if (overdelivery && !fix) local["pool-fix-limit"] = ["required with an overdelivery line: a split pool names both lines"];
  for (const [id, amount] of [["pool-limit", value("pool-limit")], ["pool-fix-limit", fix], ["pool-overdelivery-limit", overdelivery]]) {
    if (amount && !AMOUNT.test(amount) && !local[id]) local[id] = ["an amount such as 5000.00"];
  }
  if (!value("pool-limit") && !fix && !overdelivery) local["pool-limit"] = ["an amount such as 5000.00, or a fix line and an overdelivery line"];
  if (Object.keys(local).length) {
    showFieldErrors(form, local, (id) => id);
    const first = form.querySelector("[aria-invalid=true]");
    if (first) first.focus();
    return null;
  }
  const effective = value("pool-effective");
  const pool = { team: value("pool-team"), currency: value("pool-currency").toUpperCase(),
    period: value("pool-period"), effective_at: effective ? `${effective}T00:00:00+00:00` : null };
  if (value("pool-limit")) pool.limit = value("pool-limit");
  if (fix) Object.assign(pool, { fix_limit: fix, overdelivery_limit: overdelivery });
  return pool;
}

// "5,000.00 € per month", or with two lines "… (fix line …, overdelivery line …)".
function poolWords(pool, total) {
  const each = `${formatMoney(total, pool.currency)} per ${pool.period}`;
  if (pool.fix_limit == null) return each;
  return `${each} (fix line ${formatMoney(pool.fix_limit, pool.currency)}, ` +
    `overdelivery line ${formatMoney(pool.overdelivery_limit, pool.currency)})`;
}

export function editPool(pool) {
  document.getElementById("pool-team").value = pool.team;
  document.getElementById("pool-currency").value = pool.currency;
  document.getElementById("pool-period").value = pool.period;
  // A split pool fills its two lines and leaves the limit (their sum) empty.
  const split = Boolean(pool.split && pool.lines);
  document.getElementById("pool-limit").value = split ? "" : pool.limit;
  document.getElementById("pool-fix-limit").value = split ? pool.lines.fix.limit : "";
  document.getElementById("pool-overdelivery-limit").value = split ? pool.lines.overdelivery.limit : "";
  document.getElementById("pool-effective").value = "";
  document.getElementById("pool-form-heading").textContent = `Set the pool of ${pool.team} in ${pool.currency}`;
  document.getElementById(split ? "pool-fix-limit" : "pool-limit").focus();
}

// `whatIf({pools}, fieldFor)` runs the what-if of the proposed pool (finance_whatif.js);
// `suggest(team, currency)` queues the search for the caps that earn most within it.
export function setupPoolForm(whatIf, reload, suggest) {
  const form = document.getElementById("pool-form");
  const result = document.getElementById("pool-result");
  const errorBox = document.getElementById("pool-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    clearError(errorBox);
    const pool = readPool(form);
    if (!pool) return;
    const { team, ...body } = pool;
    if (!body.effective_at) delete body.effective_at;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    result.replaceChildren(el("p", {}, `Saving the pool of ${team}…`));
    try {
      const saved = await api("PUT", `/v1/budgets/${encodeURIComponent(team)}`, body);
      const said = saved.split && saved.lines
        ? { ...saved, fix_limit: saved.lines.fix.limit, overdelivery_limit: saved.lines.overdelivery.limit }
        : saved;
      result.replaceChildren(el("div", { class: "ok" }, el("p", {},
        el("strong", {}, `Pool ${saved.team} ${saved.currency} saved`),
        ` (version ${saved.version}): ${poolWords(said, saved.limit)}.`)));
      await reload();
    } catch (error) {
      result.replaceChildren();
      const unplaced = showFieldErrors(form, error.errors, fieldFor);
      showError(errorBox, error, "The pool was not saved", unplaced);
      const first = form.querySelector("[aria-invalid=true]");
      if (first) first.focus();
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById("pool-suggest").addEventListener("click", () => {
    clearFieldErrors(form);
    clearError(errorBox);
    const team = document.getElementById("pool-team").value.trim();
    const currency = document.getElementById("pool-currency").value.trim().toUpperCase();
    const missing = {};
    if (!team) missing["pool-team"] = ["the team whose pool the caps must keep within"];
    if (!/^[A-Z]{3}$/.test(currency)) missing["pool-currency"] = ["a currency code such as EUR"];
    if (Object.keys(missing).length) {
      showFieldErrors(form, missing, (id) => id);
      return;
    }
    suggest(team, currency);
  });
  document.getElementById("pool-whatif").addEventListener("click", () => {
    clearFieldErrors(form);
    clearError(errorBox);
    const pool = readPool(form);
    if (!pool) return;
    const { effective_at: _when, ...proposed } = pool;
    const total = pool.limit ?? addDecimals(pool.fix_limit, pool.overdelivery_limit);
    whatIf({ pools: [proposed] }, `the pool of ${pool.team} at ${poolWords(pool, total)}`,
      (errors) => showFieldErrors(form, errors, fieldFor));
  });
}
