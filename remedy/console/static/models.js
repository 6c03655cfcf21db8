// Models page: versions (GET /v1/models), a version's card (GET /v1/models/<version>), and, for
// admin keys, promotion (POST /v1/models/<version>/promote) after a confirmation.
import { api, el, showError, startPage, table } from "./api.js";

const status = document.getElementById("models-result");
let caller = null;

function metric(value) {
  return typeof value === "number" ? value.toFixed(4) : "–";
}

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
    const holdout = (card.metrics || {}).holdout || {};
    const retention = holdout.retention || {};
    const referrals = holdout.referrals || {};
    const window_ = card.training_window || {};
    const facts = [
      ["Version", card.version], ["Created", card.created_at],
      ["scikit-learn", card.sklearn_version], ["skops", card.skops_version],
      ["Models", Object.entries(card.models || {}).map(([k, v]) => `${k}: ${v}`).join(", ")],
      ["Features", (card.feature_names || []).join(", ")],
      ["Training window", window_.start ? `${window_.start} to ${window_.end}, ${window_.rows} rows` : JSON.stringify(window_)],
      ["Holdout rows", holdout.rows], ["SHA-256", card.model_sha256],
    ];
    const children = [
      el("dl", { class: "facts wide" }, facts.flatMap(([name, value]) =>
        [el("dt", { text: name }), el("dd", { text: value === undefined || value === null ? "–" : String(value) })])),
      table(["Retention metric", "Holdout"], ["auc", "log_loss", "log_loss_base_rate", "brier", "base_rate"]
        .filter((name) => name in retention)
        .map((name) => el("tr", {}, el("th", { scope: "row", text: name }), el("td", { class: "num", text: metric(retention[name]) })))),
      table(["Referrals metric", "Holdout"], Object.entries(referrals)
        .filter(([, value]) => typeof value === "number")
        .map(([name, value]) => el("tr", {}, el("th", { scope: "row", text: name }), el("td", { class: "num", text: metric(value) })))),
      el("details", {}, el("summary", {}, "The whole card"), el("pre", { text: JSON.stringify(card, null, 2) })),
    ];
    box.replaceChildren(...children);
  } catch (error) {
    box.replaceChildren(failure(error, "The card could not be loaded"));
  }
  section.scrollIntoView();
}

async function promote(version, current) {
  const question = `Promote model ${version}? It replaces ${current || "the heuristic prior"} ` +
    "for every recommendation on every worker from their next request.";
  if (!window.confirm(question)) {
    status.replaceChildren(el("p", {}, `Promotion of ${version} cancelled.`));
    return;
  }
  status.replaceChildren(el("p", {}, `Promoting ${version}…`));
  try {
    const promotion = await api("POST", `/v1/models/${encodeURIComponent(version)}/promote`,
      { reason: "promoted from the console" });
    status.replaceChildren(el("div", { class: "ok" },
      el("p", {}, el("strong", {}, `Model ${promotion.version} is now in use`), ` (by ${promotion.by}, ${promotion.at}).`)));
  } catch (error) {
    status.replaceChildren(failure(error, `Model ${version} was not promoted`));
  }
  await loadModels();
  // The clicked button went with the old table: keep focus on the result, not the page's top.
  status.focus();
}

async function loadModels() {
  const versions = document.getElementById("versions");
  try {
    const listing = await api("GET", "/v1/models");
    const canPromote = caller.role === "admin";
    if (!listing.models.length) {
      versions.replaceChildren(el("p", {}, "No model is registered: the heuristic prior ranks plans."));
    } else {
      versions.replaceChildren(
        el("p", {}, `In use: ${listing.current || "the heuristic prior (no model promoted)"}.`),
        table(["Version", "Status", "Created", "Created by", "AUC", "Log loss", "Actions"],
          listing.models.map((m) => {
            const retention = ((m.metrics || {}).holdout || {}).retention || {};
            return el("tr", { "data-version": m.version, class: m.promoted ? "current" : null },
              el("th", { scope: "row", text: m.version }),
              el("td", {}, m.promoted ? el("span", { class: "badge in-use" }, "in use") : "available"),
              el("td", { text: m.created_at }),
              el("td", { text: m.created_by }),
              el("td", { class: "num", text: metric(retention.auc) }),
              el("td", { class: "num", text: metric(retention.log_loss) }),
              el("td", {},
                el("button", { type: "button", onclick: () => showCard(m.version) }, `Card of ${m.version}`),
                canPromote && !m.promoted
                  ? el("button", { type: "button", onclick: () => promote(m.version, listing.current) }, `Promote ${m.version}`)
                  : null));
          })),
        ...(canPromote ? [] : [el("p", { class: "muted" }, "Promotion needs an admin key.")]));
    }
    document.getElementById("promotions").replaceChildren(listing.promotions.length
      ? table(["Version", "At", "By", "Reason"], listing.promotions.map((p) => el("tr", {},
        el("td", { text: p.version }), el("td", { text: p.at }), el("td", { text: p.by }), el("td", { text: p.reason }))))
      : el("p", {}, "No promotion yet."));
  } catch (error) {
    versions.replaceChildren(failure(error, "Model versions could not be loaded"));
  }
}

startPage("models").then((who) => {
  caller = who;
  if (who) loadModels();
});
