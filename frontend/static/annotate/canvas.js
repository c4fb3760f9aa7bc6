// The labeling canvas: draws one frame and its boxes, and turns pointer gestures into edit events.
// It knows nothing about HTTP or undo; the page owns the boxes and calls back in with new state.
//
//   const canvas = createCanvas(element, { classes: [{ id, name, color }] });
//   canvas.setFrame(imageOrBitmap, boxes)   // boxes: [{ id, x, y, w, h, label_class, track,
//   canvas.setBoxes(boxes)                  //          source, review_state, score }]
//   canvas.on("create", ({ x, y, w, h }) => ...)       // a box was drawn (image pixels)
//   canvas.on("edit", ({ id, x, y, w, h }) => ...)     // a box was moved or resized
//   canvas.on("select", ({ id }) => ...)               // id null: nothing selected
//   canvas.on("view", ({ scale, offsetX, offsetY }) => ...)
//   canvas.on("spacetap", () => ...)                   // Space pressed and let go without panning
//   canvas.select(id); canvas.zoom(factor, [clientX, clientY]); canvas.fit();
//   canvas.armDraw()                                   // the next drag draws, even over a box
//   canvas.setReadOnly(true)                           // view only: click selects, drag pans;
//                                                      // no drawing, no handles, no edit events
//
// A box with `locked` is selectable but not moved or resized; `occluded` is drawn dashed and
// `outside` faint (the object left the view).
//   canvas.imageToClient(x, y); canvas.destroy();

const HANDLE = 5; // half size of a resize handle, in screen pixels
const MIN_SIZE = 2; // image pixels
const DRAG_THRESHOLD = 4; // screen pixels before a press becomes a drag
const MIN_SCALE = 0.05;
const MAX_SCALE = 40;

