// Shared by every console page: the key (sessionStorage, or memory in the panel), a fetch wrapper that sends it as a
// bearer token, the API's error envelope rendered readably, and small DOM helpers.
// API data is always rendered as text (textContent), never parsed as HTML.

const STORAGE_KEY = "remedy.console.key";
const WHO_KEY = "remedy.console.who";
const root = document.body.dataset.root || "";

// Which console pages each role may use (the API enforces the same roles; this only hides links).
export const PAGES = {
  agent: { label: "Agent", path: "/console/agent", roles: ["agent", "lead", "admin"],
    what: "enter an incident, see ranked plans, accept one" },
  approvals: { label: "Approvals", path: "/console/approvals", roles: ["lead", "finance", "admin"],
    what: "plans waiting for your approval, oldest first: approve or reject with a reason" },
  lead: { label: "Lead desk", path: "/console/lead", roles: ["lead", "finance", "admin"],
    what: "incidents at risk, repeat victims and the approvals waiting, live" },
  reports: { label: "Reports", path: "/console/reports", roles: ["lead", "finance", "admin"],
    what: "spend, failures by cost, promises kept and the honesty audit; CSV exports" },
  finance: { label: "Finance", path: "/console/finance", roles: ["finance", "admin"],
    what: "pools, caps and their history, what-if replays" },
  models: { label: "Models", path: "/console/models", roles: ["finance", "admin"],
    what: "model versions and cards; admins promote" },
};

// The panel keeps its key in memory only (`keepKeyInMemory`): framed by a help desk on another
// site, the browser may refuse it any storage ("Access is denied" when third-party storage is
// blocked), and a key in memory is gone with the frame. The console's own pages use the tab's
// sessionStorage.
const memory = { only: false, key: null, who: null };

export function keepKeyInMemory() {
  memory.only = true;
}

export function getKey() {
  return memory.only ? memory.key : sessionStorage.getItem(STORAGE_KEY);
}

export function whoCached() {
  if (memory.only) return memory.who;
  const raw = sessionStorage.getItem(WHO_KEY);
  return raw ? JSON.parse(raw) : null;
}

export function signOut() {
  if (memory.only) {
    memory.key = null;
    memory.who = null;
    return;
  }
  sessionStorage.removeItem(STORAGE_KEY);
  sessionStorage.removeItem(WHO_KEY);
}

function remember(key, who) {
  if (memory.only) {
    memory.key = key;
    memory.who = who;
    return;
  }
  sessionStorage.setItem(STORAGE_KEY, key);
  sessionStorage.setItem(WHO_KEY, JSON.stringify(who));
}

// An API answer that is not 2xx, carrying the envelope {code, status, message, errors}.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.errors = (body && body.errors) || {};
  }
}

// An answer that is not the API's JSON (a proxy's or gateway's HTML page) in words: what came
// back, never the page itself.
export function summariseNonJson(response) {
  const status = `${response.status} ${response.statusText || ""}`.trim();
  return response.ok
    ? `The service answered ${status} without JSON.`
    : `The gateway answered ${status} instead of the service; try again in a moment.`;
}

