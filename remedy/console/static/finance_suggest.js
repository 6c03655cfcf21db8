// Finance cockpit, suggested caps: a suggestion (the result of remedy/whatif/suggest.py's
// `suggest_caps`, from `remedy budgets suggest-caps` or a background job) beside today's caps,
// with what it changes and its what-if one click away. The search is long work, so the page
// never starts it itself: whoever runs it hands the result to `showSuggestion`.
import { el, table } from "./api.js";
import { formatMoney, formatShare } from "./format.js";
import { whatIfProposal } from "./finance_whatif.js";

const ROWS = [
  ["Spend over the range", (t, c) => formatMoney(t.spend, c)],
  ["Projected per period", (t, c) => formatMoney(t.projected_spend, c)],
  ["Expected net value", (t, c) => formatMoney(t.expected_net_value, c)],
  ["Keeps within the pool", (t) => (t.feasible ? "yes" : "no")],
  ["Approvals needed", (t) => String(t.approvals_needed)],
  ["Share hitting the cap", (t) => formatShare(t.capped_share)],
  ["Expected retention", (t) => formatShare(t.expected_retention)],
  ["Factors", (t) => Object.entries(t.factors).map(([k, v]) => `${k} ×${v}`).join(", ")],
];

export function showSuggestion(result, box = document.getElementById("suggestion")) {
  const currency = result.currency;
  const { today, suggested } = result;
  box.replaceChildren(
    el("p", {}, `For the pool ${result.team} (${formatMoney(result.limit, currency)} per ${result.period}), ` +
      `over the ${today.decisions} decision(s) logged from ${result.from.slice(0, 10)} to ${result.to.slice(0, 10)} ` +
      `that spend from it; ${result.trials} settings tried.`),
    table(["Measure", "Today's caps", "Suggested"], ROWS.map(([name, show]) => el("tr", {},
      el("th", { scope: "row", text: name }),
      el("td", { class: "num", text: show(today, currency) }),
      el("td", { class: "num", text: show(suggested, currency) }))), "Today's caps beside the suggestion"),
    result.changes.length
      ? table(["Field", "Today", "Suggested"], result.changes.map((c) => el("tr", {},
        el("th", { scope: "row", text: c.path }),
        el("td", { class: "num", text: c.today }),
        el("td", { class: "num", text: c.suggested }))), "What the suggestion changes")
      : el("p", {}, "The suggestion is today's caps."),
    result.notes.length ? el("ul", { class: "notes" }, result.notes.map((n) => el("li", { text: n }))) : null,
    result.changes.length ? el("button", { type: "button", class: "secondary",
      onclick: () => whatIfProposal({ caps: suggested.caps }, "the suggested caps") }, "What-if of the suggested caps") : null);
  return box;
}