export function createCanvas(container, options = {}) {
  const node = document.createElement("canvas");
  node.className = "frame-canvas";
  node.tabIndex = 0;
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", options.label || "Frame");
  container.append(node);
  const ctx = node.getContext("2d");

  const listeners = new Map();
  let classes = new Map();
  let image = null;
  let imageSize = null; // [w, h]
  let boxes = [];
  let selectedId = null;
  let view = { scale: 1, offsetX: 0, offsetY: 0 };
  let userMovedView = false;
  let gesture = null; // { kind: draw|move|resize|pan, ... }
  let spaceDown = false;
  let spacePanned = false;
  let drawArmed = false;
  let readOnly = false;
  let hoverId = null;
  let frameDirty = true;
  let raf = 0;

  setClasses(options.classes || []);

  function emit(name, detail) {
    for (const handler of listeners.get(name) || []) handler(detail);
  }

  function setClasses(list) {
    classes = new Map(list.map((c) => [c.id, c]));
    redraw();
  }

  function colorOf(box) {
    return classes.get(box.label_class)?.color || "#cccccc";
  }

  // -- geometry ---------------------------------------------------------------------------------

  const toScreen = (x, y) => [x * view.scale + view.offsetX, y * view.scale + view.offsetY];
  const toImage = (sx, sy) => [(sx - view.offsetX) / view.scale, (sy - view.offsetY) / view.scale];

  function localPoint(event) {
    const rect = node.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  function clampBox(b) {
    if (!imageSize) return b;
    const [iw, ih] = imageSize;
    let { x, y, w, h } = b;
    w = Math.min(Math.max(w, MIN_SIZE), iw);
    h = Math.min(Math.max(h, MIN_SIZE), ih);
    x = Math.min(Math.max(x, 0), iw - w);
    y = Math.min(Math.max(y, 0), ih - h);
    return { x: round2(x), y: round2(y), w: round2(w), h: round2(h) };
  }

  function normalize(x0, y0, x1, y1) {
    if (!imageSize) return { x: 0, y: 0, w: 0, h: 0 };
    const [iw, ih] = imageSize;
    const ax = clamp(Math.min(x0, x1), 0, iw);
    const ay = clamp(Math.min(y0, y1), 0, ih);
    const bx = clamp(Math.max(x0, x1), 0, iw);
    const by = clamp(Math.max(y0, y1), 0, ih);
    return { x: round2(ax), y: round2(ay), w: round2(bx - ax), h: round2(by - ay) };
  }

  function handlesOf(b) {
    const [x0, y0] = toScreen(b.x, b.y);
    const [x1, y1] = toScreen(b.x + b.w, b.y + b.h);
    const mx = (x0 + x1) / 2;
    const my = (y0 + y1) / 2;
    return {
      nw: [x0, y0], n: [mx, y0], ne: [x1, y0], e: [x1, my],
      se: [x1, y1], s: [mx, y1], sw: [x0, y1], w: [x0, my],
    };
  }

  function hitHandle(sx, sy) {
    if (readOnly) return null;
    const box = boxes.find((b) => b.id === selectedId);
    if (!box) return null;
    for (const [name, [hx, hy]] of Object.entries(handlesOf(box))) {
      if (Math.abs(sx - hx) <= HANDLE + 2 && Math.abs(sy - hy) <= HANDLE + 2) return { box, handle: name };
    }
    return null;
  }

  function hitBox(sx, sy) {
    const [ix, iy] = toImage(sx, sy);
    const margin = 3 / view.scale;
    const inside = boxes.filter(
      (b) => ix >= b.x - margin && ix <= b.x + b.w + margin && iy >= b.y - margin && iy <= b.y + b.h + margin,
    );
    // The smallest box under the pointer wins, so nested boxes stay reachable.
    inside.sort((a, b) => a.w * a.h - b.w * b.h);
    return inside[0] || null;
  }

  // -- view -------------------------------------------------------------------------------------

  function resize() {
    const rect = container.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    node.width = Math.max(1, Math.round(rect.width * dpr));
    node.height = Math.max(1, Math.round(rect.height * dpr));
    node.style.width = `${rect.width}px`;
    node.style.height = `${rect.height}px`;
    if (!userMovedView) fit(false);
    redraw();
  }

  function cssSize() {
    const dpr = window.devicePixelRatio || 1;
    return [node.width / dpr, node.height / dpr];
  }

  function setView(next) {
    view = next;
    node.dataset.scale = String(view.scale);
    node.dataset.offsetX = String(view.offsetX);
    node.dataset.offsetY = String(view.offsetY);
    emit("view", { ...view });
    redraw();
  }

  function fit(byUser = true) {
    if (byUser) userMovedView = false;
    if (!imageSize) return;
    const [cw, ch] = cssSize();
    const pad = 16;
    const scale = Math.max(MIN_SCALE, Math.min((cw - 2 * pad) / imageSize[0], (ch - 2 * pad) / imageSize[1]));
    setView({ scale, offsetX: (cw - imageSize[0] * scale) / 2, offsetY: (ch - imageSize[1] * scale) / 2 });
  }

  function zoom(factor, at) {
    const [cw, ch] = cssSize();
    const [sx, sy] = at ? [at[0] - node.getBoundingClientRect().left, at[1] - node.getBoundingClientRect().top] : [cw / 2, ch / 2];
    const scale = clamp(view.scale * factor, MIN_SCALE, MAX_SCALE);
    const [ix, iy] = toImage(sx, sy);
    userMovedView = true;
    setView({ scale, offsetX: sx - ix * scale, offsetY: sy - iy * scale });
  }

  // -- drawing ----------------------------------------------------------------------------------

  function redraw() {
    frameDirty = true;
    if (!raf) raf = requestAnimationFrame(paint);
  }

  function paint() {
    raf = 0;
    if (!frameDirty) return;
    frameDirty = false;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const [cw, ch] = cssSize();
    ctx.clearRect(0, 0, cw, ch);
    if (!image) return;
    ctx.imageSmoothingEnabled = view.scale < 2;
    ctx.drawImage(image, view.offsetX, view.offsetY, imageSize[0] * view.scale, imageSize[1] * view.scale);
    const shown = gesture?.preview ? boxes.map((b) => (b.id === gesture.preview.id ? { ...b, ...gesture.preview } : b)) : boxes;
    for (const box of shown) if (box.id !== selectedId) paintBox(box, false);
    const selected = shown.find((b) => b.id === selectedId);
    if (selected) paintBox(selected, true);
    if (gesture?.kind === "draw" && gesture.rect) {
      const r = gesture.rect;
      const [x0, y0] = toScreen(r.x, r.y);
      ctx.setLineDash([]);
      ctx.lineWidth = 2;
      ctx.strokeStyle = classes.get(options.activeClass?.())?.color || "#ffffff";
      ctx.strokeRect(x0, y0, r.w * view.scale, r.h * view.scale);
    }
  }

  function paintBox(box, selected) {
    const color = colorOf(box);
    const pending = box.source === "model" && box.review_state === "pending";
    const [x0, y0] = toScreen(box.x, box.y);
    const w = box.w * view.scale;
    const h = box.h * view.scale;
    ctx.save();
    ctx.lineWidth = selected ? 3 : box.id === hoverId ? 2.5 : 2;
    ctx.setLineDash(pending ? [6, 4] : box.occluded ? [3, 3] : []);
    if (box.outside) ctx.globalAlpha = 0.35;
    ctx.strokeStyle = "rgba(0,0,0,0.55)";
    ctx.strokeRect(x0 - 1, y0 - 1, w + 2, h + 2);
    ctx.strokeStyle = color;
    ctx.strokeRect(x0, y0, w, h);
    if (selected) {
      ctx.fillStyle = hexAlpha(color, 0.15);
      ctx.fillRect(x0, y0, w, h);
    }
    const cls = classes.get(box.label_class);
    const parts = [];
    if (box.track !== null && box.track !== undefined) parts.push(`#${box.track}`);
    parts.push(cls ? cls.name : "?");
    if (pending && typeof box.score === "number") parts.push(box.score.toFixed(2));
    if (box.occluded) parts.push("occluded");
    if (box.outside) parts.push("outside");
    if (box.locked) parts.push("locked");
    const text = parts.join(" ");
    ctx.setLineDash([]);
    ctx.font = "12px system-ui, sans-serif";
    const tw = Math.min(ctx.measureText(text).width + 8, 260);
    const ty = y0 - 16 >= 0 ? y0 - 16 : y0;
    ctx.fillStyle = pending ? "rgba(20,20,20,0.8)" : color;
    ctx.fillRect(x0, ty, tw, 16);
    ctx.fillStyle = pending ? color : readableOn(color);
    ctx.fillText(text, x0 + 4, ty + 12, 252);
    if (selected && !readOnly) {
      for (const [hx, hy] of Object.values(handlesOf(box))) {
        ctx.fillStyle = "#ffffff";
        ctx.strokeStyle = "#111111";
        ctx.lineWidth = 1;
        ctx.fillRect(hx - HANDLE, hy - HANDLE, HANDLE * 2, HANDLE * 2);
        ctx.strokeRect(hx - HANDLE, hy - HANDLE, HANDLE * 2, HANDLE * 2);
      }
    }
    ctx.restore();
  }

  // -- pointer ----------------------------------------------------------------------------------

  function onPointerDown(event) {
    node.focus({ preventScroll: true });
    if (!image) return;
    const [sx, sy] = localPoint(event);
    if (event.button === 1 || (event.button === 0 && spaceDown)) {
      spacePanned = spaceDown;
      gesture = { kind: "pan", sx, sy, start: { ...view } };
    } else if (event.button === 0 && readOnly) {
      // Looking only: a click selects the box under it (or none), a drag pans.
      const box = hitBox(sx, sy);
      select(box ? box.id : null, true);
      gesture = { kind: "pan", sx, sy, start: { ...view } };
    } else if (event.button === 0) {
      const handle = drawArmed ? null : hitHandle(sx, sy);
      const box = drawArmed ? null : handle ? handle.box : hitBox(sx, sy);
      if (box && box.locked) {
        if (box.id !== selectedId) select(box.id, true);
        emit("locked", { id: box.id });
        return;
      }
      if (handle) {
        gesture = { kind: "resize", id: box.id, handle: handle.handle, sx, sy, start: { ...box } };
      } else if (box) {
        if (box.id !== selectedId) select(box.id, true);
        gesture = { kind: "move", id: box.id, sx, sy, start: { ...box } };
      } else {
        const [ix, iy] = toImage(sx, sy);
        gesture = { kind: "draw", sx, sy, ix, iy, rect: null };
      }
    } else {
      return;
    }
    event.preventDefault();
    node.setPointerCapture(event.pointerId);
  }

  function onPointerMove(event) {
    const [sx, sy] = localPoint(event);
    if (!gesture) {
      const handle = hitHandle(sx, sy);
      const box = handle ? null : hitBox(sx, sy);
      const next = box ? box.id : null;
      if (next !== hoverId) {
        hoverId = next;
        redraw();
      }
      node.style.cursor = spaceDown || (readOnly && !box) ? "grab" : readOnly ? "pointer" : handle ? cursorFor(handle.handle) : box ? "move" : "crosshair";
      return;
    }
    const dx = sx - gesture.sx;
    const dy = sy - gesture.sy;
    if (!gesture.dragging && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
    gesture.dragging = true;
    if (gesture.kind === "pan") {
      userMovedView = true;
      setView({ scale: view.scale, offsetX: gesture.start.offsetX + dx, offsetY: gesture.start.offsetY + dy });
    } else if (gesture.kind === "draw") {
      const [ix, iy] = toImage(sx, sy);
      gesture.rect = normalize(gesture.ix, gesture.iy, ix, iy);
      redraw();
    } else if (gesture.kind === "move") {
      const s = gesture.start;
      gesture.preview = { id: s.id, ...clampBox({ x: s.x + dx / view.scale, y: s.y + dy / view.scale, w: s.w, h: s.h }) };
      redraw();
    } else if (gesture.kind === "resize") {
      const s = gesture.start;
      let x0 = s.x;
      let y0 = s.y;
      let x1 = s.x + s.w;
      let y1 = s.y + s.h;
      const h = gesture.handle;
      if (h.includes("w")) x0 += dx / view.scale;
      if (h.includes("e")) x1 += dx / view.scale;
      if (h.includes("n")) y0 += dy / view.scale;
      if (h.includes("s")) y1 += dy / view.scale;
      const r = normalize(x0, y0, x1, y1);
      gesture.preview = { id: s.id, ...clampBox(r) };
      redraw();
    }
  }

  function onPointerUp(event) {
    if (!gesture) return;
    const g = gesture;
    gesture = null;
    if (node.hasPointerCapture(event.pointerId)) node.releasePointerCapture(event.pointerId);
    if (g.kind === "draw") {
      if (g.dragging && g.rect && g.rect.w >= MIN_SIZE && g.rect.h >= MIN_SIZE) {
        drawArmed = false;
        emit("create", { ...g.rect });
      } else select(null, true);
    } else if ((g.kind === "move" || g.kind === "resize") && g.dragging && g.preview) {
      const { id, x, y, w, h } = g.preview;
      const s = g.start;
      // Show the new geometry at once; the page confirms it with setBoxes/updateBox.
      boxes = boxes.map((b) => (b.id === id ? { ...b, x, y, w, h } : b));
      if (x !== s.x || y !== s.y || w !== s.w || h !== s.h) emit("edit", { id, x, y, w, h });
    }
    redraw();
  }

  function onWheel(event) {
    if (!image) return;
    event.preventDefault();
    const factor = Math.exp(-clamp(event.deltaY, -100, 100) * 0.002);
    zoom(factor, [event.clientX, event.clientY]);
  }

  function onKey(event) {
    if (event.code !== "Space") return;
    const target = event.target;
    if (target instanceof HTMLElement && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName)) return;
    const wasDown = spaceDown;
    spaceDown = event.type === "keydown";
    if (spaceDown) event.preventDefault();
    if (spaceDown && !wasDown) spacePanned = false;
    if (!spaceDown && wasDown && !spacePanned) emit("spacetap", {});
    node.style.cursor = spaceDown || readOnly ? "grab" : "crosshair";
  }

  // -- public -----------------------------------------------------------------------------------

  function setFrame(nextImage, nextBoxes = []) {
    const size = nextImage ? [nextImage.naturalWidth || nextImage.width, nextImage.naturalHeight || nextImage.height] : null;
    const sizeChanged = !imageSize || !size || size[0] !== imageSize[0] || size[1] !== imageSize[1];
    image = nextImage;
    imageSize = size;
    gesture = null;
    setBoxes(nextBoxes);
    if (sizeChanged) fit(false);
    redraw();
  }

  function setBoxes(nextBoxes) {
    boxes = nextBoxes.map((b) => ({ ...b }));
    if (selectedId !== null && !boxes.some((b) => b.id === selectedId)) select(null, true);
    redraw();
  }

  function select(id, fromUser = false) {
    const next = id === null || id === undefined ? null : id;
    if (next === selectedId) return;
    selectedId = next;
    redraw();
    if (fromUser) emit("select", { id: selectedId });
  }

  const onResize = new ResizeObserver(resize);
  onResize.observe(container);
  node.addEventListener("pointerdown", onPointerDown);
  node.addEventListener("pointermove", onPointerMove);
  node.addEventListener("pointerup", onPointerUp);
  node.addEventListener("pointercancel", onPointerUp);
  node.addEventListener("wheel", onWheel, { passive: false });
  node.addEventListener("auxclick", (e) => e.preventDefault());
  window.addEventListener("keydown", onKey);
  window.addEventListener("keyup", onKey);

  return {
    element: node,
    setClasses,
    setFrame,
    setBoxes,
    select,
    selected: () => selectedId,
    armDraw() {
      if (readOnly) return;
      drawArmed = true;
      node.style.cursor = "crosshair";
    },
    drawArmed: () => drawArmed,
    setReadOnly(flag) {
      readOnly = Boolean(flag);
      drawArmed = false;
      gesture = null;
      node.dataset.readOnly = String(readOnly);
      redraw();
    },
    fit: () => fit(true),
    zoom,
    view: () => ({ ...view }),
    imageToClient(x, y) {
      const rect = node.getBoundingClientRect();
      const [sx, sy] = toScreen(x, y);
      return [rect.left + sx, rect.top + sy];
    },
    on(name, handler) {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name).add(handler);
      return () => listeners.get(name).delete(handler);
    },
    destroy() {
      onResize.disconnect();
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("keyup", onKey);
      cancelAnimationFrame(raf);
      node.remove();
    },
  };
}

function clamp(v, lo, hi) {
  return Math.min(Math.max(v, lo), hi);
}

function round2(v) {
  return Math.round(v * 100) / 100;
}

function cursorFor(handle) {
  return { n: "ns-resize", s: "ns-resize", e: "ew-resize", w: "ew-resize", ne: "nesw-resize", sw: "nesw-resize", nw: "nwse-resize", se: "nwse-resize" }[handle];
}

function hexAlpha(hex, alpha) {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function readableOn(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  const luminance = 0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return luminance > 150 ? "#111111" : "#ffffff";
}
