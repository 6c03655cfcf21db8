// Approvals page: the caller's queue (GET /v1/approvals), oldest first with the waiting time
// ticking every second against the fix's deadline (approval_cards.js); approve or reject each
// plan with a reason (POST /v1/decisions/<id>/approve | reject). A lead sees its team's plans of
// the lead tier, escalated ones too ("escalated to finance"); finance the finance tier
// (escalated plans included) or every tier. After a decision, focus moves to the next waiting
// plan. The queue is read again every 15 s unless a reason is being typed.
import { api, clearError, showError, startPage } from "./api.js";
import { approvalCard, busyWith, moveOn, serverClock, tick } from "./approval_cards.js";

const REFRESH_MS = 15000;
const queue = document.getElementById("queue");
const status = document.getElementById("queue-status");
const failure = document.getElementById("queue-error");
const scope = document.getElementById("scope");
let who = null;
let shownIds = "";

async function load({ quiet = false } = {}) {
  if (quiet && busyWith(queue)) return;
  const query = who && who.role !== "lead" ? `?scope=${encodeURIComponent(scope.value)}` : "";
  try {
    const { approvals, as_of: asOf } = await api("GET", `/v1/approvals${query}`);
    serverClock.sync(asOf);
    clearError(failure);
    const ids = approvals.map((entry) => `${entry.request_id}:${entry.tier}`).join(",");
    const checked = `checked ${new Date().toLocaleTimeString()}`;
    status.textContent = approvals.length
      ? `${approvals.length} plan${approvals.length === 1 ? "" : "s"} waiting, oldest first (${checked}).`
      : `Nothing is waiting for you (${checked}).`;
    if (quiet && ids === shownIds) return;
    shownIds = ids;
    queue.replaceChildren(...approvals.map((entry, index) => approvalCard(entry, index,
      { who, onDecided: (article) => moveOn(queue, status, article) })));
  } catch (problem) {
    showError(failure, problem, "Could not read the queue");
  }
}

startPage("approvals").then((caller) => {
  if (!caller) return;
  who = caller;
  const team = caller.team ? ` of team ${caller.team}` : "";
  document.getElementById("queue-help").textContent = caller.role === "lead"
    ? `Plans${team} that a team lead approves, oldest first. A plan waiting longer than the caps allow goes to finance too, and stays here marked "escalated to finance".`
    : `Plans${team} waiting for approval, oldest first, with how long each has waited.`;
  document.getElementById("scope-field").hidden = caller.role === "lead";
  scope.addEventListener("change", () => load());
  document.getElementById("refresh").addEventListener("click", () => load());
  status.setAttribute("tabindex", "-1");
  load();
  setInterval(() => load({ quiet: true }), REFRESH_MS);
  setInterval(() => tick(queue), 1000);
});
