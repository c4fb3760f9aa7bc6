// The frame timeline: one tick per frame, coloured by state, a marker row for suggested frames and
// the current frame. Click or drag to seek.
//
//   const timeline = createTimeline(element, { onSeek: (index) => ... });
//   timeline.setCount(n); timeline.setCurrent(i);
//   timeline.setMarks({ human: Set, pre: Set, accepted: Set, suggested: Set });

export const MARK_COLORS = {
  empty: "#3a3f47",
  human: "#3fb950",
  pre: "#e3a008",
  accepted: "#4c9aff",
  suggested: "#ff5c8a",
  current: "#ffffff",
};

export function createTimeline(container, { onSeek } = {}) {
  const node = document.createElement("canvas");
  node.className = "timeline-canvas";
  node.tabIndex = -1;
  node.setAttribute("role", "slider");
  node.setAttribute("aria-label", "Timeline");
  node.setAttribute("aria-valuemin", "0");
  container.append(node);
  const ctx = node.getContext("2d");
  let count = 0;
  let current = 0;
  let marks = { human: new Set(), pre: new Set(), accepted: new Set(), suggested: new Set() };
  let raf = 0;
  let dragging = false;

  const width = () => node.width / (window.devicePixelRatio || 1);
  const height = () => node.height / (window.devicePixelRatio || 1);
  const xOf = (i) => (count ? ((i + 0.5) / count) * width() : 0);
  const indexAt = (x) => Math.max(0, Math.min(count - 1, Math.floor((x / width()) * count)));

  function resize() {
    const rect = container.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    node.width = Math.max(1, Math.round(rect.width * dpr));
    node.height = Math.max(1, Math.round(rect.height * dpr));
    node.style.width = `${rect.width}px`;
    node.style.height = `${rect.height}px`;
    redraw();
  }

  function redraw() {
    if (!raf) raf = requestAnimationFrame(paint);
  }

  function stateOf(i) {
    if (marks.accepted.has(i)) return "accepted";
    if (marks.human.has(i)) return "human";
    if (marks.pre.has(i)) return "pre";
    return "empty";
  }

  function paint() {
    raf = 0;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = width();
    const h = height();
    ctx.clearRect(0, 0, w, h);
    if (!count) return;
    const top = 8; // suggestion row
    const bottom = h - 14; // frame-number row
    const step = w / count;
    // Frames sharing one pixel column: the most important state wins.
    const rank = { empty: 0, pre: 1, human: 2, accepted: 3 };
    const columns = new Map();
    for (let i = 0; i < count; i++) {
      const col = Math.floor(i * step);
      const state = stateOf(i);
      const prev = columns.get(col);
      if (!prev || rank[state] > rank[prev.state]) columns.set(col, { state, x: i * step });
    }
    const tickWidth = Math.max(1, step - (step > 3 ? 1 : 0));
    for (const { state, x } of columns.values()) {
      ctx.fillStyle = MARK_COLORS[state];
      ctx.fillRect(x, top + 2, tickWidth, bottom - top - 2);
    }
    ctx.fillStyle = MARK_COLORS.suggested;
    for (const i of marks.suggested) {
      if (i >= count) continue;
      const x = xOf(i);
      ctx.beginPath();
      ctx.moveTo(x - 4, 0);
      ctx.lineTo(x + 4, 0);
      ctx.lineTo(x, top);
      ctx.closePath();
      ctx.fill();
    }
    const cx = xOf(current);
    ctx.fillStyle = MARK_COLORS.current;
    ctx.fillRect(cx - 1, top, 2, bottom - top + 2);
    ctx.font = "11px system-ui, sans-serif";
    const label = String(current);
    const lw = ctx.measureText(label).width;
    const lx = Math.max(0, Math.min(w - lw, cx - lw / 2));
    ctx.fillText(label, lx, h - 2);
  }

  function seekFrom(event) {
    const rect = node.getBoundingClientRect();
    const index = indexAt(event.clientX - rect.left);
    if (index !== current && onSeek) onSeek(index);
  }

  node.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || !count) return;
    dragging = true;
    node.setPointerCapture(event.pointerId);
    seekFrom(event);
  });
  node.addEventListener("pointermove", (event) => {
    if (dragging) seekFrom(event);
  });
  const stop = () => {
    dragging = false;
  };
  node.addEventListener("pointerup", stop);
  node.addEventListener("pointercancel", stop);
  const observer = new ResizeObserver(resize);
  observer.observe(container);

  return {
    element: node,
    setCount(n) {
      count = n;
      node.setAttribute("aria-valuemax", String(Math.max(0, n - 1)));
      redraw();
    },
    setCurrent(i) {
      current = i;
      node.setAttribute("aria-valuenow", String(i));
      node.setAttribute("aria-valuetext", `Frame ${i} of ${count}`);
      redraw();
    },
    setMarks(next) {
      marks = { ...marks, ...next };
      redraw();
    },
    xOf,
    destroy() {
      observer.disconnect();
      node.remove();
    },
  };
}
