// Finance page: pools (GET /v1/budgets), caps and their history (GET /v1/caps, /v1/caps/history),
// and a what-if sweep (POST /v1/budgets/simulate, a job polled at GET /v1/jobs/<id>) shown as a
// table and an inline SVG chart.
import { ApiError, api, clearError, clearFieldErrors, el, money, moneyMap, showError, showFieldErrors,
  startPage, table } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";

// A share ("0.7709") as a percentage for reading ("77.1%"); shares are ratios, not money.
function percent(share) {
  return `${(Number(share) * 100).toFixed(1)}%`;
}

function paceBar(pool) {
  const spent = Math.min(1, Number(pool.pace.spent_share));
  const elapsed = Math.min(1, Number(pool.pace.elapsed_share));
  const label = `${percent(pool.pace.spent_share)} of the limit spent, ` +
    `${percent(pool.pace.elapsed_share)} of the period gone`;
  const bar = el("div", { class: "pace", role: "img", "aria-label": label, title: label },
    el("div", { class: spent > elapsed ? "pace-spent ahead" : "pace-spent" }),
    el("div", { class: "pace-elapsed" }));
  // Widths are set through the CSSOM: the page's CSP refuses inline style attributes.
  bar.children[0].style.width = `${spent * 100}%`;
  bar.children[1].style.left = `${elapsed * 100}%`;
  return el("div", {}, bar, el("span", { class: "muted small", text: label }));
}

async function loadPools() {
  const box = document.getElementById("pools");
  try {
    const { pools } = await api("GET", "/v1/budgets");
    if (!pools.length) {
      box.replaceChildren(el("p", {}, "No pool is in effect: accepting plans is refused until finance sets one."));
      return;
    }
    box.replaceChildren(table(
      ["Team", "Currency", "Period", "Limit", "Reserved", "Committed", "Remaining", "Pace", "Cost price"],
      pools.map((p) => el("tr", {},
        el("th", { scope: "row", text: p.team }),
        el("td", { text: p.currency }),
        el("td", {}, `${p.period} ${p.period_key}`,
          p.scheduled ? el("div", { class: "muted small" },
            `v${p.scheduled.version}: ${money(p.scheduled.limit, p.scheduled.currency)} from ${p.scheduled.effective_at}`) : null),
        el("td", { class: "num", text: money(p.limit, p.currency) }),
        el("td", { class: "num", text: money(p.reserved, p.currency) }),
        el("td", { class: "num", text: money(p.committed, p.currency) }),
        el("td", { class: "num remaining", text: money(p.remaining, p.currency) }),
        el("td", {}, paceBar(p)),
        el("td", { class: "num", text: p.pace.cost_price })))));
  } catch (error) {
    const alert = el("div", { class: "error", role: "alert" });
    showError(alert, error, "Pools could not be loaded");
    box.replaceChildren(alert);
  }
}

function capsSummary(document_) {
  const defaults = document_.incident_caps.default;
  // Approval tiers (a document written before tiers has one approval_threshold: finance above).
  const tiers = document_.approvals
    || { agent_up_to: document_.approval_threshold || {}, lead_up_to: {}, escalate_after: null };
  const leads = tiers.lead_up_to || {};
  const currencies = Object.keys(defaults.absolute || {}).sort();
  const window_ = document_.customer_window || {};
  return el("div", {},
    el("p", {}, `Default per-incident cap: the least of ${defaults.loss_multiple} × the loss, ` +
      `${defaults.value_share} × the customer's annual value, and the absolute cap; ` +
      `${(document_.incident_caps.overrides || []).length} override(s) by severity and fault type.`),
    el("p", {}, "Approval tiers by a plan's whole cost: the agent decides alone, then a team lead of the " +
      "plan's team approves, above that finance" +
      (tiers.escalate_after ? `; a plan waiting longer than ${tiers.escalate_after} goes to finance.` : ".")),
    table(["Currency", "Absolute cap", "Agent decides up to", "Lead approves up to",
      `Customer window (${window_.days || "–"} days)`],
    currencies.map((c) => el("tr", {},
      el("th", { scope: "row", text: c }),
      el("td", { class: "num", text: money((defaults.absolute || {})[c], c) }),
      el("td", { class: "num", text: money((tiers.agent_up_to || {})[c], c) }),
      el("td", { class: "num", text: leads[c] ? money(leads[c], c) : "no lead tier" }),
      el("td", { class: "num", text: window_.limit && window_.limit[c] ? money(window_.limit[c], c) : "none" })))),
    el("details", {}, el("summary", {}, "The whole caps document"),
      el("pre", { text: JSON.stringify(document_, null, 2) })));
}

