// The agent panel, made for a help desk's side bar (an iframe about 350 px wide), usually on
// another site than the help desk. It keeps everything in memory: a framed page may be refused
// any storage (third-party storage blocked), and the key it holds dies with the frame.
//
// The incident comes from the URL (?customer_id=c-42&severity=4&...: the API's field names,
// external_id for the ticket id, plus team) or from the host page. `?host=<origin>` names the
// host's origin; the server lets that origin frame the panel only when its allow-list
// (REMEDY_PANEL_FRAME_ANCESTORS, `*` for one label) allows it, and the panel then talks to it
// only. Protocol (docs/panel.md):
//   host -> panel  {type: "remedy.token", token}        a token the host's backend minted: the
//                                                        panel exchanges it (POST /v1/panel/sessions)
//                  {type: "remedy.session", key}        a session key the host's signing proxy
//                                                        already exchanged
//                  {type: "remedy.incident", incident: {...}, team}
//                  {type: "remedy.inserted", ref} | {type: "remedy.insert_failed", ref, reason}
//                  {type: "remedy.key", key}            only where pasted keys are allowed
//   panel -> host  {type: "remedy.ready"}               listening: send the token and the ticket
//                  {type: "remedy.token_needed"}        the session ends soon or was refused
//                  {type: "remedy.insert", ref, text, language}   put text into the reply
//                  {type: "remedy.accepted", decision_id, plan_id, status, note}
//                  {type: "remedy.approval", decision_id, plan_id, status, decided_role, reason, note}
// `text` is what the customer may read (the talking points); `note` is for an internal note,
// never the public reply (it names the decision).
import { api, describeError, el, getKey, keepKeyInMemory, signIn, signOut } from "./api.js";
import { showHistory } from "./customer_history.js";
import { moneyIn } from "./format.js";
import { FIELDS, clearIncidentError, fillIncident, incidentRequest, showIncidentError } from "./incident.js";
import { loadLabels, renderPlans, showLoading } from "./plans.js";

keepKeyInMemory();

const ROLES = ["agent", "lead", "admin"];
const REQUIRED = ["customer_id", "severity", "customer_value", "loss_amount", "currency"];
const INSERT_WAIT_MS = 5000;
const RENEW_BEFORE_MS = 60000;
const body = document.body;
const framed = window.parent !== window;
const pastedKeys = body.dataset.pastedKeys === "true";
const form = document.getElementById("incident-form");
const formError = document.getElementById("incident-error");
const editButton = document.getElementById("edit-incident");
const editBox = document.getElementById("incident-edit");
const section = document.getElementById("decision");
const plans = document.getElementById("plans");
const notice = document.getElementById("page-notice");
const byId = (id) => document.getElementById(id);
let shown = null;
let renewTimer = null;
let hostOrigin = body.dataset.hostOrigin || null;
const pendingInserts = new Map();

// The allow-list as the server has it: 'self' and origin patterns, `*` standing for one label.
const patterns = (body.dataset.patterns || "").split(/\s+/).filter(Boolean);
if (body.dataset.selfAllowed === "true") patterns.unshift(window.location.origin);

function patternMatches(pattern, origin) {
  const parts = /^(https?):\/\/(\*\.)?([^:/]+)(:\d+)?$/.exec(pattern);
  let url;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (!parts || url.origin !== String(origin).toLowerCase()) return false;
  if (url.protocol !== `${parts[1]}:` || (url.port ? `:${url.port}` : "") !== (parts[4] || "")) return false;
  if (!parts[2]) return url.hostname === parts[3];
  const dot = url.hostname.indexOf(".");
  return dot > 0 && url.hostname.slice(dot + 1) === parts[3];
}

export function originAllowed(origin) {
  return patterns.some((pattern) => patternMatches(pattern, origin));
}

// Where messages go: the host's origin once known (from ?host=, checked by the server, or from
// its first message), else the allow-list's concrete origins (postMessage needs a concrete one).
function tellHost(message) {
  if (!framed) return;
  const targets = hostOrigin ? [hostOrigin] : patterns.filter((p) => !p.includes("*"));
  for (const origin of targets) window.parent.postMessage(message, origin);
}

// ---- the ticket as a read-only summary -------------------------------------------------------

const FAULTS = { company: "ours", partner: "a partner's", customer: "the customer's", unknown: "unknown" };

function incidentNow() {
  return incidentRequest().incident;
}

