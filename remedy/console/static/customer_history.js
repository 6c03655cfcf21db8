// A customer's earlier incidents (GET /v1/customers/<id>/history), newest first: what we gave
// them, whether only an apology could be offered, whether we kept the promises and whether they
// stayed. The panel shows it beside the plans, so the agent knows whom they are talking to.
import { api, el } from "./api.js";

const PROMISE = {
  kept: "kept",
  broken: "broken",
  unrecorded: "not recorded",
  open: "still due",
};

function day(iso) {
  return new Date(iso).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

function entryLine(entry, money) {
  const plan = entry.plan.length ? entry.plan.join(" + ") : "no plan accepted";
  const given = Number(entry.given) ? ` (${money(entry.given, entry.currency)} given)` : "";
  const promises = [
    entry.respond_promise ? `answer ${PROMISE[entry.respond_promise] || entry.respond_promise}` : null,
    entry.fix_promise ? `fix ${PROMISE[entry.fix_promise] || entry.fix_promise}` : null,
  ].filter(Boolean).join(", ");
  const outcome = entry.outcome ? (entry.outcome.retained ? "stayed" : "left") : "no outcome yet";
  return el("li", { "data-decision-id": entry.decision_id },
    el("strong", { text: `${day(entry.decided_at)}: ${entry.category}, severity ${entry.severity}` }),
    entry.external_id ? ` (ticket ${entry.external_id})` : "",
    el("br"),
    `${plan}${given}`,
    entry.apology_only ? el("span", { class: "badge warn" }, "apology only") : null,
    el("br"),
    el("span", { class: "muted" }, [promises, outcome].filter(Boolean).join("; ")));
}

function summaryLine(summary, money) {
  if (!summary.decisions) return "No earlier incidents with this team.";
  const given = summary.given.map((amount) => money(amount.amount, amount.currency)).join(", ") || "nothing";
  const stayed = summary.stayed === null ? "no outcome yet" : (summary.stayed ? "stayed" : "left");
  const n = summary.incidents;
  return `${n} incident${n === 1 ? "" : "s"} before; given ${given}; promises kept ${summary.promises_kept}, ` +
    `broken ${summary.promises_broken}; last outcome: ${stayed}.`;
}

// Read and show the customer's history in `box` ({summary, list} elements); `exclude`: the
// decision just made (it is not an earlier incident). Resolves to the history, or null.
export async function showHistory(box, customerId, money, { exclude = null, limit = 5 } = {}) {
  if (!customerId) {
    box.section.hidden = true;
    return null;
  }
  box.section.hidden = false;
  box.summary.textContent = "Reading the customer's earlier incidents…";
  try {
    const history = await api("GET",
      `/v1/customers/${encodeURIComponent(customerId)}/history?limit=${limit + (exclude ? 1 : 0)}`);
    const entries = history.entries.filter((entry) => entry.decision_id !== exclude).slice(0, limit);
    const summary = { ...history.summary };
    if (exclude && history.entries.some((entry) => entry.decision_id === exclude)) {
      summary.decisions -= 1;
      summary.incidents = Math.max(0, summary.incidents - 1);
    }
    box.summary.textContent = entries.length ? summaryLine(summary, money) : "No earlier incidents with this team.";
    box.list.replaceChildren(...entries.map((entry) => entryLine(entry, money)));
    return history;
  } catch (problem) {
    box.summary.textContent = `The customer's history could not be read (${problem.message}).`;
    box.list.replaceChildren();
    return null;
  }
}
