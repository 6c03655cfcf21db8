// Finance cockpit, what-if: replay logged decisions under proposed pools or caps, or sweep one
// caps setting, and show the result readably: notes first (what changed nothing and why),
// current against proposed, the sweep as a table and a chart per currency that changed, with
// a marker for today's setting.
import { ApiError, api, clearError, clearFieldErrors, el, showError, showFieldErrors, table } from "./api.js";
import { placeLabels, svg, ticks } from "./charts.js";
import { formatCompact, formatMoney, formatMoneyMap, formatShare } from "./format.js";

// The one place the console calls the what-if. It runs as a job (`remedy worker`): the POST
// answers 202 with the queued job, which is polled at GET /v1/jobs/<id> until it ends, telling
// `say` how far it is; resolves to its result, or rejects with its error (fields named like a
// 422's, so they land next to their inputs).
export async function runWhatIf(body, say = () => {}, pause = 1000) {
  let job = await api("POST", "/v1/budgets/simulate", body);
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

const MEASURES = [
  ["Plans chosen", (r) => String(r.chosen)],
  ["Spend", (r) => formatMoneyMap(r.spend)],
  ["Expected net value", (r) => formatMoneyMap(r.expected_net_value)],
  ["Expected retention", (r) => formatShare(r.expected_retention)],
  ["Share hitting the cap", (r) => formatShare(r.capped_share)],
  ["Approvals needed", (r) => String(r.approvals_needed)],
  ["Skipped for the pool", (r) => String(r.skipped_for_pool)],
  ["Skipped for the customer window", (r) => String(r.skipped_for_customer_window)],
  ["Skipped for contact capacity", (r) => String(r.skipped_for_contact_capacity)],
  ["No plan", (r) => String(r.no_plan)],
];

// Today against the proposal (a pool or caps from the forms above), or today alone.
function comparison(report, proposalLabel) {
  if (!proposalLabel) {
    return table(["Measure", "Today"], MEASURES.map(([name, show]) => el("tr", {},
      el("th", { scope: "row", text: name }), el("td", { class: "num", text: show(report.current) }))),
    "Under the current settings");
  }
  const rows = MEASURES.map(([name, show]) => {
    const now = show(report.current), then = show(report.proposed);
    return el("tr", { class: now === then ? null : "changed" },
      el("th", { scope: "row", text: name }),
      el("td", { class: "num", text: now }),
      el("td", { class: "num", text: then }),
      el("td", { text: now === then ? "same" : "changed" }));
  });
  return table(["Measure", "Today", "Proposed", "Change"], rows, `Today against ${proposalLabel}`);
}

// The currencies whose spend or value moves across the sweep (or differs from today).
export function changedCurrencies(report) {
  const curve = report.sweep ? report.sweep.curve : [];
  const currencies = [...new Set(curve.flatMap((p) => Object.keys(p.spend)))].sort();
  return currencies.filter((c) => new Set(curve.map((p) =>
    `${p.spend[c] || "0"}|${p.expected_net_value[c] || "0"}`)).size > 1);
}

function sweepTable(report) {
  const { path, curve, current_value: today } = report.sweep;
  return table(["Value", "Spend", "Expected net value", "Retention", "Share capped",
    "Approvals", "Skipped (pool / window / contacts)"],
  curve.map((p) => el("tr", { class: p.value === today ? "current" : null },
    el("th", { scope: "row", text: p.value === today ? `${p.value} (today)` : p.value }),
    el("td", { class: "num", text: formatMoneyMap(p.spend) }),
    el("td", { class: "num", text: formatMoneyMap(p.expected_net_value) }),
    el("td", { class: "num", text: formatShare(p.expected_retention) }),
    el("td", { class: "num", text: formatShare(p.capped_share) }),
    el("td", { class: "num", text: String(p.approvals_needed) }),
    el("td", { class: "num", text: `${p.skipped_for_pool} / ${p.skipped_for_customer_window} / ${p.skipped_for_contact_capacity}` }))),
  "Sweep");
}

// Spend (x) against expected net value (y) in one currency, a point per swept value in sweep
// order, today's setting marked; labels placed so they never overlap.
function sweepChart(report, currency, room) {
  const { path, curve, current_value: today } = report.sweep;
  const points = curve.map((p) => ({ value: p.value, spend: Number(p.spend[currency] || 0),
    env: Number(p.expected_net_value[currency] || 0), text: [p.spend[currency] || "0", p.expected_net_value[currency] || "0"] }));
  const now = { spend: Number(report.current.spend[currency] || 0), env: Number(report.current.expected_net_value[currency] || 0) };
  // As wide as the room it has (at most 560), so its text stays legible on a phone.
  const width = Math.round(Math.max(300, Math.min(560, room || 560)));
  const height = 320, left = 64, right = 24, top = 36, bottom = 52;
  const span = (values) => {
    const low = Math.min(...values), high = Math.max(...values);
    const pad = high > low ? (high - low) * 0.08 : Math.max(1, Math.abs(low) * 0.05);
    return [low - pad, high + pad];
  };
  const [x0, x1] = span([...points.map((p) => p.spend), now.spend]);
  const [y0, y1] = span([...points.map((p) => p.env), now.env]);
  const x = (v) => left + ((v - x0) / (x1 - x0)) * (width - left - right);
  const y = (v) => height - bottom - ((v - y0) / (y1 - y0)) * (height - top - bottom);
  const name = path.split(".").pop();
  const title = `Spend against expected net value (${currency})`;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "chart",
    "aria-label": `${title}, sweeping ${path}; the table above has every point`, "data-currency": currency });
  chart.append(svg("title", {}, `${title}, sweeping ${path}`),
    svg("text", { x: width / 2, y: 20, "text-anchor": "middle", class: "chart-title" },
      width < 420 ? `Spend vs expected net value (${currency})` : title),
    svg("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: "axis" }),
    svg("line", { x1: left, y1: top, x2: left, y2: height - bottom, class: "axis" }),
    svg("text", { x: (left + width - right) / 2, y: height - 10, "text-anchor": "middle" }, `spend (${currency})`),
    svg("text", { x: 14, y: (top + height - bottom) / 2, "text-anchor": "middle",
      transform: `rotate(-90 14 ${(top + height - bottom) / 2})` }, `expected net value (${currency})`));
  for (const v of ticks(x0, x1)) {
    chart.append(svg("text", { x: x(v), y: height - bottom + 16, "text-anchor": "middle", class: "tick" }, formatCompact(v)));
  }
  for (const v of ticks(y0, y1)) {
    chart.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, formatCompact(v)));
  }
  chart.append(svg("polyline", { class: "curve", points: points.map((p) => `${x(p.spend)},${y(p.env)}`).join(" ") }));
  for (const p of points) {
    const dot = svg("circle", { cx: x(p.spend), cy: y(p.env), r: 5, class: "point" });
    dot.append(svg("title", {}, `${path} = ${p.value}: spend ${formatMoney(p.text[0], currency)}, ` +
      `expected net value ${formatMoney(p.text[1], currency)}`));
    chart.append(dot);
  }
  // Today's setting: a diamond at what the current settings give.
  const cx = x(now.spend), cy = y(now.env);
  const marker = svg("path", { d: `M ${cx} ${cy - 8} L ${cx + 8} ${cy} L ${cx} ${cy + 8} L ${cx - 8} ${cy} Z`, class: "today" });
  marker.append(svg("title", {}, `today (${name} = ${today ?? "?"})`));
  chart.append(marker);
  // Labels: equal points share one label; the group at today's position names today too,
  // else today's marker gets its own label first. Anchors face the chart's middle.
  const groups = new Map();
  for (const p of points) {
    const at = `${p.spend}|${p.env}`;
    groups.set(at, [...(groups.get(at) || []), p.value]);
  }
  const middle = (left + width - right) / 2;
  const todayAt = `${now.spend}|${now.env}`;
  const wanted = groups.has(todayAt) ? [] : [{ x: cx + (cx > middle ? -10 : 10), y: cy - 10,
    anchor: cx > middle ? "end" : "start", text: `today (${today ?? "?"})`, cls: "today-label" }];
  for (const [at, values] of groups) {
    const [sx, sy] = at.split("|").map(Number);
    const rightHalf = x(sx) > middle;
    const isToday = at === todayAt;
    wanted.push({ x: x(sx) + (rightHalf ? -10 : 10), y: y(sy) - 10, anchor: rightHalf ? "end" : "start",
      text: isToday ? `${values.join(", ")} (today: ${today ?? "?"})` : values.join(", "),
      cls: isToday ? "today-label" : "point-label" });
  }
  wanted.sort((a, b) => (b.cls === "today-label") - (a.cls === "today-label"));  // placed first
  for (const label of placeLabels(wanted)) {
    chart.append(svg("text", { x: label.x, y: label.y, "text-anchor": label.anchor, class: label.cls }, label.text));
  }
  return chart;
}

