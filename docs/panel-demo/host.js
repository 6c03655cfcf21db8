// The demo help desk's side of the panel protocol (docs/panel.md). The panel's address comes
// from ?panel=URL (default: a local `remedy serve`); the panel is told this page's origin
// (?host=), which the server must allow. Messages go to the panel's origin only, and are taken
// only from the panel's window at that origin.
const params = new URLSearchParams(window.location.search);
const panelUrl = new URL(params.get("panel") || "http://127.0.0.1:8000/console/panel");
panelUrl.searchParams.set("host", window.location.origin);
const panel = document.getElementById("panel");
const ticket = document.getElementById("ticket");
const reply = document.getElementById("reply");
const notes = document.getElementById("notes");
const events = document.getElementById("events");

function incident() {
  const data = new FormData(ticket);
  const body = {};
  for (const [name, value] of data.entries()) body[name] = value;
  body.severity = Number.parseInt(body.severity, 10);
  body.churn_threat = data.has("churn_threat");
  return body;
}

function send(message) {
  panel.contentWindow.postMessage(message, panelUrl.origin);
}

function log(text, data) {
  const item = document.createElement("li");
  item.textContent = text;
  for (const [name, value] of Object.entries(data || {})) item.dataset[name] = value;
  events.prepend(item);
}

// Sign the panel in: our backend mints a short-lived token for the agent signed in here.
async function signPanelIn() {
  const response = await fetch("/token", { method: "POST" });
  if (!response.ok) {
    log(`could not get a sign-in token (${response.status})`);
    return;
  }
  send({ type: "remedy.token", token: (await response.json()).token });
  log("panel signed in through the help desk");
}

// Put text at the cursor of the reply, as a help desk's editor insert does.
function insertIntoReply(text) {
  const start = reply.selectionStart ?? reply.value.length;
  const before = reply.value.slice(0, start);
  const joint = before && !before.endsWith("\n") ? "\n" : "";
  reply.value = before + joint + text + reply.value.slice(reply.selectionEnd ?? start);
}

function addNote(text, data) {
  const item = document.createElement("li");
  item.textContent = text;
  for (const [name, value] of Object.entries(data || {})) item.dataset[name] = value;
  notes.append(item);
}

window.addEventListener("message", (event) => {
  if (event.source !== panel.contentWindow || event.origin !== panelUrl.origin) return;
  const data = event.data || {};
  if (data.type === "remedy.ready") {
    send({ type: "remedy.incident", incident: incident() });
    log("panel ready: ticket sent");
    signPanelIn();
  } else if (data.type === "remedy.token_needed") {
    signPanelIn();
  } else if (data.type === "remedy.insert" && typeof data.text === "string") {
    insertIntoReply(data.text);
    send({ type: "remedy.inserted", ref: data.ref });
    log("talking points inserted into the reply");
  } else if (data.type === "remedy.accepted") {
    addNote(data.note, { decisionId: data.decision_id, status: data.status });
    log(`plan ${data.plan_id} accepted: ${data.status}`, { decisionId: data.decision_id, status: data.status });
  } else if (data.type === "remedy.approval") {
    addNote(data.note, { decisionId: data.decision_id, status: data.status });
    const who = data.decided_role === "lead" ? "a team lead" : "finance";
    log(`${who} answered: ${data.status}` + (data.reason ? ` (${data.reason})` : ""),
      { decisionId: data.decision_id, status: data.status });
  }
});

ticket.addEventListener("submit", (event) => {
  event.preventDefault();
  send({ type: "remedy.incident", incident: incident() });
  log("ticket sent");
});

panel.src = panelUrl.href;
