// A model card read for people: facts, holdout metrics, policy values with their intervals
// (a table and a dot-and-whisker chart) and the calibration plot, all drawn from the card's
// JSON (GET /v1/models/<version>), numbers placed by value and labelled as text.
import { el, table } from "./api.js";
import { svg } from "./charts.js";
import { formatNumber } from "./format.js";

export function metric(value) {
  return typeof value === "number" ? value.toFixed(4) : "–";
}

// Every list of estimates in the card's policy values, as rows {policy, method, value, low,
// high, n}: bundled cards keep them under `offpolicy`, trained cards at the top level.
export function policyEstimates(card) {
  const values = (card.metrics || {}).policy_values || {};
  const groups = values.offpolicy || values;
  const rows = [];
  for (const [policy, estimates] of Object.entries(groups)) {
    if (!Array.isArray(estimates)) continue;
    for (const e of estimates) {
      if (e && typeof e.value === "number") rows.push({ policy, ...e });
    }
  }
  return { unit: values.unit || "net value per decision (USD)", rows };
}

function intervalChart(rows, unit) {
  const width = 600, rowHeight = 26, left = 230, right = 30, top = 28;
  const height = top + rows.length * rowHeight + 36;
  const low = Math.min(...rows.map((r) => r.low ?? r.value)), high = Math.max(...rows.map((r) => r.high ?? r.value));
  const pad = (high - low) * 0.05 || 1;
  const x = (v) => left + ((v - (low - pad)) / (high - low + 2 * pad)) * (width - left - right);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "chart", role: "img",
    "aria-label": `Policy values with 95% intervals, ${unit}; the table beside it has every number` });
  chart.append(svg("text", { x: width / 2, y: 18, "text-anchor": "middle", class: "chart-title" }, `Policy values (${unit})`));
  rows.forEach((r, i) => {
    const y = top + i * rowHeight + rowHeight / 2;
    chart.append(svg("text", { x: left - 8, y: y + 4, "text-anchor": "end" }, `${r.policy} · ${r.method}`));
    if (r.low !== undefined && r.high !== undefined) {
      chart.append(svg("line", { x1: x(r.low), y1: y, x2: x(r.high), y2: y, class: "whisker" }));
    }
    const dot = svg("circle", { cx: x(r.value), cy: y, r: 4, class: "point" });
    dot.append(svg("title", {}, `${r.policy} ${r.method}: ${r.value.toFixed(1)} (${r.low?.toFixed(1)} to ${r.high?.toFixed(1)})`));
    chart.append(dot);
  });
  const axisY = top + rows.length * rowHeight + 6;
  chart.append(svg("line", { x1: left, y1: axisY, x2: width - right, y2: axisY, class: "axis" }));
  for (const v of [low, (low + high) / 2, high]) {
    chart.append(svg("text", { x: x(v), y: axisY + 16, "text-anchor": "middle", class: "tick" }, v.toFixed(0)));
  }
  return chart;
}

function calibrationChart(bins) {
  const size = 320, margin = 44;
  const at = (v) => margin + v * (size - 2 * margin);
  const flip = (v) => size - at(v);
  const chart = svg("svg", { viewBox: `0 0 ${size} ${size}`, width: size, height: size, class: "chart", role: "img",
    "aria-label": "Calibration: observed against predicted retention per bin; the table beside it has every bin" });
  chart.append(svg("text", { x: size / 2, y: 18, "text-anchor": "middle", class: "chart-title" }, "Calibration (holdout)"),
    svg("line", { x1: at(0), y1: flip(0), x2: at(1), y2: flip(1), class: "diagonal" }),
    svg("line", { x1: at(0), y1: flip(0), x2: at(1), y2: flip(0), class: "axis" }),
    svg("line", { x1: at(0), y1: flip(0), x2: at(0), y2: flip(1), class: "axis" }),
    svg("text", { x: size / 2, y: size - 8, "text-anchor": "middle" }, "predicted P(stay)"),
    svg("text", { x: 12, y: size / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${size / 2})` }, "observed share stayed"));
  for (const v of [0, 0.5, 1]) {
    chart.append(svg("text", { x: at(v), y: flip(0) + 14, "text-anchor": "middle", class: "tick" }, String(v)),
      svg("text", { x: at(0) - 6, y: flip(v) + 4, "text-anchor": "end", class: "tick" }, String(v)));
  }
  const most = Math.max(...bins.map((b) => b.count));
  chart.append(svg("polyline", { class: "curve", points: bins.map((b) => `${at(b.predicted)},${flip(b.observed)}`).join(" ") }));
  for (const b of bins) {
    const dot = svg("circle", { cx: at(b.predicted), cy: flip(b.observed), r: 2 + 5 * Math.sqrt(b.count / most), class: "point" });
    dot.append(svg("title", {}, `${b.low}-${b.high}: predicted ${b.predicted.toFixed(3)}, observed ${b.observed.toFixed(3)}, ${b.count} rows`));
    chart.append(dot);
  }
  return chart;
}

export function cardParts(card) {
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
  const parts = [
    el("dl", { class: "facts wide" }, facts.flatMap(([name, value]) =>
      [el("dt", { text: name }), el("dd", { text: value === undefined || value === null ? "–" : String(value) })])),
    table(["Retention metric", "Holdout"], ["auc", "log_loss", "log_loss_base_rate", "brier", "base_rate"]
      .filter((name) => name in retention)
      .map((name) => el("tr", {}, el("th", { scope: "row", text: name }), el("td", { class: "num", text: metric(retention[name]) })))),
    table(["Referrals metric", "Holdout"], Object.entries(referrals)
      .filter(([, value]) => typeof value === "number")
      .map(([name, value]) => el("tr", {}, el("th", { scope: "row", text: name }), el("td", { class: "num", text: metric(value) })))),
  ];
  const { unit, rows } = policyEstimates(card);
  if (rows.length) {
    parts.push(el("h3", { text: "Policy values" }),
      el("div", { class: "side-by-side" },
        table(["Policy", "Method", "Value", "95% interval", "Decisions"], rows.map((r) => el("tr", {},
          el("th", { scope: "row", text: r.policy }),
          el("td", { text: r.method }),
          el("td", { class: "num", text: formatNumber(r.value, 1) }),
          el("td", { class: "num", text: r.low === undefined ? "–" : `${formatNumber(r.low, 1)} to ${formatNumber(r.high, 1)}` }),
          el("td", { class: "num", text: r.n === undefined ? "–" : formatNumber(r.n, 0) }))), `Policy values, ${unit}`),
        intervalChart(rows, unit)));
  }
  const bins = retention.calibration || [];
  if (bins.length) {
    parts.push(el("h3", { text: "Calibration" }),
      el("div", { class: "side-by-side" },
        table(["Predicted bin", "Predicted", "Observed", "Rows"], bins.map((b) => el("tr", {},
          el("th", { scope: "row", text: `${b.low}–${b.high}` }),
          el("td", { class: "num", text: formatNumber(b.predicted, 3) }),
          el("td", { class: "num", text: formatNumber(b.observed, 3) }),
          el("td", { class: "num", text: formatNumber(b.count, 0) }))), "Calibration bins"),
        calibrationChart(bins)));
  }
  parts.push(el("details", {}, el("summary", {}, "The whole card"), el("pre", { text: JSON.stringify(card, null, 2) })));
  return parts;
}
