// Finance cockpit, caps: the active version, which override governs each slice (severity x
// fault) and which term set the cap of the logged incidents (GET /v1/caps/governing), an
// editor for every number in the caps document (PUT /v1/caps: the API's field errors appear
// next to their fields), the what-if of the edit one click away, and the version history.
import { api, clearError, clearFieldErrors, el, showError, showFieldErrors, table } from "./api.js";
import { formatMoney, formatNumber } from "./format.js";
import { describeWhen } from "./finance_whatif.js";

let active = null;

const TERM_NAMES = { loss_multiple: "multiple of the loss", value_share: "share of the customer's value", absolute: "absolute cap" };

function governingRows(slices, currency) {
  const sourceText = (term) => `${formatNumber(term.value)} (${term.source})`;
  const bound = (binding) => Object.entries(binding).filter(([, n]) => n)
    .map(([term, n]) => `${TERM_NAMES[term]}: ${n}`).join("; ") || "–";
  return slices.map((s) => el("tr", {},
    el("th", { scope: "row", text: String(s.severity) }),
    el("td", { text: s.fault_type }),
    el("td", { text: s.overrides.length ? s.overrides.join(", ") : "none" }),
    el("td", { class: "nowrap", text: sourceText(s.loss_multiple) }),
    el("td", { class: "nowrap", text: sourceText(s.value_share) }),
    el("td", { class: "nowrap", text: s.absolute[currency] ? `${formatMoney(s.absolute[currency].value, currency)} (${s.absolute[currency].source})` : "–" }),
    el("td", { class: "num", text: String(s.incidents) }),
    el("td", { text: bound(s.binding) })));
}

// Slices with logged incidents first (busiest first), the others behind a disclosure.
function governingTable(governing, currency) {
  const headers = ["Severity", "Fault", "Overrides", "Loss multiple", "Value share", `Absolute (${currency})`, "Incidents", "Cap set by"];
  const busy = governing.slices.filter((s) => s.incidents).sort((a, b) => b.incidents - a.incidents);
  const quiet = governing.slices.filter((s) => !s.incidents);
  const defaults = governing.slices.filter((s) => s.loss_multiple.source === "default" && s.value_share.source === "default");
  const loggedInDefault = defaults.reduce((n, s) => n + s.incidents, 0);
  const logged = busy.reduce((n, s) => n + s.incidents, 0);
  return el("div", {},
    el("p", {}, `The default terms govern ${defaults.length} of ${governing.slices.length} slices outright ` +
      `(${loggedInDefault} of the ${logged} incidents logged from ${governing.from.slice(0, 10)} to ${governing.to.slice(0, 10)}); ` +
      "overrides replace them elsewhere, so a sweep of a default changes only those slices."),
    busy.length ? table(headers, governingRows(busy, currency), "Which override governs each slice, and which term set the cap")
      : el("p", {}, "No incident was logged in the last 30 days."),
    el("details", {}, el("summary", {}, `Slices without logged incidents (${quiet.length})`),
      table(headers, governingRows(quiet, currency), "Slices without logged incidents")));
}

// The approval tiers of a caps document (one written before tiers has one approval_threshold:
// the agent decides up to it, finance above).
export function tiersOf(document_) {
  return document_.approvals
    || { agent_up_to: document_.approval_threshold || {}, lead_up_to: {}, escalate_after: null };
}

function summary(version) {
  const document_ = version.document;
  const defaults = document_.incident_caps.default;
  const tiers = tiersOf(document_);
  const leads = tiers.lead_up_to || {};
  const currencies = Object.keys(defaults.absolute || {}).sort();
  const window_ = document_.customer_window || {};
  return el("div", {},
    el("p", {}, `Active: version ${version.version}, by ${version.created_by}, in effect since ${version.effective_at}.`),
    el("p", {}, `Default per-incident cap on the overdelivery: the least of ${defaults.loss_multiple} × the loss, ` +
      `${defaults.value_share} × the customer's annual value, and the absolute cap; ` +
      `${(document_.incident_caps.overrides || []).length} override(s) by severity and fault type (below).`),
    el("p", {}, "Approval tiers by a plan's whole cost: the agent decides alone, then a team lead of the " +
      "plan's team approves, above that finance" +
      (tiers.escalate_after ? `; a plan waiting longer than ${tiers.escalate_after} goes to finance.` : ".")),
    table(["Currency", "Absolute cap", "Agent decides up to", "Lead approves up to",
      `Customer window (${window_.days || "–"} days)`],
    currencies.map((c) => el("tr", {},
      el("th", { scope: "row", text: c }),
      el("td", { class: "num", text: formatMoney((defaults.absolute || {})[c], c) }),
      el("td", { class: "num", text: formatMoney((tiers.agent_up_to || {})[c], c) }),
      el("td", { class: "num", text: leads[c] ? formatMoney(leads[c], c) : "no lead tier" }),
      el("td", { class: "num", text: window_.limit && window_.limit[c] ? formatMoney(window_.limit[c], c) : "none" }))),
    "Amounts per currency"));
}

