// The demo help desk's side of the panel protocol (see README, "Embed the agent panel").
// The panel's address comes from ?panel=URL (default: a local `remedy serve`). Messages are
// sent to the panel's origin only, and taken only from the panel's window at that origin.
const params = new URLSearchParams(window.location.search);
const panelUrl = new URL(params.get("panel") || "http://127.0.0.1:8000/console/panel");
const panel = document.getElementById("panel");
const ticket = document.getElementById("ticket");
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

window.addEventListener("message", (event) => {
  if (event.source !== panel.contentWindow || event.origin !== panelUrl.origin) return;
  const data = event.data || {};
  if (data.type === "remedy.ready") {
    send({ type: "remedy.incident", incident: incident() });
    log("panel ready: ticket sent");
  } else if (data.type === "remedy.accepted") {
    log(`plan ${data.plan_id} accepted: ${data.status}`,
      { decisionId: data.decision_id, status: data.status });
  } else if (data.type === "remedy.approval") {
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

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("host-key");
  send({ type: "remedy.key", key: input.value.trim() });
  input.value = "";
  log("key given to the panel");
});

panel.src = panelUrl.href;
