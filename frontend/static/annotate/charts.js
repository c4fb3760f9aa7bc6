// Small SVG charts with axis titles and value labels printed on the chart (readable without hover).

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  const f = value / exp;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * exp;
}

// For counts: four whole-number ticks, each a nice step (1, 2, 5, 10, 20, ...) of at least value/4.
function niceCountMax(value) {
  return 4 * Math.max(1, niceMax(Math.ceil(value / 4)));
}

// Axis ticks: quarters of a nice maximum, printed exactly (0.25 stays 0.25), whatever the format
// of the value labels rounds to.
const tick = (v) => String(Math.round(v * 1000) / 1000);

function frame({ width, height, margin, yMax, yLabel, xLabel, title, format = tick }) {
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  root.append(svg("title", {}, title));
  const plotH = height - margin.top - margin.bottom;
  const y = (v) => margin.top + plotH - (v / yMax) * plotH;
  const grid = svg("g", { class: "grid" });
  const axis = svg("g", { class: "axis" });
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    grid.append(svg("line", { x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v) }));
    axis.append(svg("text", { x: margin.left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  axis.append(svg("line", { x1: margin.left, x2: margin.left, y1: margin.top, y2: margin.top + plotH }));
  axis.append(svg("line", { x1: margin.left, x2: width - margin.right, y1: margin.top + plotH, y2: margin.top + plotH }));
  axis.append(svg("text", { x: 12, y: margin.top + plotH / 2, transform: `rotate(-90 12 ${margin.top + plotH / 2})`, "text-anchor": "middle" }, yLabel));
  axis.append(svg("text", { x: margin.left + (width - margin.left - margin.right) / 2, y: height - 4, "text-anchor": "middle" }, xLabel));
  root.append(grid, axis);
  return { root, y, plotH };
}

export function legend(series) {
  const box = document.createElement("div");
  box.className = "chart-legend";
  for (const s of series) {
    const item = document.createElement("span");
    const sw = document.createElement("i");
    sw.className = "sw";
    sw.style.background = s.color;
    item.append(sw, document.createTextNode(s.name));
    box.append(item);
  }
  return box;
}

// Category labels that fit their band stay level; longer ones are turned so they never overlap.
function categoryLabel(root, { x, y, text, band }) {
  const fits = text.length * 6.2 <= band - 4;
  const attrs = fits ? { x, y, "text-anchor": "middle" } : { x, y, "text-anchor": "end", transform: `rotate(-30 ${x} ${y})` };
  const node = svg("text", attrs, text);
  node.append(svg("title", {}, text));
  root.append(node);
}

// categories: x labels; series: [{ name, color, values }] stacked; notes: optional text above each
// bar; side: optional { name, color, values } drawn as its own thin bar beside each stack (counts that
// are not part of the stacked total, e.g. deleted pre-labels beside the final boxes).
export function stackedBars(container, { categories, series, notes = [], side = null, yLabel, xLabel, title }) {
  const width = 560;
  const height = 300;
  const margin = { top: 28, right: 12, bottom: 58, left: 52 };
  const totals = categories.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const sides = side ? side.values.map((v) => v || 0) : [];
  const yMax = niceCountMax(Math.max(1, ...totals, ...sides));
  const { root, y } = frame({ width, height, margin, yMax, yLabel, xLabel, title });
  const band = (width - margin.left - margin.right) / Math.max(1, categories.length);
  const barW = Math.min(56, band * (side ? 0.45 : 0.6));
  categories.forEach((cat, i) => {
    const cx = margin.left + band * (i + 0.5) - (side ? barW * 0.3 : 0);
    if (side && sides[i] > 0) {
      const sx = cx + barW / 2 + 3;
      const sw = Math.max(6, barW * 0.35);
      root.append(svg("rect", { x: sx, y: y(sides[i]), width: sw, height: y(0) - y(sides[i]), fill: side.color }));
      root.append(svg("text", { x: sx + sw / 2, y: y(sides[i]) - 4, "text-anchor": "middle", style: `fill:${side.color};font-weight:600` }, String(sides[i])));
    }
    let acc = 0;
    for (const s of series) {
      const v = s.values[i] || 0;
      if (v <= 0) continue;
      const top = y(acc + v);
      const h = y(acc) - top;
      root.append(svg("rect", { x: cx - barW / 2, y: top, width: barW, height: h, fill: s.color }, undefined));
      if (h >= 13 && series.length > 1) root.append(svg("text", { x: cx, y: top + h / 2 + 4, "text-anchor": "middle", fill: "#fff", style: "fill:#fff;font-weight:600" }, String(v)));
      acc += v;
    }
    root.append(svg("text", { x: cx, y: y(acc) - 6, "text-anchor": "middle", style: "font-weight:600" }, notes[i] ?? String(acc)));
    categoryLabel(root, { x: margin.left + band * (i + 0.5), y: height - margin.bottom + 16, text: cat, band });
  });
  container.replaceChildren(root, legend(side ? [...series, side] : series));
}

export function bars(container, { categories, values, color, yLabel, xLabel, title, format = (v) => String(v) }) {
  stackedBars(container, { categories, series: [{ name: yLabel, color, values }], notes: values.map(format), yLabel, xLabel, title });
  container.querySelector(".chart-legend")?.remove();
}

// series: [{ name, color, points: [[x, y], ...] }]
export function lines(container, { series, yLabel, xLabel, title }) {
  const width = 560;
  const height = 280;
  const margin = { top: 16, right: 16, bottom: 42, left: 52 };
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const yMax = niceMax(Math.max(0.001, ...all.map((p) => p[1])));
  const { root, y } = frame({ width, height, margin, yMax, yLabel, xLabel, title });
  const x = (v) => margin.left + (v / xMax) * (width - margin.left - margin.right);
  for (let k = 0; k <= Math.min(xMax, 10); k++) {
    const v = Math.round((xMax * k) / Math.min(xMax, 10));
    root.append(svg("text", { x: x(v), y: height - margin.bottom + 16, "text-anchor": "middle" }, String(v)));
  }
  for (const s of series) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    root.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2 }));
    for (const p of s.points) root.append(svg("circle", { cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2.5, fill: s.color }));
  }
  // The last value of each series is printed in the legend, not on the plot, where labels of
  // curves ending close together overlapped.
  const named = series.map((s) => ({ ...s, name: s.points.length ? `${s.name}: ${fmtValue(s.points.at(-1)[1])}` : s.name }));
  container.replaceChildren(root, legend(named));
}

const fmtValue = (v) => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 1000) / 1000));

// A button that downloads rows as CSV (the table behind a chart), built in the page from the same
// data the chart drew.
export function csvButton(fileName, headers, rows) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-quiet btn-small";
  button.textContent = "CSV";
  button.setAttribute("aria-label", `Download ${fileName} as CSV`);
  button.addEventListener("click", () => {
    const cell = (v) => {
      const text = v === null || v === undefined ? "" : String(v);
      return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    };
    const body = [headers, ...rows].map((r) => r.map(cell).join(",")).join("\n") + "\n";
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([body], { type: "text/csv" }));
    link.download = fileName;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });
  return button;
}