function summarise() {
  const incident = incidentNow();
  const team = byId("team").value.trim();
  const money = moneyIn(incident.locale || navigator.language);
  const currency = /^[A-Z]{3}$/.test(incident.currency) ? incident.currency : null;
  const amount = (value) => (currency && /^\d+(\.\d+)?$/.test(value) ? money(value, currency)
    : `${value} ${incident.currency}`.trim());
  const rows = [
    ["Ticket", incident.external_id],
    ["Customer", incident.customer_id],
    ["Severity", incident.severity !== "" ? `${incident.severity} of 5` : ""],
    ["Fault", FAULTS[incident.fault_type] || incident.fault_type],
    ["Loss", incident.loss_amount && amount(incident.loss_amount)],
    ["Value", incident.customer_value && `${amount(incident.customer_value)} a year`],
    ["Channel", incident.channel],
    ["Language", incident.locale],
    ["Team", team],
    incident.churn_threat ? ["Risk", "threatens to leave"] : null,
  ].filter((row) => row && row[1] !== undefined && row[1] !== "");
  const missing = REQUIRED.filter((name) => incident[name] === "" || incident[name] === undefined);
  const facts = rows.map(([name, value]) => el("div", {}, el("dt", { text: name }), el("dd", { text: String(value) })));
  if (missing.length) {
    facts.push(el("div", { class: "missing" }, el("dt", { text: "Missing" }),
      el("dd", { text: missing.map((name) => name.replaceAll("_", " ")).join(", ") })));
  }
  byId("incident-summary").replaceChildren(...facts);
  return missing;
}

function setEditing(open, focus = true) {
  editBox.hidden = !open;
  editButton.setAttribute("aria-expanded", String(open));
  editButton.textContent = open ? "Done" : "Edit";
  if (!open) summarise();
  if (focus) (open ? form.querySelector("input, select") : editButton).focus();
}

editButton.addEventListener("click", () => setEditing(editBox.hidden));
form.addEventListener("input", summarise);

function fromUrl() {
  const params = new URLSearchParams(window.location.search);
  const incident = {};
  for (const name of FIELDS) if (params.has(name)) incident[name] = params.get(name);
  fillIncident(incident, params.get("team"));
}

// ---- signing in: through the host (a token), or a pasted key where allowed ---------------------

function showWho(who) {
  byId("who").textContent = who
    ? (who.agent ? `${who.agent} · ` : "") + who.role + (who.team ? ` · ${who.team}` : "") : "";
  byId("sign-out").hidden = !who;
}

function say(message) {
  notice.textContent = message;
  notice.hidden = !message;
  if (message) notice.focus();
}

function showSignedOut(message) {
  showWho(null);
  byId("page-body").hidden = true;
  const signInBox = byId("sign-in-section");
  if (signInBox) {
    signInBox.hidden = false;
    byId("api-key-error").textContent = message || "";
  } else {
    byId("waiting-section").hidden = false;
    byId("waiting-text").textContent = message || "Waiting for the help desk to sign you in…";
  }
}

function showPanel(who) {
  showWho(who);
  for (const id of ["sign-in-section", "waiting-section"]) if (byId(id)) byId(id).hidden = true;
  if (!ROLES.includes(who.role)) {
    signOut(); // a finance key would leave a form whose every answer is 403
    byId("page-body").hidden = true;
    say(`The panel needs a key with role agent, lead or admin; this key has role ${who.role}.`);
    return;
  }
  say("");
  if (who.team && !byId("team").value) byId("team").value = who.team;
  byId("page-body").hidden = false;
  const missing = summarise();
  if (missing.length) setEditing(true, false);
  byId("incident-heading").focus(); // signed in: the ticket is what to read next
  loadHistory();
}

// ---- the customer's earlier incidents, beside the plans --------------------------------------

const historyBox = { section: byId("history"), summary: byId("history-summary"), list: byId("history-list") };

function loadHistory(exclude = null) {
  const incident = incidentNow();
  return showHistory(historyBox, incident.customer_id, moneyIn(incident.locale || navigator.language),
    { exclude });
}

async function useKey(key) {
  try {
    showPanel(await signIn(key));
  } catch (error) {
    signOut();
    showSignedOut(error.status === 401 ? "That key is unknown or revoked." : error.message);
  }
}

function renewBefore(expiresAt) {
  clearTimeout(renewTimer);
  const left = Date.parse(expiresAt) - Date.now();
  if (Number.isNaN(left)) return;
  renewTimer = setTimeout(() => tellHost({ type: "remedy.token_needed" }), Math.max(0, left - RENEW_BEFORE_MS));
}

async function exchange(token) {
  if (!hostOrigin) {
    showSignedOut("The help desk's origin is unknown, so its sign-in cannot be checked.");
    return;
  }
  try {
    const session = await api("POST", "/v1/panel/sessions", { token, origin: hostOrigin });
    const who = await signIn(session.key);
    renewBefore(session.expires_at);
    showPanel({ ...who, agent: session.agent });
  } catch (error) {
    signOut();
    showSignedOut(`The help desk could not sign you in: ${describeError(error).lines.join(" ")}`);
  }
}

if (pastedKeys) {
  byId("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = byId("api-key");
    const key = input.value.trim();
    input.value = "";
    if (!key) {
      showSignedOut("Paste an API key.");
      return;
    }
    useKey(key);
  });
}

byId("sign-out").addEventListener("click", () => {
  signOut();
  clearTimeout(renewTimer);
  if (shown) shown.stop();
  showSignedOut();
});

// ---- messages from the host --------------------------------------------------------------------

