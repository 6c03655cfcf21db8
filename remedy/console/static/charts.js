// Charts for the console, drawn from API data as text and numbers only (no markup parsing).
// Bars are HTML (readable at any width, labels never overlap: one row per bar); the sweep,
// interval and calibration charts are SVG with labels placed so they do not collide.
import { el } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Horizontal bars: rows [{label, value (number), text (shown)}]. The figures are in the table
// beside it, so the chart is one image with a summary for screen readers.
export function barChart(title, rows, summary) {
  const top = Math.max(0, ...rows.map((r) => r.value));
  const chart = el("figure", { class: "bars", role: "img", "aria-label": `${title}. ${summary || ""}`.trim() },
    el("figcaption", { text: title }));
  for (const row of rows) {
    const fill = el("span", { class: "bar-fill" });
    fill.style.width = `${top > 0 ? Math.max(0, (row.value / top) * 100) : 0}%`;
    if (row.marker !== undefined) fill.classList.add(row.marker);
    chart.append(el("div", { class: "bar-row" },
      el("span", { class: "bar-label", text: row.label, title: row.label }),
      el("span", { class: "bar-track" }, fill),
      el("span", { class: "bar-value", text: row.text })));
  }
  return chart;
}

// Place labels (x, y, text) so none overlaps another: a label that would collide moves up or
// down a line; one that still collides is dropped (its point keeps a tooltip with the text).
export function placeLabels(labels, charWidth = 6.5, lineHeight = 14) {
  const placed = [];
  const overlaps = (a, b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  for (const label of labels) {
    const width = label.text.length * charWidth;
    for (const dy of [0, -lineHeight, lineHeight, -2 * lineHeight, 2 * lineHeight]) {
      const x0 = label.anchor === "end" ? label.x - width : label.x;
      const box = { x0, x1: x0 + width, y0: label.y + dy - lineHeight + 3, y1: label.y + dy + 3 };
      if (!placed.some((p) => overlaps(p.box, box))) {
        placed.push({ ...label, y: label.y + dy, box });
        break;
      }
    }
  }
  return placed;
}

// Three evenly spaced ticks over [low, high].
export function ticks(low, high) {
  return high > low ? [low, (low + high) / 2, high] : [low];
}
