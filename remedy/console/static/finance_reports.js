// Reports (the finance cockpit's section and the reports page a lead uses): spend (GET
// /v1/reports/spend, grouped by team, category, fault or month), failures by cost (GET
// /v1/reports/diagnose, counted by ticket), the promises kept (GET /v1/reports/promises) and
// the honesty audit (GET /v1/reports/audit: touchpoints by cost), each as a table with a CSV
// export button and a bar chart, money in the reader's locale.
import { api, clearError, clearFieldErrors, download, el, showError, showFieldErrors, table } from "./api.js";
import { barChart } from "./charts.js";
import { addDecimals, formatMoney, formatNumber, formatShare } from "./format.js";

const GROUP_NAMES = { team: "Team", category: "Category", fault_type: "Fault", period: "Month" };

function byCurrency(rows) {
  const groups = new Map();
  for (const row of rows) groups.set(row.currency, [...(groups.get(row.currency) || []), row]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

// A button that saves the report's rows as CSV (the same query with format=csv).
function exportButton(what, path, errorBox) {
  return el("div", { class: "actions" }, el("button", { type: "button", class: "secondary",
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      clearError(errorBox);
      try {
        await download(`${path}&format=csv`, `${what.replace(/\W+/g, "-")}.csv`);
      } catch (error) {
        showError(errorBox, error, "The export failed");
      } finally {
        button.disabled = false;
      }
    } }, `Export ${what} as CSV`));
}

function spendSection(report, groupBy, exportRows) {
  const name = GROUP_NAMES[groupBy];
  if (!report.rows.length) return [el("p", {}, "No plan was accepted in this range.")];
  const parts = [exportRows, table([name, "Currency", "Committed", "Reserved", "Plans"],
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

function diagnoseSection(report, exportRows) {
  if (!report.rows.length) return [el("p", {}, "No incident was decided in this range.")];
  const parts = [exportRows, table(["Month", "Category", "Fault", "Tickets", "Decisions", "Remedy cost", "Retention", "Lost customer value", "Cost to the company"],
    report.rows.map((r) => el("tr", {},
      el("th", { scope: "row", text: r.month }),
      el("td", { text: r.category }),
      el("td", { text: r.fault_type }),
      el("td", { class: "num", text: formatNumber(r.incidents) }),
      el("td", { class: "num", text: formatNumber(r.decisions) }),
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

function promisesSection(report, promises, exportRows) {
  const said = promises ? `The promises: answer within ${promises.respond_within} (${promises.respond_within_severe} ` +
    `when severe), fix within ${promises.fix_within} when we or a partner are at fault.` : "";
  if (!report.rows.length) return [el("p", {}, said), el("p", {}, "No outcome in this range records when the agent answered or fixed.")];
  return [el("p", {}, said), exportRows,
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

function touchpointName(row) {
  return row.touchpoint === null ? "not said" : row.touchpoint;
}

function changeText(row) {
  const sign = row.cost_change.startsWith("-") ? "" : "+";
  const share = row.cost_change_share === null ? "new" : `${sign}${formatShare(row.cost_change_share)}`;
  return `${sign}${formatMoney(row.cost_change, row.currency)} (${share})`;
}

function auditSection(report, exportRows) {
  if (!report.rows.length) return [el("p", {}, "No ticket was first asked in this range.")];
  const previous = `${report.previous_from.slice(0, 10)} to ${report.from.slice(0, 10)}`;
  const parts = [exportRows, table(["Touchpoint", "Currency", "Cost", "Remedies given", "Customer value lost",
    "Customers lost", "Promises broken", "Tickets", "Repeat victims", "Previous period's cost", "Change"],
  report.rows.map((r) => el("tr", {},
    el("th", { scope: "row", text: touchpointName(r) }),
    el("td", { text: r.currency }),
    el("td", { class: "num", text: formatMoney(r.cost, r.currency) }),
    el("td", { class: "num", text: formatMoney(r.remedies, r.currency) }),
    el("td", { class: "num", text: formatMoney(r.lost_customer_value, r.currency) }),
    el("td", { class: "num", text: formatNumber(r.lost_customers) }),
    el("td", { class: "num", text: `${formatNumber(r.promises_broken)} (answer ${formatNumber(r.respond_broken)}, fix ${formatNumber(r.fix_broken)})` }),
    el("td", { class: "num", text: formatNumber(r.tickets) }),
    el("td", { class: "num", text: formatNumber(r.repeat_victims) }),
    el("td", { class: "num", text: formatMoney(r.previous_cost, r.currency) }),
    el("td", { class: "num", text: changeText(r) }))),
  `Touchpoints by cost, costliest first (previous period: ${previous})`)];
  for (const [currency, rows] of byCurrency(report.rows)) {
    parts.push(barChart(`What each touchpoint's failures cost in ${currency} (this period, then the previous)`,
      rows.flatMap((r) => [
        { label: `${touchpointName(r)} · now`, value: Number(r.cost), text: formatMoney(r.cost, currency) },
        { label: `${touchpointName(r)} · before`, value: Number(r.previous_cost), text: formatMoney(r.previous_cost, currency), marker: "second" },
      ]), "The table above has the figures."));
  }
  return parts;
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
    const parts = ["spend", "diagnose", "promises", "audit"].map((name) => document.getElementById(`report-${name}`));
    for (const part of parts) part.replaceChildren(el("p", {}, "Loading…"));
    const paths = {
      spend: `/v1/reports/spend?${range}&group_by=${groupBy}&period=month`,
      diagnose: `/v1/reports/diagnose?${range}`,
      promises: `/v1/reports/promises?${range}`,
      audit: `/v1/reports/audit?${range}`,
    };
    const exportOf = (what, name) => exportButton(what, paths[name], errorBox);
    try {
      const [spend, diagnose, promises, audit] = await Promise.all(
        ["spend", "diagnose", "promises", "audit"].map((name) => api("GET", paths[name])));
      parts[0].replaceChildren(...spendSection(spend, groupBy, exportOf(`spend by ${GROUP_NAMES[groupBy].toLowerCase()}`, "spend")));
      parts[1].replaceChildren(...diagnoseSection(diagnose, exportOf("failures by cost", "diagnose")));
      parts[2].replaceChildren(...promisesSection(promises, promisesOf(), exportOf("promises kept", "promises")));
      parts[3].replaceChildren(...auditSection(audit, exportOf("honesty audit", "audit")));
      document.getElementById("reports-result").hidden = false;
    } catch (error) {
      for (const part of parts) part.replaceChildren();
      showError(errorBox, error, "The reports could not be loaded", showFieldErrors(form, error.errors, fieldFor));
    } finally {
      button.disabled = false;
    }
  });
}