// One labelled input per number of the caps document; its id is "caps.<path>", the key under
// which PUT /v1/caps names a field's error, so errors land next to their fields unchanged.
function input(path, label, value) {
  const id = `caps.${path}`;
  return el("div", { class: "field" },
    el("label", { for: id, text: label }),
    el("input", { id, name: id, value: value === undefined || value === null ? "" : String(value),
      inputmode: "decimal", autocomplete: "off", "aria-describedby": `${id}-error`, "data-path": path }),
    el("p", { class: "field-error", id: `${id}-error` }));
}

function fieldset(legend, fields) {
  return el("fieldset", { class: "grid-form" }, el("legend", { text: legend }), fields);
}

function amounts(base, byCurrency, what) {
  return Object.keys(byCurrency || {}).sort().map((c) => input(`${base}.${c}`, `${what} ${c}`, byCurrency[c]));
}

function editorFields(document_) {
  const caps = document_.incident_caps;
  const sets = [["incident_caps.default", "Default terms", caps.default],
    ...(caps.overrides || []).map((o, i) => [`incident_caps.overrides.${i}.set`, `Override ${i}: ${describeWhen(o.when)}`, o.set])];
  const groups = sets.map(([base, legend, terms]) => fieldset(legend, [
    "loss_multiple" in terms ? input(`${base}.loss_multiple`, "Multiple of the loss", terms.loss_multiple) : null,
    "value_share" in terms ? input(`${base}.value_share`, "Share of customer value (0-1)", terms.value_share) : null,
    ...amounts(`${base}.absolute`, terms.absolute, "Absolute cap"),
  ]));
  if (document_.approvals) {
    groups.push(fieldset("Approval tiers (whole plan cost)", [
      ...amounts("approvals.agent_up_to", document_.approvals.agent_up_to, "Agent decides up to"),
      ...amounts("approvals.lead_up_to", document_.approvals.lead_up_to, "Lead approves up to"),
      input("approvals.escalate_after", "Escalate after (ISO 8601, e.g. PT15M)", document_.approvals.escalate_after),
    ]));
  } else {
    groups.push(fieldset("Approval threshold (whole plan cost)", amounts("approval_threshold", document_.approval_threshold, "Threshold")));
  }
  if (Object.keys(document_.fix_ceiling || {}).length) groups.push(fieldset("Fix ceiling", amounts("fix_ceiling", document_.fix_ceiling, "Ceiling")));
  if (document_.customer_window) {
    groups.push(fieldset("Customer window", [input("customer_window.days", "Days", document_.customer_window.days),
      ...amounts("customer_window.limit", document_.customer_window.limit, "Limit")]));
  }
  groups.push(fieldset("Personal contacts per day", Object.entries(document_.contact_capacity || {})
    .map(([level, n]) => input(`contact_capacity.${level}`, `${level} contacts`, n))));
  groups.push(fieldset("Pacing and plans", [
    input("pacing.strength", "Pacing strength", (document_.pacing || {}).strength),
    input("pacing.max_price", "Pacing max price", (document_.pacing || {}).max_price),
    input("max_extras", "Extras per plan", document_.max_extras),
    input("repeat_window_days", "Repeat window (days)", document_.repeat_window_days),
  ]));
  return groups;
}