// Call the API with the stored key (or `key`); resolve to the JSON body, reject with ApiError.
// `extraHeaders` adds headers, e.g. an Idempotency-Key.
export async function api(method, path, body, key, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  const token = key || getKey();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(root + path, init);
  } catch (error) {
    throw new ApiError(0, { message: `The service did not answer (${error.message}).` });
  }
  const text = await response.text();
  let data = null;
  const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
  try {
    data = text && json ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (data === null && (text || !response.ok)) {
    data = { message: summariseNonJson(response), nonJson: true };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Fetch `path` (a report with format=csv) with the stored key and save the answer as
// `filename`: a key travels only in a header, so a plain link cannot download it.
export async function download(path, filename) {
  let response;
  try {
    response = await fetch(root + path, { headers: { Accept: "text/csv", Authorization: `Bearer ${getKey()}` } });
  } catch (error) {
    throw new ApiError(0, { message: `The service did not answer (${error.message}).` });
  }
  if (!response.ok) {
    const text = await response.text();
    let body = null;
    try { body = JSON.parse(text); } catch { body = { message: summariseNonJson(response) }; }
    throw new ApiError(response.status, body);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Check a key: resolve to {prefix, role, team} and remember both, or reject with ApiError.
export async function signIn(key) {
  const who = await api("GET", "/v1/whoami", undefined, key);
  remember(key, who);
  return who;
}

// Build an element: el("td", {class: "num"}, "12.00 EUR", child, ...). Strings become text.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Money exactly as the API gives it: a decimal string and its currency.
export function money(amount, currency) {
  return amount === null || amount === undefined ? "–" : `${amount} ${currency}`;
}

// Money per currency ({"EUR": "12.00"}) as "12.00 EUR, 3.00 USD".
export function moneyMap(byCurrency) {
  const entries = Object.entries(byCurrency || {});
  return entries.length ? entries.map(([c, a]) => money(a, c)).join(", ") : "–";
}

// A table inside its own horizontal scroller, so a wide table never widens the page on a
// phone; the scroller takes keyboard focus so it can be scrolled without a pointer.
export function table(headers, rows, caption) {
  return el("div", { class: "table-scroll", tabindex: "0", role: "group",
    "aria-label": caption || headers.join(", ") },
  el("table", {},
    caption ? el("caption", { text: caption }) : null,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows)));
}

// A readable account of an API error: the message, then each field's messages (`fields`, by
// default all of them; pass fewer when some are shown next to their inputs).
export function describeError(error, fields = error.errors) {
  const lines = [];
  const status = error.status ? `${error.status} ${error.body.status || ""}`.trim() : "";
  if (error.status === 401) lines.push("The API key is unknown or revoked: sign in again.");
  else if (error.status === 403) lines.push(`Not allowed for this key: ${error.message}`);
  else lines.push(error.message);
  for (const [field, messages] of Object.entries(fields || {})) {
    for (const message of messages) {
      if (message !== error.message) lines.push(`${field === "_request" ? "request" : field}: ${message}`);
    }
  }
  return { status, lines };
}

// Render an error into `box` (an element with role=alert): status line, message, field lines.
export function showError(box, error, lead, fields = error.errors) {
  const { status, lines } = describeError(error, fields);
  box.replaceChildren(
    el("p", {}, el("strong", { text: lead || "The request failed" }), status ? ` (${status})` : ""),
    el("ul", {}, lines.map((line) => el("li", { text: line }))));
  box.hidden = false;
}

export function clearError(box) {
  box.replaceChildren();
  box.hidden = true;
}

// Put field errors next to their inputs. `fieldFor` maps an API field path ("incident.severity")
// to an input id ("severity") or null; returns the errors that matched no input.
export function showFieldErrors(form, errors, fieldFor) {
  clearFieldErrors(form);
  const unplaced = {};
  for (const [path, messages] of Object.entries(errors || {})) {
    const id = fieldFor(path);
    const input = id && form.querySelector(`#${CSS.escape(id)}`);
    const slot = id && form.querySelector(`#${CSS.escape(id)}-error`);
    if (input && slot) {
      input.setAttribute("aria-invalid", "true");
      slot.textContent = messages.join(" ");
    } else {
      unplaced[path] = messages;
    }
  }
  return unplaced;
}

export function clearFieldErrors(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
}

// Show who is signed in, the pages their role may use, and wire the sign-out button.
export function renderHeader(who) {
  const label = document.getElementById("who");
  const button = document.getElementById("sign-out");
  for (const item of document.querySelectorAll("nav [data-roles]")) {
    item.hidden = !who || !item.dataset.roles.split(" ").includes(who.role);
  }
  if (!who) {
    label.textContent = "Not signed in";
    button.hidden = true;
    return;
  }
  label.textContent = `Signed in: ${who.role} key ${who.prefix}` + (who.team ? ` (team ${who.team})` : "");
  button.hidden = false;
  button.onclick = () => {
    signOut();
    window.location.assign(`${root}/console/`);
  };
}

// Start a data page: check the stored key with the API and the role against `page`; resolve to
// the caller {prefix, role, team} when the page may be used, else explain and resolve to null.
export async function startPage(page) {
  const notice = document.getElementById("page-notice");
  const body = document.getElementById("page-body");
  const explain = (...children) => {
    notice.replaceChildren(...children);
    notice.hidden = false;
  };
  const signInLink = () => el("a", { href: `${root}/console/` }, "Sign in");
  if (!getKey()) {
    renderHeader(null);
    explain("You are not signed in. ", signInLink(), " with an API key first.");
    return null;
  }
  let who;
  try {
    who = await api("GET", "/v1/whoami");
  } catch (error) {
    if (error.status === 401) signOut();
    renderHeader(error.status === 401 ? null : whoCached());
    explain(describeError(error).lines.join(" "), " ", signInLink());
    return null;
  }
  renderHeader(who);
  const allowed = PAGES[page].roles;
  if (!allowed.includes(who.role)) {
    explain(`The ${PAGES[page].label} page needs a key with role ${allowed.join(" or ")}; ` +
      `this key has role ${who.role}.`);
    return null;
  }
  body.hidden = false;
  return who;
}

export { root };
