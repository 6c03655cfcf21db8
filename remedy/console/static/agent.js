// Agent page: an incident in (POST /v1/recommendations), ranked plans out, accept one
// (POST /v1/decisions/<id>/accept), conflicts and field errors explained.
import { api, clearError, clearFieldErrors, el, money, showError, showFieldErrors, startPage,
  table } from "./api.js";

const form = document.getElementById("incident-form");
const formError = document.getElementById("incident-error");
const section = document.getElementById("decision");
const result = document.getElementById("accept-result");
const TEXT_FIELDS = ["customer_id", "customer_value", "loss_amount", "currency", "category",
  "channel", "locale", "fault_type"];

// Severity goes as an integer when it is one; anything else goes as typed, for the API to refuse.
function integerOrRaw(value) {
  return /^-?\d+$/.test(value.trim()) ? Number.parseInt(value, 10) : value;
}

function incidentRequest() {
  const value = (id) => document.getElementById(id).value.trim();
  const incident = { severity: integerOrRaw(document.getElementById("severity").value) };
  for (const name of TEXT_FIELDS) incident[name] = value(name);
  incident.currency = incident.currency.toUpperCase();
  incident.churn_threat = document.getElementById("churn_threat").checked;
  if (value("external_id")) incident.external_id = value("external_id");
  const body = { incident };
  if (value("team")) body.team = value("team");
  return body;
}

// "incident.severity" -> "severity", "team" -> "team"; the incident as a whole -> none.
function fieldFor(path) {
  const name = path.startsWith("incident.") ? path.slice("incident.".length) : path;
  return /^[a-z_]+$/.test(name) ? name : null;
}

// ISO 8601 durations the talking points use (PT4H, P1D, PT30M) in words.
function duration(iso) {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(iso || "");
  if (!match) return iso;
  const [, days, hours, minutes] = match;
  const parts = [];
  if (days) parts.push(`${days} day${days === "1" ? "" : "s"}`);
  if (hours) parts.push(`${hours} hour${hours === "1" ? "" : "s"}`);
  if (minutes) parts.push(`${minutes} minute${minutes === "1" ? "" : "s"}`);
  return parts.join(" ") || iso;
}

function planTitle(plan) {
  return plan.actions.map((action) => action.item_id).join(" + ");
}

function renderPlan(decision, plan, index) {
  const c = plan.currency;
  const headingId = `plan-${index + 1}-heading`;
  const actions = table(["Action", "Kind", "Value to customer", "Cost to us"],
    plan.actions.map((a) => el("tr", {},
      el("td", {}, a.label, a.requires_approval ? el("span", { class: "badge" }, "needs approval") : null),
      el("td", { text: a.level ? `${a.kind} (${a.level})` : a.kind }),
      el("td", { class: "num", text: money(a.value, c) }),
      el("td", { class: "num", text: money(a.cost, c) }))));
  const talking = plan.talking_points;
  return el("article", { class: "plan", "aria-labelledby": headingId, "data-plan-id": plan.plan_id },
    el("h3", { id: headingId }, `Plan ${index + 1}: ${planTitle(plan)}`,
      plan.requires_approval ? el("span", { class: "badge warn" }, "requires approval") : null),
    el("dl", { class: "facts" },
      el("dt", { text: "Total cost" }), el("dd", { class: "cost", text: money(plan.total_cost, c) }),
      el("dt", { text: "Value to customer" }), el("dd", { text: money(plan.total_value, c) }),
      el("dt", { text: "Expected net value" }), el("dd", { text: money(plan.expected_net_value, c) }),
      el("dt", { text: "P(stay)" }), el("dd", { text: plan.p_stay }),
      el("dt", { text: "Expected referrals" }), el("dd", { text: plan.expected_referrals })),
    actions,
    el("h4", { text: "Why" }),
    el("ul", { class: "reasons" }, plan.reasons.map((reason) => el("li", { text: reason }))),
    plan.rules.length ? el("p", {}, "Rules fired: ", plan.rules.join(", ")) : null,
    talking ? el("details", { open: index === 0 },
      el("summary", {}, `Talking points (${talking.language}, respond within ${duration(talking.respond_within)})`),
      el("ol", {}, talking.points.map((point) => el("li", { text: point })))) : null,
    el("button", { type: "button", class: "accept", onclick: () => accept(decision, plan, index) },
      `Accept plan ${index + 1}`));
}

