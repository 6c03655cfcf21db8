// Approvals page: the caller's queue (GET /v1/approvals), oldest first with the waiting time;
// approve or reject each plan with a reason (POST /v1/decisions/<id>/approve | reject). A lead
// sees its team's plans of the lead tier; finance the finance tier (escalated plans included)
// or every tier. After a decision, focus moves to the next waiting plan.
import { api, clearError, describeError, el, money, showError, startPage } from "./api.js";

const REFRESH_MS = 30000;
const queue = document.getElementById("queue");
const status = document.getElementById("queue-status");
const failure = document.getElementById("queue-error");
const scope = document.getElementById("scope");
let who = null;
let shownIds = "";

// Seconds as "45 s", "12 min", "2 h 5 min", "1 d 3 h".
export function waited(seconds) {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return `${seconds} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h` + (minutes % 60 ? ` ${minutes % 60} min` : "");
  return `${Math.floor(hours / 24)} d` + (hours % 24 ? ` ${hours % 24} h` : "");
}

function tierWords(entry) {
  const who_ = entry.tier === "lead" ? "a team lead" : "finance";
  return entry.escalated
    ? `${who_} (escalated from a team lead at ${new Date(entry.escalated_at).toLocaleTimeString()})`
    : who_;
}

function card(entry, index) {
  const number = index + 1;
  const headingId = `approval-${number}-heading`;
  const reasonId = `reason-${number}`;
  const incident = entry.incident || {};
  const title = incident.external_id ? `Ticket ${incident.external_id}` : `Customer ${incident.customer_id}`;
  const reason = el("textarea", { id: reasonId, name: reasonId, maxlength: "500",
    "aria-describedby": `${reasonId}-error` });
  const error = el("p", { class: "field-error", id: `${reasonId}-error` });
  const result = el("div", { class: "card-result", role: "status" });
  const approve = el("button", { type: "button", class: "approve" }, `Approve ${title}`);
  const reject = el("button", { type: "button", class: "secondary reject" }, `Reject ${title}`);
  const article = el("article", { class: "plan approval-card", "aria-labelledby": headingId,
    "data-decision-id": entry.decision_id },
  el("h3", { id: headingId, tabindex: "-1" }, title,
    entry.escalated ? el("span", { class: "badge escalated" }, "escalated") : null,
    entry.kind === "overage" ? el("span", { class: "badge warn" }, "overage") : null),
  el("dl", { class: "card-facts" },
    el("dt", { text: entry.kind === "overage" ? "Actual cost" : "Plan" }),
    el("dd", {}, entry.kind === "overage" ? money(entry.amount, entry.currency) : entry.actions.join(" + ")),
    el("dt", { text: "Amount" }), el("dd", { class: "money" }, money(entry.amount, entry.currency)),
    el("dt", { text: "Waiting" }),
    el("dd", {}, `${waited(entry.waiting_seconds)} (since ${new Date(entry.requested_at).toLocaleTimeString()})`),
    el("dt", { text: "Decides" }), el("dd", {}, tierWords(entry)),
    el("dt", { text: "Team" }), el("dd", { text: entry.team }),
    el("dt", { text: "Incident" }),
    el("dd", {}, `customer ${incident.customer_id}, severity ${incident.severity}, ${incident.fault_type} fault, ` +
      `${incident.category}, loss `, el("span", { class: "money" }, money(incident.loss_amount, entry.currency)))),
  el("div", { class: "field" },
    el("label", { for: reasonId }, "Reason (required to reject; the agent reads it)"), reason, error),
  el("div", { class: "card-actions" }, approve, reject),
  result);

  async function decide(step) {
    const text = reason.value.trim();
    error.textContent = "";
    reason.removeAttribute("aria-invalid");
    if (step === "reject" && !text) {
      reason.setAttribute("aria-invalid", "true");
      error.textContent = "Say why the plan is rejected: the agent tells the customer what happens instead.";
      reason.focus();
      return;
    }
    approve.disabled = reject.disabled = true;
    result.replaceChildren(el("p", {}, step === "approve" ? "Approving…" : "Rejecting…"));
    try {
      const answer = await api("POST", `/v1/decisions/${encodeURIComponent(entry.decision_id)}/${step}`,
        { reason: text }, undefined, { "Idempotency-Key": `console:${step}:${entry.request_id}` });
      const done = step === "approve"
        ? `Approved: the plan is ${answer.status.replaceAll("_", " ")}` +
          (answer.reservation ? ` (${money(answer.status === "fulfilled" ? answer.reservation.committed
            : answer.reservation.reserved, answer.currency)} from pool ${answer.reservation.pool}).` : ".")
        : "Rejected: the agent sees your reason.";
      result.replaceChildren(el("div", { class: "ok" }, el("p", {}, el("strong", { text: done }))));
      article.dataset.done = "true";
      reason.disabled = true;
      moveOn(article);
    } catch (problem) {
      approve.disabled = reject.disabled = false;
      if (problem.errors && problem.errors.reason) {
        reason.setAttribute("aria-invalid", "true");
        error.textContent = problem.errors.reason.join(" ");
        reason.focus();
        result.replaceChildren();
        return;
      }
      const { status: code, lines } = describeError(problem);
      result.replaceChildren(el("div", { class: "error", role: "alert" },
        el("p", {}, el("strong", { text: step === "approve" ? "Not approved" : "Not rejected" }),
          code ? ` (${code})` : ""),
        el("ul", {}, lines.map((line) => el("li", { text: line })))));
    }
  }
  approve.addEventListener("click", () => decide("approve"));
  reject.addEventListener("click", () => decide("reject"));
  return article;
}

