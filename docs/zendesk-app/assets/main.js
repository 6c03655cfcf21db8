// A Zendesk ticket sidebar adapter for the remedy agent panel (docs/panel.md). It reads the
// ticket through the Zendesk Apps framework (ZAF), signs the agent in to the panel without any
// API key in the browser, inserts talking points into the reply editor and records decisions
// as internal notes.
//
// Sign-in: Zendesk's proxy signs a short-lived HS256 JWT with the app's *secure* setting
// `remedy_secret` (the integration's secret from POST /v1/integrations; it stays on Zendesk's
// servers, the browser only ever holds the placeholder) and sends it to remedy, which answers
// with a panel session key for the integration's team; the adapter hands that key to the panel.
// remedy must allow this frame's origin (https://<n>.apps.zdusercontent.com) in both the
// integration's allowed origins and REMEDY_PANEL_FRAME_ANCESTORS.
/* global ZAFClient */
const client = ZAFClient.init();
const panel = document.getElementById("panel");

client.invoke("resize", { width: "100%", height: "760px" });

Promise.all([client.metadata(), client.get(["currentUser.id", "ticket.id"])]).then(([meta, who]) => {
  const settings = meta.settings;
  const remedy = new URL("/console/panel", settings.remedy_url);
  remedy.searchParams.set("host", window.location.origin);
  const agent = String(who["currentUser.id"]);
  const ticketId = who["ticket.id"];
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

  function post(message) {
    panel.contentWindow.postMessage(message, remedy.origin);
  }

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

  async function sendTicket() {
    post({ type: "remedy.incident", incident: await incident(), team: settings.team || undefined });
  }

  // Zendesk signs the token (secure setting, never in the browser) and remedy exchanges it.
  async function signIn() {
    const session = await client.request({
      url: new URL("/v1/panel/sessions", settings.remedy_url).href,
      type: "POST",
      contentType: "application/json",
      secure: true,
      headers: { Authorization: "Bearer {{jwt.token}}" },
      jwt: {
        algorithm: "HS256",
        secret_key: "{{setting.remedy_secret}}",
        expiry: 120,
        claims: { iss: settings.integration_id, aud: "remedy-panel", sub: agent, team: settings.team },
      },
      data: JSON.stringify({ origin: window.location.origin }),
    });
    post({ type: "remedy.session", key: session.key, expires_at: session.expires_at });
  }

  // An internal note (public: false): the decision is recorded where customers never see it.
  function internalNote(body) {
    return client.request({
      url: `/api/v2/tickets/${ticketId}.json`,
      type: "PUT",
      contentType: "application/json",
      data: JSON.stringify({ ticket: { comment: { body, public: false } } }),
    });
  }

  window.addEventListener("message", (event) => {
    if (event.source !== panel.contentWindow || event.origin !== remedy.origin) return;
    const data = event.data || {};
    if (data.type === "remedy.ready") {
      sendTicket();
      signIn();
    } else if (data.type === "remedy.token_needed") {
      signIn();
    } else if (data.type === "remedy.insert" && typeof data.text === "string") {
      // Only the talking points go into the reply editor; nothing internal.
      client.invoke("ticket.editor.insert", data.text).then(
        () => post({ type: "remedy.inserted", ref: data.ref }),
        (error) => post({ type: "remedy.insert_failed", ref: data.ref, reason: String(error && error.message) }));
    } else if ((data.type === "remedy.accepted" || data.type === "remedy.approval") && data.note) {
      internalNote(data.note);
    }
  });
  client.on("ticket.updated", sendTicket);

  panel.src = remedy.href;
});
