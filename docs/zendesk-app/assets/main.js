// A Zendesk ticket sidebar adapter for the remedy agent panel: it reads the ticket through the
// Zendesk Apps framework (ZAF) and posts it to the panel (README, "Embed the agent panel").
// The panel's server must allow this app's origin and Zendesk's in REMEDY_PANEL_FRAME_ANCESTORS.
/* global ZAFClient */
const client = ZAFClient.init();
const panel = document.getElementById("panel");

client.invoke("resize", { width: "100%", height: "640px" });

client.metadata().then(({ settings }) => {
  const remedy = new URL("/console/panel", settings.remedy_url);
  const field = (id) => (id ? `ticket.customField:custom_field_${id}` : null);
  const paths = {
    external_id: "ticket.id",
    customer_id: "ticket.requester.id",
    channel: "ticket.via.channel",
    locale: "ticket.requester.locale",
    severity: field(settings.severity_field),
    loss_amount: field(settings.loss_field),
    customer_value: field(settings.customer_value_field),
    currency: field(settings.currency_field),
    fault_type: field(settings.fault_type_field),
  };

  async function incident() {
    const wanted = Object.values(paths).filter(Boolean);
    const data = await client.get(wanted);
    const body = {};
    for (const [name, path] of Object.entries(paths)) {
      if (path && data[path] !== undefined && data[path] !== null) body[name] = String(data[path]);
    }
    if (body.severity) body.severity = Number.parseInt(body.severity, 10);
    // Zendesk's channels ("web", "email", "chat", "api", ...) that remedy does not know: "web".
    if (!["email", "chat", "phone", "social", "web", "store"].includes(body.channel)) body.channel = "web";
    return body;
  }

  async function send() {
    panel.contentWindow.postMessage(
      { type: "remedy.incident", incident: await incident(), team: settings.team || undefined },
      remedy.origin);
  }

  window.addEventListener("message", (event) => {
    if (event.source !== panel.contentWindow || event.origin !== remedy.origin) return;
    const data = event.data || {};
    if (data.type === "remedy.ready") send();
    // Put a line in the comment editor when a plan is accepted or finance answers.
    if (data.type === "remedy.accepted" || data.type === "remedy.approval") {
      client.invoke("comment.appendText",
        `remedy: decision ${data.decision_id}, plan ${data.plan_id}: ${data.status}`);
    }
  });
  client.on("ticket.updated", send);

  panel.src = remedy.href;
});