window.addEventListener("message", (event) => {
  if (event.source !== window.parent) return;
  if (hostOrigin ? event.origin !== hostOrigin : !originAllowed(event.origin)) return;
  hostOrigin = event.origin;
  const data = event.data || {};
  if (data.type === "remedy.incident" && data.incident && typeof data.incident === "object") {
    fillIncident(data.incident, data.team);
    summarise();
    if (!byId("page-body").hidden) loadHistory(); // signed in: this ticket's customer
  } else if (data.type === "remedy.token" && typeof data.token === "string") {
    exchange(data.token);
  } else if (data.type === "remedy.session" && typeof data.key === "string") {
    if (data.expires_at) renewBefore(data.expires_at);
    useKey(data.key);
  } else if (data.type === "remedy.key" && typeof data.key === "string" && pastedKeys) {
    useKey(data.key);
  } else if (["remedy.inserted", "remedy.insert_failed"].includes(data.type) && pendingInserts.has(data.ref)) {
    pendingInserts.get(data.ref)(data);
  }
});

// Ask the host to put the talking points into its reply; resolve to a line for the agent.
function insertIntoReply(plan, talking) {
  const ref = crypto.randomUUID();
  return new Promise((resolve) => {
    const finish = (answer) => {
      clearTimeout(timer);
      pendingInserts.delete(ref);
      resolve(answer.type === "remedy.inserted"
        ? "Talking points inserted into the reply: read them over before you send."
        : `The help desk did not insert them${answer.reason ? ` (${answer.reason})` : ""}: open Talking points and copy them.`);
    };
    const timer = setTimeout(() => finish({ type: "timeout" }), INSERT_WAIT_MS);
    pendingInserts.set(ref, finish);
    tellHost({ type: "remedy.insert", ref, text: talking.points.join("\n"), language: talking.language });
  });
}

// What the host keeps as an internal note (never the public reply).
function noteFor(change) {
  const status = change.status.replaceAll("_", " ");
  if (change.type === "accepted") {
    return `remedy: plan ${change.plan_label} accepted (${status}, ${change.total_cost}); decision ${change.decision_id}`;
  }
  const who = { lead: "a team lead", finance: "finance", admin: "an admin" }[change.decided_role] || "the approver";
  return `remedy: ${who} answered for plan ${change.plan_label}: ${status}` +
    (change.reason ? ` (${change.reason})` : "") + `; decision ${change.decision_id}`;
}

function onChange(change) {
  const { plan_label: _label, total_cost: _cost, ...message } = change;
  tellHost({ ...message, type: `remedy.${change.type}`, note: noteFor(change) });
}

// ---- plans ---------------------------------------------------------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearIncidentError(form, formError);
  if (shown) shown.stop();
  shown = null;
  const button = byId("get-plans");
  button.disabled = true;
  section.hidden = false;
  showLoading(plans);
  try {
    const [decision, labels] = await Promise.all([
      api("POST", "/v1/recommendations", incidentRequest()), loadLabels()]);
    const locale = (decision.incident || {}).locale || incidentNow().locale || navigator.language;
    shown = renderPlans(plans, decision, labels, onChange,
      { money: moneyIn(locale), insert: framed ? insertIntoReply : null });
    const first = plans.querySelector("article.plan") || plans.querySelector(".blocker") || plans;
    if (!first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
    first.focus(); // the plans, best first, are the answer to "Get plans"
    loadHistory(decision.decision_id);
  } catch (error) {
    section.hidden = true;
    plans.replaceChildren();
    if (error.status === 401) {
      tellHost({ type: "remedy.token_needed" });
      say("Your session has ended: the help desk is asked to sign you in again.");
    } else {
      setEditing(true, false);
      showIncidentError(form, formError, error);
    }
  } finally {
    button.disabled = false;
  }
});

// ---- keyboard: Alt+G get plans, Alt+N / Alt+P next / previous plan, Alt+I insert, Alt+A accept ---

function currentCard() {
  return document.activeElement && document.activeElement.closest
    ? document.activeElement.closest("article.plan") : null;
}

function moveTo(step) {
  const cards = [...plans.querySelectorAll("article.plan")];
  if (!cards.length) return;
  const at = cards.indexOf(currentCard());
  const next = at === -1 ? (step > 0 ? 0 : cards.length - 1) : Math.min(cards.length - 1, Math.max(0, at + step));
  cards[next].focus();
}

function press(selector) {
  const card = currentCard() || plans.querySelector("article.plan");
  const button = card && card.querySelector(selector);
  if (button && !button.disabled) button.click();
}

document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || byId("page-body").hidden) return;
  const action = {
    KeyG: () => form.requestSubmit(),
    KeyN: () => moveTo(1),
    KeyP: () => moveTo(-1),
    KeyI: () => press("button.insert, button.copy"),
    KeyA: () => press("button.accept"),
  }[event.code];
  if (!action) return;
  event.preventDefault();
  action();
});

// ---- start ---------------------------------------------------------------------------------------

fromUrl();
summarise();
if (getKey()) {
  api("GET", "/v1/whoami").then(showPanel, () => showSignedOut());
} else {
  showSignedOut();
}
tellHost({ type: "remedy.ready" });
