// Models page, champion/challenger: the running (or latest) experiment from
// GET /v1/models/experiments and /v1/models/experiments/<id> (what the worker's pass stored;
// reading never decides), its arms' counts and means, the decision so far, and a chart of the
// always-valid interval of the difference over the checks. The chart's title, axis and the
// decision come from the API in the reader's language (`said`, through gettext).
import { api, el, table } from "./api.js";
import { svg, ticks } from "./charts.js";
import { formatNumber } from "./format.js";

function money(value) {
  return value === null || value === undefined ? "–" : formatNumber(value, 2);
}

// The interval over time: a band from low to high, the estimate as a line, zero dashed.
export function intervalOverTime(checks, said) {
  // Amounts arrive as decimal strings (USD, exact to the cent); the chart places numbers.
  const points = checks.filter((c) => c.low !== null && c.low !== undefined).map((c) => ({
    ...c, low: Number(c.low), high: Number(c.high), difference: Number(c.difference) }));
  const width = 640;
  const height = 260;
  const left = 64;
  const right = 16;
  const top = 16;
  const bottom = 44;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "chart experiment-chart",
    role: "img", "aria-label": `${said.chart}. ${said.decision || ""}`.trim() });
  chart.append(svg("text", { x: (left + width - right) / 2, y: height - 8, "text-anchor": "middle" }, said.axis));
  if (!points.length) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "tick" }, said.decision || ""));
    return chart;
  }
  const n = (c) => (c.n.champion || 0) + (c.n.challenger || 0);
  const lowX = Math.min(...points.map(n));
  const highX = Math.max(...points.map(n));
  const lowY = Math.min(0, ...points.map((c) => c.low));
  const highY = Math.max(0, ...points.map((c) => c.high));
  const x = (v) => left + (highX > lowX ? ((v - lowX) / (highX - lowX)) * (width - left - right) : (width - left - right) / 2);
  const y = (v) => top + (highY > lowY ? ((highY - v) / (highY - lowY)) * (height - top - bottom) : (height - top - bottom) / 2);
  const band = points.map((c) => `${x(n(c))},${y(c.high)}`)
    .concat(points.slice().reverse().map((c) => `${x(n(c))},${y(c.low)}`));
  chart.append(svg("polygon", { points: band.join(" "), class: "band" }));
  chart.append(svg("line", { x1: left, y1: y(0), x2: width - right, y2: y(0), class: "zero" }));
  chart.append(svg("polyline", { class: "curve", points: points.map((c) => `${x(n(c))},${y(c.difference)}`).join(" ") }));
  for (const c of points) {
    const dot = svg("circle", { cx: x(n(c)), cy: y(c.difference), r: 3, class: "point" });
    dot.append(svg("title", {}, `${n(c)}: ${money(c.difference)} (${money(c.low)} – ${money(c.high)})`));
    chart.append(dot);
  }
  chart.append(svg("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: "axis" }),
    svg("line", { x1: left, y1: top, x2: left, y2: height - bottom, class: "axis" }));
  for (const v of ticks(lowY, highY)) {
    chart.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, formatNumber(v, 0)));
  }
  for (const v of ticks(lowX, highX)) {
    chart.append(svg("text", { x: x(v), y: height - bottom + 16, "text-anchor": "middle", class: "tick" }, formatNumber(v, 0)));
  }
  return chart;
}

export async function loadExperiment(box) {
  const listing = await api("GET", "/v1/models/experiments");
  const chosen = listing.running || (listing.experiments[0] || {}).id;
  if (!chosen) {
    box.replaceChildren(el("p", {}, "No experiment yet: start one with POST /v1/models/experiments " +
      "or `remedy models experiment start` (a version that passed the offline gate)."));
    return;
  }
  const e = await api("GET", `/v1/models/experiments/${encodeURIComponent(chosen)}`);
  const latest = e.latest || { n: {}, mean: {} };
  box.replaceChildren(
    el("p", { class: "experiment-summary" },
      el("strong", { text: `${e.challenger} vs ${e.champion}` }),
      ` · ${e.state} · share ${e.share} · alpha ${e.alpha} · started ${String(e.started_at).slice(0, 16)} by ${e.started_by}`,
      e.end_reason ? ` · ${e.end_reason}` : ""),
    el("p", { class: "experiment-decision", role: "status", text: e.said.decision || "" }),
    table(["Arm", "Outcomes", "Mean realised net value (USD)"], ["champion", "challenger"].map((arm) =>
      el("tr", {}, el("th", { scope: "row", text: arm }),
        el("td", { class: "num", text: formatNumber(latest.n[arm] || 0, 0) }),
        el("td", { class: "num", text: money(latest.mean[arm]) })))),
    // The title as HTML, so it wraps on a phone where the chart scales down.
    el("figure", { class: "experiment-figure" }, el("figcaption", { text: e.said.chart }),
      intervalOverTime(e.checks, e.said)));
}