function renderDetails(decision) {
  const c = decision.currency;
  const caps = decision.caps;
  const children = [
    el("h3", { text: "Incident cap" }),
    el("p", {}, `Cap ${money(caps.amount, c)}, set by ${caps.binding}` +
      (caps.factor !== "1" ? ` (rule factor ${caps.factor})` : "") +
      `; plans over ${money(caps.approval_threshold, c)} need approval.`),
    table(["Term", "Amount"], Object.entries(caps.terms).map(([term, amount]) =>
      el("tr", {}, el("td", { text: term }), el("td", { class: "num", text: money(amount, c) })))),
  ];
  if (decision.dropped.length) {
    children.push(el("h3", { text: "Better-scoring plans left out" }),
      table(["Plan", "Cost", "Expected net value", "Why left out"], decision.dropped.map((d) =>
        el("tr", {}, el("td", { text: d.plan_id.replaceAll("+", " + ") }),
          el("td", { class: "num", text: money(d.total_cost, c) }),
          el("td", { class: "num", text: money(d.expected_net_value, c) }),
          el("td", { text: d.reason })))));
  }
  const excluded = Object.entries(decision.excluded_items);
  if (excluded.length) {
    children.push(el("h3", { text: "Items not offered" }),
      el("ul", {}, excluded.map(([item, why]) => el("li", {}, `${item}: ${why}`))));
  }
  if (decision.notes.length) {
    children.push(el("h3", { text: "Notes" }),
      el("ul", {}, decision.notes.map((note) => el("li", { text: note }))));
  }
  children.push(el("p", { class: "muted" }, "Versions: " +
    Object.entries(decision.versions).map(([k, v]) => `${k} ${v}`).join(", ")));
  document.getElementById("decision-details").replaceChildren(...children);
}

function renderDecision(decision) {
  section.hidden = false;
  result.replaceChildren();
  document.getElementById("decision-summary").textContent =
    `Decision ${decision.decision_id} for team ${decision.team}: ${decision.plans.length} plan(s), ` +
    `best first, from ${decision.candidates_considered} candidates.`;
  const plans = document.getElementById("plans");
  if (!decision.plans.length) {
    plans.replaceChildren(el("p", {}, "No plan fits the guardrails; see the notes below."));
  } else {
    plans.replaceChildren(...decision.plans.map((plan, index) => renderPlan(decision, plan, index)));
  }
  renderDetails(decision);
}

// A 409 from accept in words: which limit would break, or what state the decision is in.
function explainConflict(error) {
  const errors = error.errors || {};
  if (errors.limit) {
    return { lead: "Not accepted: the plan does not fit the budget.", lines: errors.limit };
  }
  if (errors.status) {
    const lines = errors.status.map((message) => {
      const match = /is (\w+); (\w+) needs it to be (.+)$/.exec(message);
      if (!match) return message;
      const [, state, action, wanted] = match;
      const words = state.replaceAll("_", " ");
      return `This decision is already ${words}, so it cannot be ${action}ed again ` +
        `(${action} works only on a ${wanted.replaceAll("_", " ")} decision).`;
    });
    return { lead: "Not accepted: the decision was already acted on.", lines };
  }
  return { lead: "Not accepted: it conflicts with the current state.", lines: [error.message] };
}

async function accept(decision, plan, index) {
  result.replaceChildren(el("p", {}, `Accepting plan ${index + 1}…`));
  try {
    const answer = await api("POST", `/v1/decisions/${decision.decision_id}/accept`, { plan_id: plan.plan_id });
    const c = answer.currency;
    if (answer.status === "reserved") {
      const r = answer.reservation;
      result.replaceChildren(el("div", { class: "ok" },
        el("p", {}, el("strong", {}, `Plan ${index + 1} accepted: reserved`),
          ` ${money(r.reserved, c)} from pool ${r.pool}, until ${r.expires_at}.`)));
    } else if (answer.status === "pending_approval") {
      result.replaceChildren(el("div", { class: "ok" },
        el("p", {}, el("strong", {}, `Plan ${index + 1} sent for approval`),
          ` (${money(answer.total_cost, c)}): finance must approve it before anything is reserved.`)));
    } else {
      result.replaceChildren(el("p", {}, `Decision is now ${answer.status}.`));
    }
  } catch (error) {
    if (error.status === 409) {
      const { lead, lines } = explainConflict(error);
      result.replaceChildren(el("div", { class: "error", role: "alert" },
        el("p", {}, el("strong", { text: lead }), " (409 Conflict)"),
        el("ul", {}, lines.map((line) => el("li", { text: line }))),
        el("p", { class: "muted" }, `The service said: ${error.message}`)));
    } else {
      const box = el("div", { class: "error", role: "alert" });
      showError(box, error, "Not accepted");
      result.replaceChildren(box);
    }
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  clearError(formError);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    renderDecision(await api("POST", "/v1/recommendations", incidentRequest()));
  } catch (error) {
    section.hidden = true;
    const unplaced = showFieldErrors(form, error.errors, fieldFor);
    const placed = Object.keys(error.errors || {}).length - Object.keys(unplaced).length;
    showError(formError, error, placed ? "Please correct the fields marked below" : "No recommendation",
      unplaced);
  } finally {
    button.disabled = false;
  }
});

startPage("agent").then((who) => {
  if (who && who.team) document.getElementById("team").value = who.team;
});
