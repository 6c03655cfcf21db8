// The incident form shared by the agent page and the panel: read it into a request body, fill
// it from an incident, and show the API's field errors next to their fields (focus on the
// first) with a summary above the form that names the fields by their labels.
import { clearError, clearFieldErrors, describeError, el, showFieldErrors } from "./api.js";

export const FIELDS = ["external_id", "customer_id", "severity", "fault_type", "customer_value",
  "loss_amount", "currency", "category", "channel", "locale", "churn_threat"];
const TEXT_FIELDS = ["customer_id", "customer_value", "loss_amount", "currency", "category",
  "channel", "locale", "fault_type"];

const byId = (id) => document.getElementById(id);

// Severity goes as an integer when it is one; anything else goes as typed, for the API to refuse.
function integerOrRaw(value) {
  return /^-?\d+$/.test(value.trim()) ? Number.parseInt(value, 10) : value;
}

// The form as POST /v1/recommendations takes it.
export function incidentRequest() {
  const value = (id) => byId(id).value.trim();
  const incident = { severity: integerOrRaw(byId("severity").value) };
  for (const name of TEXT_FIELDS) incident[name] = value(name);
  incident.currency = incident.currency.toUpperCase();
  incident.churn_threat = byId("churn_threat").checked;
  if (value("external_id")) incident.external_id = value("external_id");
  const body = { incident };
  if (value("team")) body.team = value("team");
  return body;
}

// Fill the form from an incident ({customer_id, severity, ...}, the API's names) and a team.
// Unknown names are ignored; values are set as text, never markup.
export function fillIncident(incident, team) {
  for (const name of FIELDS) {
    if (!(name in incident) || incident[name] === null || incident[name] === undefined) continue;
    const input = byId(name);
    if (input.type === "checkbox") {
      input.checked = incident[name] === true || ["1", "true", "yes"].includes(String(incident[name]));
    } else if (input.tagName === "SELECT") {
      const value = String(incident[name]);
      if ([...input.options].some((option) => option.value === value)) input.value = value;
    } else {
      input.value = String(incident[name]);
    }
  }
  if (team) byId("team").value = String(team);
}

// "incident.severity" -> "severity", "team" -> "team"; the incident as a whole -> none.
function fieldFor(path) {
  const name = path.startsWith("incident.") ? path.slice("incident.".length) : path;
  return /^[a-z_]+$/.test(name) && byId(name) ? name : null;
}

function labelOf(form, id) {
  const label = form.querySelector(`label[for="${CSS.escape(id)}"]`);
  return label ? label.textContent.trim() : id;
}

// Show an error from POST /v1/recommendations: field errors next to their fields, focus on the
// first, and above the form a summary listing the fields by label (each a link to its field).
// Returns the id of the first field in error, or null.
export function showIncidentError(form, box, error) {
  clearFieldErrors(form);
  const unplaced = showFieldErrors(form, error.errors, fieldFor);
  const invalid = [...form.querySelectorAll("[aria-invalid=true]")];
  if (invalid.length) {
    box.replaceChildren(
      el("p", {}, el("strong", {}, invalid.length === 1
        ? "Please correct this field:" : `Please correct these ${invalid.length} fields:`)),
      el("ul", {}, invalid.map((input) => el("li", {},
        el("a", { href: `#${input.id}` }, labelOf(form, input.id)), ": ",
        form.querySelector(`#${CSS.escape(input.id)}-error`).textContent)),
      ...Object.entries(unplaced).flatMap(([, messages]) => messages.map((m) => el("p", { text: m })))));
    box.hidden = false;
    invalid[0].focus();
    return invalid[0].id;
  }
  const { status, lines } = describeError(error, unplaced);
  box.replaceChildren(
    el("p", {}, el("strong", { text: "No recommendation" }), status ? ` (${status})` : ""),
    el("ul", {}, lines.map((line) => el("li", { text: line }))));
  box.hidden = false;
  box.focus();
  return null;
}

export function clearIncidentError(form, box) {
  clearFieldErrors(form);
  clearError(box);
}