export function renderWhatIf(report, proposalLabel) {
  const box = document.getElementById("whatif-result");
  const children = [el("h3", { id: "whatif-result-heading", tabindex: "-1" },
    `Replay of ${report.current.decisions} decision(s), ${report.from.slice(0, 10)} to ${report.to.slice(0, 10)}, model ${report.model}`)];
  if (report.notes && report.notes.length) {
    children.push(el("div", { class: "notice", id: "whatif-notes" },
      el("p", {}, el("strong", {}, "Nothing moved:"), " read why before changing this setting."),
      el("ul", {}, report.notes.map((note) => el("li", { text: note })))));
  }
  // A proposal's comparison comes first; a sweep's curve before today's figures.
  if (proposalLabel) children.push(comparison(report, proposalLabel));
  if (report.sweep && report.sweep.curve.length) {
    children.push(sweepTable(report));
    const changed = changedCurrencies(report);
    if (!changed.length) children.push(el("p", { class: "muted" }, "No currency's spend or value changed across the sweep, so there is no curve to draw."));
    const room = box.clientWidth - 2;
    for (const currency of changed) children.push(sweepChart(report, currency, room));
  }
  if (!proposalLabel) children.push(comparison(report, null));
  box.replaceChildren(...children);
  return box;
}

function fieldFor(path) {
  return { from: "from", to: "to", "sweep.path": "sweep-path", "sweep.values": "sweep-from" }[path] || null;
}

