// Models page: versions (GET /v1/models) with when and why each was last promoted, a version's
// card (GET /v1/models/<version>, drawn by model_card.js), and, for admin keys, promotion
// (POST /v1/models/<version>/promote) and rollback (POST /v1/models/rollback), each with a
// reason and after a confirmation; the champion/challenger experiment (experiments.js).
import { api, el, showError, startPage, table } from "./api.js";
import { loadExperiment } from "./experiments.js";
import { cardParts, metric } from "./model_card.js";

const status = document.getElementById("models-result");
let caller = null;

function failure(error, lead) {
  const box = el("div", { class: "error", role: "alert" });
  showError(box, error, lead);
  return box;
}

async function showCard(version) {
  const section = document.getElementById("card-section");
  const box = document.getElementById("card");
  section.hidden = false;
  document.getElementById("card-heading").textContent = `Model card: ${version}`;
  try {
    const { card } = await api("GET", `/v1/models/${encodeURIComponent(version)}`);
    box.replaceChildren(...cardParts(card));
  } catch (error) {
    box.replaceChildren(failure(error, "The card could not be loaded"));
  }
  section.scrollIntoView();
}

// The reason typed for a change, or null after asking for one next to its field.
function reason() {
  const input = document.getElementById("promotion-reason");
  const slot = document.getElementById("promotion-reason-error");
  const text = input.value.trim();
  if (!text) {
    input.setAttribute("aria-invalid", "true");
    slot.textContent = "Say why, for the promotion history and the audit log.";
    input.focus();
    return null;
  }
  input.removeAttribute("aria-invalid");
  slot.textContent = "";
  return text;
}

async function change(question, cancelled, busy, request, done, refused) {
  const why = reason();
  if (why === null) return;
  if (!window.confirm(question)) {
    status.replaceChildren(el("p", {}, cancelled));
    return;
  }
  status.replaceChildren(el("p", {}, busy));
  try {
    const promotion = await request(why);
    status.replaceChildren(el("div", { class: "ok" },
      el("p", {}, el("strong", {}, done(promotion)), ` (by ${promotion.by}, ${promotion.at}: ${promotion.reason}).`)));
    document.getElementById("promotion-reason").value = "";
  } catch (error) {
    status.replaceChildren(failure(error, refused));
  }
  await loadModels();
  // The clicked button went with the old table: keep focus on the result, not the page's top.
  status.focus();
}

function promote(version, current) {
  return change(`Promote model ${version}? It replaces ${current || "the heuristic prior"} ` +
    "for every recommendation on every worker from their next request.",
  `Promotion of ${version} cancelled.`, `Promoting ${version}…`,
  (why) => api("POST", `/v1/models/${encodeURIComponent(version)}/promote`, { reason: why }),
  (promotion) => `Model ${promotion.version} is now in use`, `Model ${version} was not promoted`);
}

function rollback(current) {
  return change(`Roll back from ${current}? The model in use before it ranks every recommendation ` +
    "on every worker from their next request.",
  "Rollback cancelled.", `Rolling back from ${current}…`,
  (why) => api("POST", "/v1/models/rollback", { reason: why }),
  (promotion) => `Rolled back: model ${promotion.version} is now in use`, "The rollback was refused");
}

function lastPromotion(m) {
  const last = m.last_promotion;
  return last ? `${last.reason || "no reason given"} (${last.by}, ${last.at.slice(0, 10)})` : "never";
}

async function loadModels() {
  const versions = document.getElementById("versions");
  try {
    const listing = await api("GET", "/v1/models");
    const admin = caller.role === "admin";
    document.getElementById("change-form").hidden = !admin;
    document.getElementById("rollback").onclick = () => rollback(listing.current);
    document.getElementById("rollback").disabled = listing.promotions.length < 2;
    if (!listing.models.length) {
      versions.replaceChildren(el("p", {}, "No model is registered: the heuristic prior ranks plans."));
    } else {
      versions.replaceChildren(
        el("p", {}, `In use: ${listing.current || "the heuristic prior (no model promoted)"}.`),
        table(["Version", "Status", "Created", "AUC", "Log loss", "Last promoted: why", "Actions"],
          listing.models.map((m) => {
            const retention = ((m.metrics || {}).holdout || {}).retention || {};
            return el("tr", { "data-version": m.version, class: m.promoted ? "current" : null },
              el("th", { scope: "row", text: m.version }),
              el("td", {}, m.promoted ? el("span", { class: "badge in-use" }, "in use") : "available"),
              el("td", { text: `${String(m.created_at).slice(0, 10)} by ${m.created_by}` }),
              el("td", { class: "num", text: metric(retention.auc) }),
              el("td", { class: "num", text: metric(retention.log_loss) }),
              el("td", { class: "last-promotion", text: lastPromotion(m) }),
              el("td", {},
                el("button", { type: "button", onclick: () => showCard(m.version) }, `Card of ${m.version}`),
                admin && !m.promoted
                  ? el("button", { type: "button", onclick: () => promote(m.version, listing.current) }, `Promote ${m.version}`)
                  : null));
          })),
        ...(admin ? [] : [el("p", { class: "muted" }, "Promotion and rollback need an admin key.")]));
    }
    document.getElementById("promotions").replaceChildren(listing.promotions.length
      ? table(["Version", "At", "By", "Reason"], listing.promotions.map((p) => el("tr", {},
        el("td", { text: p.version }), el("td", { text: p.at }), el("td", { text: p.by }), el("td", { text: p.reason }))))
      : el("p", {}, "No promotion yet."));
  } catch (error) {
    versions.replaceChildren(failure(error, "Model versions could not be loaded"));
  }
  const experiment = document.getElementById("experiment");
  try {
    await loadExperiment(experiment);
  } catch (error) {
    experiment.replaceChildren(failure(error, "The experiment could not be loaded"));
  }
}

startPage("models").then((who) => {
  caller = who;
  if (who) loadModels();
});
