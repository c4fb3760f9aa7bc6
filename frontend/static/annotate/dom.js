// Small DOM helpers. Data is always set as text, never parsed as markup.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function pageIds() {
  const node = document.getElementById("page-ids");
  return node ? JSON.parse(node.textContent) : {};
}

export function toast(message, kind = "info", ms = 4000) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = el("div", { class: `toast toast-${kind}`, text: message });
  box.append(item);
  setTimeout(() => item.remove(), ms);
}

export function setProgress(wrapper, fraction, text) {
  wrapper.hidden = false;
  const bar = wrapper.querySelector(".progress-bar");
  const pct = Math.max(0, Math.min(100, Math.round((fraction || 0) * 100)));
  bar.style.width = `${pct}%`;
  bar.setAttribute("aria-valuenow", String(pct));
  wrapper.querySelector(".progress-text").textContent = text ?? `${pct}%`;
}

export function swatch(color) {
  return el("i", { class: "sw", style: { background: color }, "aria-hidden": "true" });
}

export function fmtSeconds(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60 ? `${m} min ${s} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

// " · about 40 s left" from a job's eta_seconds (the server's figure, at the rate so far); "" when unknown.
export function etaText(seconds) {
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0 ? ` · about ${fmtSeconds(seconds)} left` : "";
}

export function isTyping(event) {
  const t = event.target;
  return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName));
}
