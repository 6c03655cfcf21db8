// Approval cards, shared by the approvals page and the lead's desk: one waiting plan (or
// overage) with what an approver weighs (the customer's value, whether they threaten to leave,
// how public the complaint is, why the plan needs approval, said by the API in the reader's
// language) and Approve / Reject with a reason. Waiting times and the fix's deadline tick every
// second on the server's clock: the queue's `as_of` says what time the server read it at, so
// the card counts on from `requested_at` and `fix_by` rather than freezing what it was told.
// An escalated plan stays on a lead's card, marked "escalated to finance".
import { api, describeError, el, money } from "./api.js";

// The server's clock as this page best knows it: its time at the last reading plus what has
// passed here since (so a page whose own clock is wrong still counts the real wait).
export const serverClock = {
  offset: 0,
  sync(asOf) {
    const server = Date.parse(asOf);
    if (!Number.isNaN(server)) this.offset = server - Date.now();
  },
  now() {
    return Date.now() + this.offset;
  },
};

// Seconds as "45 s", "12 min 05 s", "2 h 05 min", "1 d 3 h": to the second below an hour.
export function waited(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const minutes = Math.floor(total / 60);
  if (minutes < 1) return `${total} s`;
  if (minutes < 60) return `${minutes} min ${String(total % 60).padStart(2, "0")} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d` + (hours % 24 ? ` ${hours % 24} h` : "");
}

// "fix due in 12 min 05 s" / "fix overdue by 3 min 10 s", counted now.
export function fixLeft(fixBy, now = serverClock.now()) {
  const due = Date.parse(fixBy);
  if (Number.isNaN(due)) return "no fix promised";
  const left = Math.round((due - now) / 1000);
  return left >= 0 ? `fix due in ${waited(left)}` : `fix overdue by ${waited(-left)}`;
}

// Bring every live time under `container` up to now (called every second).
export function tick(container) {
  const now = serverClock.now();
  for (const node of container.querySelectorAll("[data-since]")) {
    const since = Date.parse(node.dataset.since);
    if (!Number.isNaN(since)) node.textContent = waited((now - since) / 1000);
  }
  for (const node of container.querySelectorAll("[data-fix-by]")) {
    node.textContent = fixLeft(node.dataset.fixBy, now);
    node.classList.toggle("overdue", Date.parse(node.dataset.fixBy) < now);
  }
}

function decidesWords(entry, who) {
  if (!entry.escalated) return entry.tier === "lead" ? "a team lead" : "finance";
  const at = entry.escalated_at ? ` at ${new Date(entry.escalated_at).toLocaleTimeString()}` : "";
  return who && who.role === "lead"
    ? `escalated to finance${at}; you may still answer it`
    : `finance (escalated from a team lead${at})`;
}

function customerWords(incident, currency) {
  const parts = [];
  if (incident.customer_value) parts.push(`worth ${money(incident.customer_value, currency)} a year`);
  parts.push(incident.churn_threat
    ? (incident.customer_status === "left" ? "already left" : "threatens to leave")
    : "no threat to leave");
  parts.push(incident.public
    ? `public complaint${incident.reach ? `, reach ${Number(incident.reach).toLocaleString()}` : ""}`
    : "private complaint");
  if (incident.prior_incidents) {
    parts.push(`failed ${incident.prior_incidents} time${incident.prior_incidents === 1 ? "" : "s"} before`);
  }
  return parts.join("; ");
}

// One card. `options.who`: the caller (a lead reads "escalated to finance"); `options.onDecided`:
// called with the card after an approval or a rejection.
export function approvalCard(entry, index, { who = null, onDecided = () => {}, prefix = "approval" } = {}) {
  const number = index + 1;
  const headingId = `${prefix}-${number}-heading`;
  const reasonId = `${prefix}-reason-${number}`;
  const incident = entry.incident || {};
  const title = incident.external_id ? `Ticket ${incident.external_id}` : `Customer ${incident.customer_id}`;
  const reason = el("textarea", { id: reasonId, name: reasonId, maxlength: "500",
    "aria-describedby": `${reasonId}-error` });
  const error = el("p", { class: "field-error", id: `${reasonId}-error` });
  const result = el("div", { class: "card-result", role: "status" });
  const approve = el("button", { type: "button", class: "approve" }, `Approve ${title}`);
  const reject = el("button", { type: "button", class: "secondary reject" }, `Reject ${title}`);
  const why = entry.why || [];
  const article = el("article", { class: "plan approval-card", "aria-labelledby": headingId,
    "data-decision-id": entry.decision_id, "data-escalated": entry.escalated ? "true" : null },
  el("h3", { id: headingId, tabindex: "-1" }, title,
    entry.escalated ? el("span", { class: "badge escalated" }, "escalated to finance") : null,
    entry.kind === "overage" ? el("span", { class: "badge warn" }, "overage") : null),
  el("dl", { class: "card-facts" },
    el("dt", { text: entry.kind === "overage" ? "Actual cost" : "Plan" }),
    el("dd", {}, entry.kind === "overage" ? money(entry.amount, entry.currency) : entry.actions.join(" + ")),
    el("dt", { text: "Amount" }), el("dd", { class: "money" }, money(entry.amount, entry.currency)),
    el("dt", { text: "Waiting" }),
    el("dd", {}, el("span", { class: "waited", "data-since": entry.requested_at },
      waited(entry.waiting_seconds)),
    ` (since ${new Date(entry.requested_at).toLocaleTimeString()})`),
    el("dt", { text: "Fix" }),
    el("dd", {}, entry.fix_by
      ? el("span", { class: "fix-left", "data-fix-by": entry.fix_by }, fixLeft(entry.fix_by))
      : "no fix promised"),
    el("dt", { text: "Decides" }), el("dd", { class: "decides" }, decidesWords(entry, who)),
    el("dt", { text: "Why approval" }),
    el("dd", {}, why.length ? el("ul", { class: "why" }, why.map((line) => el("li", { text: line }))) : "–"),
    el("dt", { text: "Customer" }),
    el("dd", { class: "customer" }, `${incident.customer_id}: ${customerWords(incident, entry.currency)}`),
    el("dt", { text: "Team" }), el("dd", { text: entry.team }),
    el("dt", { text: "Incident" }),
    el("dd", {}, `severity ${incident.severity}, ${incident.fault_type} fault, ` +
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
      onDecided(article);
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

// After a decision: focus the next card still waiting in `queue`, or `status` when none is.
export function moveOn(queue, status, article) {
  const waiting = [...queue.querySelectorAll("article.approval-card:not([data-done])")];
  const next = waiting.find((other) => article.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING)
    || waiting[0];
  const left = waiting.length;
  status.textContent = left ? `Decided. ${left} plan${left === 1 ? "" : "s"} still waiting.` : "Decided. Nothing else is waiting.";
  if (next) next.querySelector("h3").focus();
  else status.focus();
}

// Whether the user is busy with a card (a reason typed, focus inside): a refresh would lose it.
export function busyWith(queue) {
  return [...queue.querySelectorAll("textarea")].some((area) => area.value.trim())
    || queue.contains(document.activeElement);
}