// The edited document: the active one with every input's text at its path (integers where
// the document has integers, so a typo reaches the API and comes back as that field's error).
export function editedDocument(form, base) {
  const document_ = structuredClone(base);
  delete document_.version;
  for (const field of form.querySelectorAll("input[data-path]")) {
    const parts = field.dataset.path.split(".");
    let node = document_;
    for (const part of parts.slice(0, -1)) node = node[part];
    const last = parts[parts.length - 1];
    const text = field.value.trim();
    node[last] = Number.isInteger(node[last]) && /^\d+$/.test(text) ? Number(text) : text;
  }
  const effective = document.getElementById("caps-effective").value.trim();
  if (effective) document_.effective_at = `${effective}T00:00:00+00:00`;
  else delete document_.effective_at;
  return document_;
}

function fieldFor(path) {
  return path.startsWith("caps.") && document.getElementById(path) ? path
    : path === "effective_at" ? "caps-effective" : null;
}

function placeCapsErrors(form, errors) {
  // The API names each field under "caps.<path>" and repeats them all under "caps": show the
  // whole message only when no field took it.
  const unplaced = showFieldErrors(form, errors, fieldFor);
  if (form.querySelector("[aria-invalid=true]")) delete unplaced.caps;
  return unplaced;
}

async function loadHistory() {
  const { versions } = await api("GET", "/v1/caps/history");
  document.getElementById("caps-history").replaceChildren(table(["Version", "Created by", "Created at", "Effective at", "State"],
    versions.map((v) => el("tr", {},
      el("th", { scope: "row", text: String(v.version) }),
      el("td", { text: v.created_by }),
      el("td", { text: v.created_at }),
      el("td", { text: v.effective_at }),
      el("td", { text: v.version === active.version ? "active" : v.version > active.version ? "scheduled" : "superseded" })))));
}

export async function loadCaps(onLoaded) {
  const box = document.getElementById("caps");
  try {
    active = await api("GET", "/v1/caps");
    box.replaceChildren(summary(active));
    document.getElementById("caps-fields").replaceChildren(...editorFields(active.document));
    onLoaded(active.document);
    await loadHistory();
    await loadGoverning();
  } catch (error) {
    const alert = el("div", { class: "error", role: "alert" });
    showError(alert, error, "Caps could not be loaded");
    box.replaceChildren(alert);
  }
}

async function loadGoverning() {
  const box = document.getElementById("governing");
  const select = document.getElementById("governing-currency");
  const currencies = Object.keys(active.document.incident_caps.default.absolute || {}).sort();
  if (!select.options.length) {
    select.replaceChildren(...currencies.map((c) => el("option", { value: c }, c)));
    if (currencies.includes("EUR")) select.value = "EUR";
    select.addEventListener("change", () => loadGoverning());
  }
  try {
    const governing = await api("GET", "/v1/caps/governing");
    box.replaceChildren(governingTable(governing, select.value));
  } catch (error) {
    const alert = el("div", { class: "error", role: "alert" });
    showError(alert, error, "Which override governs could not be loaded");
    box.replaceChildren(alert);
  }
}

// When the fields took the API's messages, the summary says so instead of repeating them.
function inPlace(form, error) {
  const placed = form.querySelectorAll("[aria-invalid=true]").length;
  if (!placed) return error;
  return { status: error.status, body: error.body, errors: error.errors,
    message: `${placed} field(s) need correcting: the messages are next to them.` };
}

export function setupCapsForm(whatIf, reload) {
  const form = document.getElementById("caps-form");
  const result = document.getElementById("caps-result");
  const errorBox = document.getElementById("caps-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    clearError(errorBox);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    result.replaceChildren(el("p", {}, "Saving the caps…"));
    try {
      const saved = await api("PUT", "/v1/caps", editedDocument(form, active.document));
      result.replaceChildren(el("div", { class: "ok" }, el("p", {},
        el("strong", {}, `Caps version ${saved.version} saved`), `, in effect from ${saved.effective_at}.`)));
      await reload();
    } catch (error) {
      result.replaceChildren();
      const unplaced = placeCapsErrors(form, error.errors);
      showError(errorBox, inPlace(form, error), "The caps were not saved", unplaced);
      (form.querySelector("[aria-invalid=true]") || errorBox).focus();
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById("caps-whatif").addEventListener("click", () => {
    clearFieldErrors(form);
    clearError(errorBox);
    whatIf({ caps: editedDocument(form, active.document) }, "the edited caps",
      (errors) => placeCapsErrors(form, errors), (error) => inPlace(form, error));
  });
}
