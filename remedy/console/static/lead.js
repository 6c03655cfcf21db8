// The lead's desk: incidents at risk (GET /v1/incidents/at-risk), the approvals waiting
// (GET /v1/approvals, cards from approval_cards.js) and the repeat victims
// (GET /v1/customers/repeat-victims), read again every 15 s; times tick every second on the
// server's clock. Why an incident is at risk is said by the API in the reader's language (its
// reason codes travel beside the words). A lead's key sees its own team's only.
import { api, clearError, el, money, showError, startPage, table } from "./api.js";
import { approvalCard, busyWith, fixLeft, moveOn, serverClock, tick } from "./approval_cards.js";

const REFRESH_MS = 15000;
const byId = (id) => document.getElementById(id);
const desk = byId("page-body");
const queue = byId("queue");
const queueStatus = byId("queue-status");
let who = null;
let shownQueue = "";

function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined,
    { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }) : "–";
}

function atRiskRow(row) {
  const ticket = row.external_id ? `${row.customer_id} (ticket ${row.external_id})` : row.customer_id;
  const codes = row.reason_codes.map((reason) => reason.code).join(" ");
  return el("tr", { "data-decision-id": row.decision_id, "data-codes": codes },
    el("th", { scope: "row" }, el("ul", { class: "why" }, row.reasons.map((line) => el("li", { text: line })))),
    el("td", { text: ticket }),
    el("td", { text: row.team }),
    el("td", { class: "money" }, money(row.amount, row.currency)),
    el("td", {}, row.fix_by
      ? el("span", { class: "fix-left", "data-fix-by": row.fix_by }, fixLeft(row.fix_by))
      : "no fix promised"),
    el("td", { class: "money" }, money(row.customer_value, row.currency)),
    el("td", { text: [row.churn_threat ? "threatens to leave" : "",
      row.public ? `public${row.reach ? ` (reach ${Number(row.reach).toLocaleString()})` : ""}` : ""]
      .filter(Boolean).join("; ") || "–" }),
    el("td", { text: row.plan.join(" + ") || "–" }));
}

async function loadAtRisk() {
  const box = byId("at-risk");
  try {
    const answer = await api("GET", "/v1/incidents/at-risk?limit=100");
    serverClock.sync(answer.as_of);
    clearError(byId("at-risk-error"));
    if (!answer.at_risk.length) {
      box.replaceChildren(el("p", { class: "ok" }, "Nothing is at risk now."));
      return;
    }
    box.replaceChildren(
      table(["Why", "Customer", "Team", "Plan's cost", "Fix", "Customer's value", "Threat", "Plan"],
        answer.at_risk.map(atRiskRow), "Incidents at risk, earliest promised fix first"),
      answer.truncated ? el("p", { class: "small muted" }, "More are at risk: the 100 most urgent are shown.") : null);
  } catch (problem) {
    showError(byId("at-risk-error"), problem, "Could not read the incidents at risk");
  }
}

function victimRow(victim) {
  const given = victim.given.map((amount) => money(amount.amount, amount.currency)).join(", ") || "nothing";
  const stayed = victim.stayed === null ? "no outcome yet" : (victim.stayed ? "stayed" : "left");
  return el("tr", { "data-customer-id": victim.customer_id },
    el("th", { scope: "row", text: victim.customer_id }),
    el("td", { class: "num", text: String(victim.incidents) }),
    el("td", { class: "num", text: String(victim.plans_given) }),
    el("td", { class: "money", text: given }),
    el("td", { class: "num", text: String(victim.apology_only) }),
    el("td", { text: `${stayed}` + (victim.outcomes ? ` (${victim.lost} of ${victim.outcomes} outcomes lost)` : "") }),
    el("td", { text: when(victim.last_at) }));
}

async function loadRepeat() {
  const box = byId("repeat");
  const days = byId("repeat-days").value;
  try {
    const answer = await api("GET", `/v1/customers/repeat-victims?days=${encodeURIComponent(days)}&limit=50`);
    clearError(byId("repeat-error"));
    box.replaceChildren(answer.customers.length
      ? table(["Customer", "Incidents", "Plans given", "Given", "Apology only", "Stayed?", "Last"],
        answer.customers.map(victimRow), `Customers failed twice or more in the last ${answer.days} days`)
      : el("p", { class: "ok" }, `Nobody was failed twice in the last ${answer.days} days.`));
  } catch (problem) {
    showError(byId("repeat-error"), problem, "Could not read the repeat victims");
  }
}

async function loadQueue({ quiet = false } = {}) {
  if (quiet && busyWith(queue)) return;
  try {
    const { approvals, as_of: asOf } = await api("GET", "/v1/approvals");
    serverClock.sync(asOf);
    clearError(byId("queue-error"));
    queueStatus.textContent = approvals.length
      ? `${approvals.length} plan${approvals.length === 1 ? "" : "s"} waiting, oldest first.`
      : "Nothing is waiting for you.";
    const ids = approvals.map((entry) => `${entry.request_id}:${entry.tier}`).join(",");
    if (quiet && ids === shownQueue) return;
    shownQueue = ids;
    queue.replaceChildren(...approvals.map((entry, index) => approvalCard(entry, index,
      { who, prefix: "desk", onDecided: (article) => moveOn(queue, queueStatus, article) })));
  } catch (problem) {
    showError(byId("queue-error"), problem, "Could not read the approvals");
  }
}

async function refresh(quiet) {
  await Promise.all([loadAtRisk(), loadQueue({ quiet }), loadRepeat()]);
  tick(desk);
  byId("desk-status").textContent = `Read ${new Date().toLocaleTimeString()}; read again every 15 s.`;
}

startPage("lead").then((caller) => {
  if (!caller) return;
  who = caller;
  queueStatus.setAttribute("tabindex", "-1");
  byId("repeat-days").addEventListener("change", loadRepeat);
  refresh(false);
  setInterval(() => refresh(true), REFRESH_MS);
  setInterval(() => tick(desk), 1000);
});
