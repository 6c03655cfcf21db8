// The agent panel, made for a help desk's side bar (an iframe about 350 px wide).
//
// The incident comes from the URL (?customer_id=c-42&severity=4&loss_amount=80.00&...: the API's
// field names, external_id for the ticket id, plus team) or from the host page:
//   host -> panel  {type: "remedy.incident", incident: {...}, team: "emea"}
//                  {type: "remedy.key", key: "rmd_..."}      (optional: see README)
//   panel -> host  {type: "remedy.ready"}  when it listens
//                  {type: "remedy.accepted", decision_id, plan_id, status}
//                  {type: "remedy.approval", decision_id, plan_id, status, decided_role, reason}
//                                  when the approver (a team lead or finance) answered
// Messages are taken only from the parent window at an origin of the server's frame-ancestors
// allow-list (REMEDY_PANEL_FRAME_ANCESTORS), and sent only to those origins.
import { api, getKey, signIn, signOut } from "./api.js";
import { FIELDS, clearIncidentError, fillIncident, incidentRequest, showIncidentError } from "./incident.js";
import { loadLabels, renderPlans, showLoading } from "./plans.js";

const ROLES = ["agent", "lead", "admin"];
const form = document.getElementById("incident-form");
const formError = document.getElementById("incident-error");
const incidentDetails = document.getElementById("incident-details");
const section = document.getElementById("decision");
const plans = document.getElementById("plans");
const notice = document.getElementById("page-notice");
let shown = null;

// 'self' and origins, as the server allows (a source with *. matches any subdomain).
const allowed = (document.body.dataset.frameAncestors || "'self'").split(/\s+/).filter(Boolean)
  .map((source) => (source === "'self'" ? window.location.origin : source));

export function originAllowed(origin) {
  return allowed.some((source) => {
    if (source === origin) return true;
    const wild = /^(https?):\/\/\*\.([^:/]+)(:\d+)?$/.exec(source);
    if (!wild) return false;
    let url;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    return url.protocol === `${wild[1]}:` && url.hostname.endsWith(`.${wild[2]}`) &&
      (url.port ? `:${url.port}` : "") === (wild[3] || "");
  });
}

function tellHost(message) {
  if (window.parent === window) return;
  for (const origin of allowed) {
    if (!origin.includes("*")) window.parent.postMessage(message, origin);
  }
}

function summarise() {
  const value = (id) => document.getElementById(id).value.trim();
  const parts = [value("external_id"), value("customer_id"),
    value("severity") && `severity ${value("severity")}`,
    value("loss_amount") && `loss ${value("loss_amount")} ${value("currency")}`].filter(Boolean);
  document.getElementById("incident-summary").textContent = parts.length ? parts.join(" · ") : "not given yet";
  const complete = ["customer_id", "severity", "customer_value", "loss_amount", "currency"].every(value);
  if (!complete) incidentDetails.open = true;
}

function fromUrl() {
  const params = new URLSearchParams(window.location.search);
  const incident = {};
  for (const name of FIELDS) if (params.has(name)) incident[name] = params.get(name);
  fillIncident(incident, params.get("team"));
}

function showWho(who) {
  document.getElementById("who").textContent = who
    ? `${who.role} ${who.prefix}` + (who.team ? ` · ${who.team}` : "") : "";
  document.getElementById("sign-out").hidden = !who;
}

function showSignIn(message) {
  showWho(null);
  document.getElementById("page-body").hidden = true;
  document.getElementById("sign-in-section").hidden = false;
  document.getElementById("api-key-error").textContent = message || "";
}

function showPanel(who) {
  showWho(who);
  document.getElementById("sign-in-section").hidden = true;
  if (!ROLES.includes(who.role)) {
    notice.textContent = `The panel needs a key with role agent, lead or admin; this key has role ${who.role}.`;
    notice.hidden = false;
    return;
  }
  notice.hidden = true;
  if (who.team && !document.getElementById("team").value) document.getElementById("team").value = who.team;
  document.getElementById("page-body").hidden = false;
}

async function useKey(key) {
  try {
    showPanel(await signIn(key));
  } catch (error) {
    signOut();
    showSignIn(error.status === 401 ? "That key is unknown or revoked." : error.message);
  }
}

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || !originAllowed(event.origin)) return;
  const data = event.data || {};
  if (data.type === "remedy.incident" && data.incident && typeof data.incident === "object") {
    fillIncident(data.incident, data.team);
    summarise();
  } else if (data.type === "remedy.key" && typeof data.key === "string") {
    useKey(data.key);
  }
});

document.getElementById("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("api-key");
  const key = input.value.trim();
  input.value = "";
  if (!key) {
    showSignIn("Paste an API key.");
    return;
  }
  useKey(key);
});

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  if (shown) shown.stop();
  showSignIn();
});

form.addEventListener("input", summarise);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearIncidentError(form, formError);
  if (shown) shown.stop();
  shown = null;
  const button = document.querySelector("button[form=incident-form]");
  button.disabled = true;
  section.hidden = false;
  showLoading(plans);
  try {
    const [decision, labels] = await Promise.all([
      api("POST", "/v1/recommendations", incidentRequest()), loadLabels()]);
    shown = renderPlans(plans, decision, labels, (change) => tellHost({ ...change, type: `remedy.${change.type}` }));
  } catch (error) {
    section.hidden = true;
    plans.replaceChildren();
    incidentDetails.open = true;
    showIncidentError(form, formError, error);
  } finally {
    button.disabled = false;
  }
});

fromUrl();
summarise();
if (getKey()) {
  api("GET", "/v1/whoami").then(showPanel, () => {
    signOut();
    showSignIn();
  });
} else {
  showSignIn();
}
tellHost({ type: "remedy.ready" });
