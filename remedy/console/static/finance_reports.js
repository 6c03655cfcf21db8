// Finance cockpit, reports: spend (GET /v1/reports/spend, grouped by team, category, fault or
// month), failures by cost (GET /v1/reports/diagnose) and the promises kept (GET
// /v1/reports/promises), each as a table and a bar chart, money in the reader's locale.
import { api, clearError, clearFieldErrors, el, showError, showFieldErrors, table } from "./api.js";
import { barChart } from "./charts.js";
import { addDecimals, formatMoney, formatNumber, formatShare } from "./format.js";

const GROUP_NAMES = { team: "Team", category: "Category", fault_type: "Fault", period: "Month" };

function byCurrency(rows) {
  const groups = new Map();
  for (const row of rows) groups.set(row.currency, [...(groups.get(row.currency) || []), row]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

function spendSection(report, groupBy) {
  const name = GROUP_NAMES[groupBy];
  if (!report.rows.length) return [el("p", {}, "No plan was accepted in this range.")];
  const parts = [table([name, "Currency", "Committed", "Reserved", "Plans"],
    report.rows.map((r) => el("tr", {},
      el("th", { scope: "row", text: r.group }),
      el("td", { text: r.currency }),
      el("td", { class: "num", text: formatMoney(r.committed, r.currency) }),
      el("td", { class: "num", text: formatMoney(r.reserved, r.currency) }),
      el("td", { class: "num", text: formatNumber(r.plans) }))), `Spend by ${name.toLowerCase()}`)];
  for (const [currency, rows] of byCurrency(report.rows)) {
    const bars = rows.map((r) => {
      const total = addDecimals(r.committed, r.reserved);
      return { label: r.group, value: Number(total), text: formatMoney(total, currency) };
    }).sort((a, b) => b.value - a.value);
    parts.push(barChart(`Spend by ${name.toLowerCase()} in ${currency} (committed and reserved)`, bars,
      "The table above has the figures."));
  }
  return parts;
}

function diagnoseSection(report) {
  if (!report.rows.length) return [el("p", {}, "No incident was decided in this range.")];
  const parts = [table(["Month", "Category", "Fault", "Incidents", "Remedy cost", "Retention", "Lost customer value", "Cost to the company"],
    report.rows.map((r) => el("tr", {},
      el("th", { scope: "row", text: r.month }),
      el("td", { text: r.category }),
      el("td", { text: r.fault_type }),
      el("td", { class: "num", text: formatNumber(r.incidents) }),
      el("td", { class: "num", text: formatMoney(r.remedy_cost, r.currency) }),
      el("td", { class: "num", text: r.retention === null ? "no outcomes" : formatShare(r.retention) }),
      el("td", { class: "num", text: formatMoney(r.lost_customer_value, r.currency) }),
      el("td", { class: "num", text: formatMoney(r.cost_to_company, r.currency) }))),
    "Failures by cost to the company, costliest first")];
  for (const [currency, rows] of byCurrency(report.rows)) {
    parts.push(barChart(`Cost to the company in ${currency}, costliest failures`, rows.slice(0, 10).map((r) => ({
      label: `${r.month} · ${r.category} · ${r.fault_type}`, value: Number(r.cost_to_company),
      text: formatMoney(r.cost_to_company, currency) })), "The table above has the figures."));
  }
  return parts;
}

function keptText(kept) {
  return kept.count ? `${formatShare(kept.kept_share)} of ${kept.count}` : "–";
}

function minutes(value) {
  return value === null ? "–" : `${formatNumber(value)} min`;
}

function promisesSection(report, promises) {
  const said = promises ? `The promises: answer within ${promises.respond_within} (${promises.respond_within_severe} ` +
    `when severe), fix within ${promises.fix_within} when we or a partner are at fault.` : "";
  if (!report.rows.length) return [el("p", {}, said), el("p", {}, "No outcome in this range records when the agent answered or fixed.")];
  return [el("p", {}, said),
    table(["Category", "Team", "Answered in time", "Answer p50", "Answer p90", "Fixed in time", "Fix p50", "Fix p90"],
      report.rows.map((r) => el("tr", {},
        el("th", { scope: "row", text: r.category }),
        el("td", { text: r.team }),
        el("td", { class: "num", text: keptText(r.respond) }),
        el("td", { class: "num", text: minutes(r.respond.p50_minutes) }),
        el("td", { class: "num", text: minutes(r.respond.p90_minutes) }),
        el("td", { class: "num", text: keptText(r.fix) }),
        el("td", { class: "num", text: minutes(r.fix.p50_minutes) }),
        el("td", { class: "num", text: minutes(r.fix.p90_minutes) }))),
      "Promises kept, fewest first"),
    barChart("Share of promises kept (answer, then fix)", report.rows.flatMap((r) => [
      { label: `${r.category} · ${r.team} · answer`, value: Number(r.respond.kept_share || 0), text: keptText(r.respond) },
      { label: `${r.category} · ${r.team} · fix`, value: Number(r.fix.kept_share || 0), text: keptText(r.fix), marker: "second" },
    ]).filter((bar) => bar.text !== "–"), "The table above has the figures.")];
}

function fieldFor(path) {
  return { from: "reports-from", to: "reports-to", group_by: "reports-group" }[path] || null;
}

export function setupReports(promisesOf) {
  const form = document.getElementById("reports-form");
  const errorBox = document.getElementById("reports-error");
  const today = new Date();
  const first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 2, 1)).toISOString().slice(0, 10);
  document.getElementById("reports-from").value = first;
  document.getElementById("reports-to").value = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    clearError(errorBox);
    const value = (id) => document.getElementById(id).value.trim();
    const groupBy = value("reports-group");
    const range = `from=${encodeURIComponent(value("reports-from"))}&to=${encodeURIComponent(value("reports-to"))}`;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const parts = ["spend", "diagnose", "promises"].map((name) => document.getElementById(`report-${name}`));
    for (const part of parts) part.replaceChildren(el("p", {}, "Loading…"));
    try {
      const [spend, diagnose, promises] = await Promise.all([
        api("GET", `/v1/reports/spend?${range}&group_by=${groupBy}&period=month`),
        api("GET", `/v1/reports/diagnose?${range}`),
        api("GET", `/v1/reports/promises?${range}`),
      ]);
      parts[0].replaceChildren(...spendSection(spend, groupBy));
      parts[1].replaceChildren(...diagnoseSection(diagnose));
      parts[2].replaceChildren(...promisesSection(promises, promisesOf()));
      document.getElementById("reports-result").hidden = false;
    } catch (error) {
      for (const part of parts) part.replaceChildren();
      showError(errorBox, error, "The reports could not be loaded", showFieldErrors(form, error.errors, fieldFor));
    } finally {
      button.disabled = false;
    }
  });
}
