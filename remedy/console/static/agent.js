// Agent page: an incident in (POST /v1/recommendations), ranked plans out as compact cards,
// accept one (POST /v1/decisions/<id>/accept); the cap, left-out plans and notes behind a
// disclosure.
import { api, el, money, startPage, table } from "./api.js";
import { clearIncidentError, incidentRequest, showIncidentError } from "./incident.js";
import { capTerm, labeller, loadLabels, renderPlans, showLoading } from "./plans.js";

const form = document.getElementById("incident-form");
const formError = document.getElementById("incident-error");
const section = document.getElementById("decision");
const plans = document.getElementById("plans");
const details = document.getElementById("decision-details");
let shown = null;

function renderDetails(decision, names) {
  const c = decision.currency;
  const caps = decision.caps;
  const children = [
    el("h3", { text: "Incident cap" }),
    el("p", {}, `Plans may cost at most ${money(caps.amount, c)}, set by ${capTerm(caps.binding)}` +
      (caps.factor !== "1" ? ` (times ${caps.factor} from the rules)` : "") +
      `; plans over ${money(caps.approval_threshold, c)} need approval.`),
    table(["Limit", "Amount"], Object.entries(caps.terms).map(([term, amount]) =>
      el("tr", {}, el("td", { text: sentenceCase(capTerm(term)) }), el("td", { class: "num money", text: money(amount, c) })))),
  ];
  if (decision.dropped.length) {
    children.push(el("h3", { text: "Better-scoring plans left out" }),
      table(["Plan", "Cost", "Expected net value", "Why left out"], decision.dropped.map((d) =>
        el("tr", {}, el("td", { text: names.plan(d.plan_id) }),
          el("td", { class: "num money", text: money(d.total_cost, c) }),
          el("td", { class: "num money", text: money(d.expected_net_value, c) }),
          el("td", { text: d.reason })))));
  }
  const excluded = Object.entries(decision.excluded_items);
  if (excluded.length) {
    children.push(el("h3", { text: "Items not offered" }),
      el("ul", {}, excluded.map(([item, why]) => el("li", {}, `${names.item(item)}: ${why}`))));
  }
  if (decision.notes.length) {
    children.push(el("h3", { text: "Notes" }),
      el("ul", {}, decision.notes.map((note) => el("li", { text: note }))));
  }
  children.push(el("p", { class: "muted small" }, `Decision ${decision.decision_id}, team ${decision.team}, ` +
    `${decision.candidates_considered} candidates; versions: ` +
    Object.entries(decision.versions).map(([k, v]) => `${k} ${v}`).join(", ")));
  details.replaceChildren(el("details", {},
    el("summary", {}, "Cap, left-out plans and notes"), ...children));
}

function sentenceCase(text) {
  return text[0].toUpperCase() + text.slice(1);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearIncidentError(form, formError);
  if (shown) shown.stop();
  shown = null;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  section.hidden = false;
  details.replaceChildren();
  showLoading(plans);
  try {
    const [decision, labels] = await Promise.all([
      api("POST", "/v1/recommendations", incidentRequest()), loadLabels()]);
    shown = renderPlans(plans, decision, labels);
    renderDetails(decision, labeller(decision, labels));
  } catch (error) {
    section.hidden = true;
    plans.replaceChildren();
    showIncidentError(form, formError, error);
  } finally {
    button.disabled = false;
  }
});

startPage("agent").then((who) => {
  if (who && who.team) document.getElementById("team").value = who.team;
});