async function loadCaps() {
  const box = document.getElementById("caps");
  const history = document.getElementById("caps-history");
  try {
    const [active, { versions }] = await Promise.all([api("GET", "/v1/caps"), api("GET", "/v1/caps/history")]);
    box.replaceChildren(
      el("p", {}, `Active: version ${active.version}, by ${active.created_by}, in effect since ${active.effective_at}.`),
      capsSummary(active.document));
    history.replaceChildren(table(["Version", "Created by", "Created at", "Effective at", "State"],
      versions.map((v) => el("tr", {},
        el("th", { scope: "row", text: String(v.version) }),
        el("td", { text: v.created_by }),
        el("td", { text: v.created_at }),
        el("td", { text: v.effective_at }),
        el("td", { text: v.version === active.version ? "active"
          : v.version > active.version ? "scheduled" : "superseded" })))));
  } catch (error) {
    const alert = el("div", { class: "error", role: "alert" });
    showError(alert, error, "Caps could not be loaded");
    box.replaceChildren(alert);
  }
}

// Evenly spaced sweep values from..to, computed in scaled integers so 0.1 steps stay exact.
export function sweepValues(from, to, steps) {
  const decimals = (text) => (text.split(".")[1] || "").length;
  const places = Math.max(decimals(from), decimals(to)) + 2;
  const scale = 10 ** places;
  const low = Math.round(Number(from) * scale);
  const high = Math.round(Number(to) * scale);
  if (!Number.isFinite(low) || !Number.isFinite(high)) return null;
  const values = [];
  for (let i = 0; i < steps; i += 1) {
    const scaled = steps === 1 ? low : Math.round(low + ((high - low) * i) / (steps - 1));
    values.push((scaled / scale).toFixed(places).replace(/\.?0+$/, ""));
  }
  return [...new Set(values)];
}

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Spend (x) against expected net value (y) for one currency, one point per sweep value, in
// sweep order. Positions need numbers; every label shows the API's own decimal strings.
function curveChart(curve, currency, path) {
  const points = curve.filter((p) => p.spend[currency] !== undefined)
    .map((p) => ({ value: p.value, spend: p.spend[currency], env: p.expected_net_value[currency] || "0" }));
  const width = 640, height = 340, left = 90, right = 30, top = 40, bottom = 60;
  const xs = points.map((p) => Number(p.spend));
  const ys = points.map((p) => Number(p.env));
  const span = (values) => {
    const low = Math.min(...values), high = Math.max(...values);
    return high > low ? [low, high] : [low - 1, high + 1];
  };
  const [x0, x1] = span(xs), [y0, y1] = span(ys);
  const x = (v) => left + ((v - x0) / (x1 - x0)) * (width - left - right);
  const y = (v) => height - bottom - ((v - y0) / (y1 - y0)) * (height - top - bottom);
  const title = `Spend against expected net value (${currency})`;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": `${title}, sweeping ${path}`, class: "chart", "data-currency": currency });
  chart.append(svg("title", {}, `${title}, sweeping ${path}`),
    svg("text", { x: width / 2, y: 20, "text-anchor": "middle", class: "chart-title" }, title),
    svg("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: "axis" }),
    svg("line", { x1: left, y1: top, x2: left, y2: height - bottom, class: "axis" }),
    svg("text", { x: (left + width - right) / 2, y: height - 15, "text-anchor": "middle" },
      `spend (${currency}); points labelled with ${path.split(".").pop()}`),
    svg("text", { x: 18, y: (top + height - bottom) / 2, "text-anchor": "middle",
      transform: `rotate(-90 18 ${(top + height - bottom) / 2})` }, `expected net value (${currency})`));
  const byX = [...points].sort((a, b) => Number(a.spend) - Number(b.spend));
  const byY = [...points].sort((a, b) => Number(a.env) - Number(b.env));
  for (const [p, anchor] of [[byX[0], "start"], [byX[byX.length - 1], "end"]]) {
    chart.append(svg("text", { x: x(Number(p.spend)), y: height - bottom + 18, "text-anchor": anchor, class: "tick" }, p.spend));
  }
  for (const p of [byY[0], byY[byY.length - 1]]) {
    chart.append(svg("text", { x: left - 6, y: y(Number(p.env)) + 4, "text-anchor": "end", class: "tick" }, p.env));
  }
  chart.append(svg("polyline", { class: "curve",
    points: points.map((p) => `${x(Number(p.spend))},${y(Number(p.env))}`).join(" ") }));
  // Settings that end in the same spend and value share a point; its label names them all.
  const labels = new Map();
  for (const p of points) {
    const at = `${p.spend}|${p.env}`;
    labels.set(at, [...(labels.get(at) || []), p.value]);
  }
  for (const p of points) {
    const dot = svg("circle", { cx: x(Number(p.spend)), cy: y(Number(p.env)), r: 5, class: "point" });
    dot.append(svg("title", {}, `${path} = ${p.value}: spend ${p.spend} ${currency}, expected net value ${p.env} ${currency}`));
    chart.append(dot);
    const values = labels.get(`${p.spend}|${p.env}`);
    if (values[0] !== p.value) continue;
    const rightHalf = x(Number(p.spend)) > (left + width - right) / 2;
    chart.append(svg("text", { x: x(Number(p.spend)) + (rightHalf ? -8 : 8), y: y(Number(p.env)) - 8,
      "text-anchor": rightHalf ? "end" : "start", class: "point-label" }, values.join(", ")));
  }

  return chart;
}

// What the logged decisions cost and earn under the current settings (the form proposes no
// caps, rules or pools of its own, so "proposed" equals "current" here and is not repeated).
function currentSummary(report) {
  const row = (label, value) => el("tr", {}, el("th", { scope: "row", text: label }), el("td", { text: value }));
  const { current } = report;
  return table(["Measure", "Value"], [
    row("Decisions replayed", String(current.decisions)),
    row("Plans chosen", String(current.chosen)),
    row("Spend", moneyMap(current.spend)),
    row("Expected net value", moneyMap(current.expected_net_value)),
    row("Expected retention", current.expected_retention),
    row("Share capped", current.capped_share),
    row("Approvals needed", String(current.approvals_needed)),
  ], "Under the current settings");
}

function renderWhatIf(report) {
  const box = document.getElementById("whatif-result");
  const curve = report.sweep ? report.sweep.curve : [];
  const currencies = [...new Set(curve.flatMap((p) => Object.keys(p.spend)))].sort();
  const children = [el("h3", { id: "whatif-result-heading" },
    `Replay of ${report.current.decisions} decision(s), ${report.from} to ${report.to}, model ${report.model}`)];
  if (!report.current.decisions) {
    children.push(el("p", {}, "No decisions were logged in this range; choose another range."));
  }
  if (curve.length) {
    children.push(table([report.sweep.path, "Spend", "Expected net value"],
      curve.map((p) => el("tr", {}, el("th", { scope: "row", text: p.value }),
        el("td", { class: "num", text: moneyMap(p.spend) }),
        el("td", { class: "num", text: moneyMap(p.expected_net_value) }))), "Sweep"));
    for (const currency of currencies) children.push(curveChart(curve, currency, report.sweep.path));
  }
  children.push(currentSummary(report));
  box.replaceChildren(...children);
}

// A what-if runs as a job (`remedy worker`): poll it until it ends, telling `say` how far it
// is; resolve to its result, or reject with its error (fields named like a 422's).
export async function waitForJob(job, say, pause = 1000) {
  for (;;) {
    if (job.status === "succeeded") return job.result;
    if (job.status === "failed") throw new ApiError(422, job.error);
    const { done, total } = job.progress;
    say(job.status === "queued" ? "Queued: waiting for a worker…"
      : total ? `Replaying… ${Math.floor((100 * done) / total)}% (${done} of ${total} decisions)` : "Replaying…");
    await new Promise((resolve) => setTimeout(resolve, pause));
    job = await api("GET", `/v1/jobs/${encodeURIComponent(job.id)}`);
  }
}

// API field paths of the simulate request -> inputs of the form.
function fieldFor(path) {
  return { from: "from", to: "to", "sweep.path": "sweep-path", "sweep.values": "sweep-from" }[path] || null;
}

function setupWhatIf() {
  const form = document.getElementById("whatif-form");
  const errorBox = document.getElementById("whatif-error");
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  document.getElementById("from").value = today;
  document.getElementById("to").value = tomorrow;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    clearError(errorBox);
    const value = (id) => document.getElementById(id).value.trim();
    const steps = Number.parseInt(value("sweep-steps"), 10);
    const local = {};
    if (!/^\d+(\.\d+)?$/.test(value("sweep-from"))) local["sweep-from"] = ["a number such as 1 or 1.5"];
    if (!/^\d+(\.\d+)?$/.test(value("sweep-to"))) local["sweep-to"] = ["a number such as 6"];
    if (!(steps >= 1 && steps <= 50)) local["sweep-steps"] = ["from 1 to 50 points"];
    if (Object.keys(local).length) {
      showFieldErrors(form, local, (id) => id);
      return;
    }
    const body = {
      from: value("from"), to: value("to"),
      sweep: { path: value("sweep-path"), values: sweepValues(value("sweep-from"), value("sweep-to"), steps) },
    };
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const result = document.getElementById("whatif-result");
    result.replaceChildren(el("p", {}, "Queued…"));
    try {
      const job = await api("POST", "/v1/budgets/simulate", body);
      renderWhatIf(await waitForJob(job, (text) => result.replaceChildren(el("p", {}, text))));
    } catch (error) {
      document.getElementById("whatif-result").replaceChildren();
      const unplaced = showFieldErrors(form, error.errors, fieldFor);
      showError(errorBox, error, "The what-if could not run", unplaced);
    } finally {
      button.disabled = false;
    }
  });
}

startPage("finance").then((who) => {
  if (!who) return;
  setupWhatIf();
  loadPools();
  loadCaps();
});