// After a decision: focus the next plan still waiting, or say the queue is done.
function moveOn(article) {
  const waiting = [...queue.querySelectorAll("article.approval-card:not([data-done])")];
  const next = waiting.find((other) => article.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING)
    || waiting[0];
  const left = waiting.length;
  status.textContent = left ? `Decided. ${left} plan${left === 1 ? "" : "s"} still waiting.` : "Decided. Nothing else is waiting.";
  if (next) next.querySelector("h3").focus();
  else status.focus();
}

function busyTyping() {
  return [...queue.querySelectorAll("textarea")].some((area) => area.value.trim())
    || queue.contains(document.activeElement);
}

async function load({ quiet = false } = {}) {
  if (quiet && busyTyping()) return;
  const query = who && who.role !== "lead" ? `?scope=${encodeURIComponent(scope.value)}` : "";
  try {
    const { approvals } = await api("GET", `/v1/approvals${query}`);
    clearError(failure);
    const ids = approvals.map((entry) => `${entry.request_id}:${entry.tier}`).join(",");
    const checked = `checked ${new Date().toLocaleTimeString()}`;
    status.textContent = approvals.length
      ? `${approvals.length} plan${approvals.length === 1 ? "" : "s"} waiting, oldest first (${checked}).`
      : `Nothing is waiting for you (${checked}).`;
    if (quiet && ids === shownIds) return;
    shownIds = ids;
    queue.replaceChildren(...approvals.map(card));
  } catch (problem) {
    showError(failure, problem, "Could not read the queue");
  }
}

startPage("approvals").then((caller) => {
  if (!caller) return;
  who = caller;
  const team = caller.team ? ` of team ${caller.team}` : "";
  document.getElementById("queue-help").textContent = caller.role === "lead"
    ? `Plans${team} that a team lead approves, oldest first. A plan waiting longer than the caps allow goes to finance.`
    : `Plans${team} waiting for approval, oldest first, with how long each has waited.`;
  document.getElementById("scope-field").hidden = caller.role === "lead";
  scope.addEventListener("change", () => load());
  document.getElementById("refresh").addEventListener("click", () => load());
  status.setAttribute("tabindex", "-1");
  load();
  setInterval(() => load({ quiet: true }), REFRESH_MS);
});