function range() {
  return { from: document.getElementById("from").value.trim(), to: document.getElementById("to").value.trim() };
}

// Run the what-if of a proposal ({pools} or {caps}) over the what-if form's date range.
// `placeErrors(errors)` shows field errors in the proposing form and returns the rest.
export async function whatIfProposal(proposal, label, placeErrors, summarise = (error) => error) {
  const errorBox = document.getElementById("whatif-error");
  clearError(errorBox);
  const box = document.getElementById("whatif-result");
  box.replaceChildren(el("p", {}, `Replaying with ${label}…`));
  document.getElementById("whatif-heading").scrollIntoView();
  try {
    const say = (text) => box.replaceChildren(el("p", {}, `${label}: ${text}`));
    const report = await runWhatIf({ ...range(), ...proposal }, say);
    renderWhatIf(report, label);
  } catch (error) {
    box.replaceChildren();
    const form = document.getElementById("whatif-form");
    const left = showFieldErrors(form, error.errors, fieldFor);
    const unplaced = placeErrors ? placeErrors(left) : left;
    showError(errorBox, summarise(error), "The what-if could not run", unplaced);
  }
  document.getElementById(errorBox.hidden ? "whatif-result-heading" : "whatif-error")?.focus();
}

export function setupWhatIf() {
  const form = document.getElementById("whatif-form");
  const errorBox = document.getElementById("whatif-error");
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86400000).toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  document.getElementById("from").value = monthAgo < today ? monthAgo : today;
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
    const body = { ...range(),
      sweep: { path: value("sweep-path"), values: sweepValues(value("sweep-from"), value("sweep-to"), steps) } };
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const box = document.getElementById("whatif-result");
    box.replaceChildren(el("p", {}, "Queued…"));
    try {
      renderWhatIf(await runWhatIf(body, (text) => box.replaceChildren(el("p", {}, text))), null);
    } catch (error) {
      document.getElementById("whatif-result").replaceChildren();
      const unplaced = showFieldErrors(form, error.errors, fieldFor);
      showError(errorBox, error, "The what-if could not run", unplaced);
    } finally {
      button.disabled = false;
    }
  });
}

// Offer every sweepable term of the active caps in the sweep's select: the default and each
// override by what it matches, so finance sweeps the term that governs the slice it means.
export function offerSweepPaths(document_) {
  const select = document.getElementById("sweep-path");
  const options = [];
  const add = (path, label) => options.push(el("option", { value: path }, label));
  const caps = document_.incident_caps;
  for (const term of ["loss_multiple", "value_share"]) add(`incident_caps.default.${term}`, `${term} (default)`);
  (caps.overrides || []).forEach((o, i) => {
    for (const term of ["loss_multiple", "value_share"]) {
      if (term in o.set) add(`incident_caps.overrides.${i}.set.${term}`, `${term} (override ${i}: ${describeWhen(o.when)})`);
    }
  });
  for (const currency of Object.keys(caps.default.absolute || {}).sort()) add(`incident_caps.default.absolute.${currency}`, `absolute cap in ${currency} (default)`);
  if (document_.approvals) {
    for (const tier of ["agent_up_to", "lead_up_to"]) {
      for (const currency of Object.keys(document_.approvals[tier] || {}).sort()) {
        add(`approvals.${tier}.${currency}`, `${tier === "agent_up_to" ? "agent decides up to" : "lead approves up to"} in ${currency}`);
      }
    }
  } else {
    for (const currency of Object.keys(document_.approval_threshold || {}).sort()) add(`approval_threshold.${currency}`, `approval threshold in ${currency}`);
  }
  for (const level of Object.keys(document_.contact_capacity || {})) add(`contact_capacity.${level}`, `daily ${level} contacts`);
  if (document_.customer_window) add("customer_window.days", "customer window (days)");
  const chosen = select.value;
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

export function describeWhen(when) {
  const parts = [];
  if (when.severity) parts.push(`severity ${when.severity.join(", ")}`);
  if (when.fault_type) parts.push(`${when.fault_type.join(", ")} fault`);
  return parts.join(" and ") || "every incident";
}
