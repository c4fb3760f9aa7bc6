// The labeler workspace of one clip: glue between the canvas, the timeline, the caches, the editor
// (save + undo) and the training panel.

import { ApiError, get, list, query } from "./api.js";
import { createCanvas } from "./canvas.js";
import { $, el, isTyping, pageIds, swatch, toast } from "./dom.js";
import { createEffortClock } from "./effort.js";
import { createEditor } from "./edits.js";
import { createBoxStore, createImageCache } from "./frames.js";
import { createTimeline } from "./timeline.js";
import { createSuggestions, createTrainingPanel } from "./training.js";

const PREFETCH_AHEAD = 8;
const PREFETCH_BEHIND = 3;

const { video_id: videoId } = pageIds();
let video;
let classes = [];
let activeClass = null;
let current = 0;
let direction = 1;
let navToken = 0;
let rows = new Map(); // frame index -> frame row from the API (counts and flags)
let suggested = new Set();

const clock = createEffortClock(); // active seconds per action, sent with each one
const images = createImageCache((i) => `/api/videos/${videoId}/frames/${i}/image`);
const store = createBoxStore(videoId);
const canvas = createCanvas($("#stage"), { label: "Frame canvas", activeClass: () => activeClass });
const timeline = createTimeline($("#timeline"), { onSeek: (i) => goTo(i) });
const saveState = $("#save-state");
const editor = createEditor({
  videoId,
  store,
  onSaveState(state) {
    saveState.dataset.state = state;
    saveState.textContent = { saving: "Saving…", saved: "All changes saved", error: "Not saved" }[state];
  },
  onConflict(frame, error) {
    const message = `Someone else changed this box meanwhile (${error.message}) Frame ${frame} was reloaded with their version; your change was not saved.`;
    const box = $("#conflict");
    box.textContent = message;
    box.hidden = false;
    toast(`Edit conflict on frame ${frame}: reloaded.`, "error", 6000);
  },
  onError(error) {
    toast(`Could not save: ${error.message}`, "error", 6000);
  },
});
const suggestions = createSuggestions({
  videoId,
  listNode: $("#suggestion-list"),
  onJump: (i) => goTo(i),
  onChange(frames) {
    suggested = frames;
    updateMarks();
  },
});
const training = createTrainingPanel({
  videoId,
  nodes: { status: $("#train-status"), progress: $("#train-progress"), trainButton: $("#train-button"), cancelButton: $("#cancel-train") },
  async onFinished(generation) {
    if (generation.status !== "succeeded") return;
    toast(`Generation ${generation.number} is ready: pre-labels loaded.`, "success");
    store.clear();
    await loadRows();
    await goTo(current, { force: true });
    suggestions.load(current).catch(reportError);
  },
});

function reportError(error) {
  toast(error.message || String(error), "error", 6000);
}

// -- frame rows and timeline marks ------------------------------------------------------------------

async function loadRows() {
  const frames = await list(`/api/videos/${videoId}/frames/${query({ start: 0, end: Math.max(0, video.frame_count - 1), limit: video.frame_count || 1 })}`);
  rows = new Map(frames.map((f) => [f.index, f]));
  updateMarks();
}

function updateMarks() {
  const marks = { human: new Set(), pre: new Set(), accepted: new Set(), suggested };
  for (const [i, row] of rows) {
    if (row.human_boxes > 0) marks.human.add(i);
    if (row.model_boxes > 0 && !row.reviewed) marks.pre.add(i);
    if (row.reviewed) marks.accepted.add(i);
  }
  // Frames this page has loaded are marked from their boxes as they are now.
  for (const [i, boxes] of store.cachedFrames()) {
    const human = boxes.some((b) => b.source === "human");
    const model = boxes.filter((b) => b.source === "model");
    const pending = model.some((b) => b.review_state === "pending");
    toggle(marks.human, i, human);
    toggle(marks.pre, i, pending);
    toggle(marks.accepted, i, Boolean(rows.get(i)?.reviewed) || (model.length > 0 && !pending));
  }
  timeline.setMarks(marks);
  $("#count-human").textContent = String(marks.human.size);
  $("#count-pre").textContent = String(marks.pre.size);
  $("#count-accepted").textContent = String(marks.accepted.size);
  $("#count-suggested").textContent = String(suggested.size);
}

function toggle(set, item, on) {
  if (on) set.add(item);
  else set.delete(item);
}

// -- navigation -------------------------------------------------------------------------------------

async function goTo(index, { force = false } = {}) {
  if (!video || !video.frame_count) return;
  const target = Math.max(0, Math.min(video.frame_count - 1, index));
  if (target === current && !force && canvas.element.dataset.frame === String(target)) return;
  direction = target >= current ? 1 : -1;
  current = target;
  const token = ++navToken;
  $("#frame-input").value = String(current);
  $("#frame-label").textContent = `Frame ${current} of ${video.frame_count}`;
  timeline.setCurrent(current);
  history.replaceState(null, "", `#frame=${current}`);
  $("#conflict").hidden = true;
  suggestions.render(current);
  prefetch();
  let image = images.peek(current);
  let boxes = store.peek(current);
  if (!image || !boxes) {
    $("#frame-loading").hidden = false;
    try {
      [image, boxes] = await Promise.all([images.get(current), store.load(current)]);
    } catch (error) {
      if (token === navToken) {
        $("#frame-loading").hidden = true;
        reportError(error instanceof ApiError ? error : new Error(`Frame ${current} could not be loaded.`));
      }
      return;
    }
  }
  if (token !== navToken) return; // a later frame was asked for meanwhile
  $("#frame-loading").hidden = true;
  canvas.setFrame(image, boxes);
  canvas.element.dataset.frame = String(current);
  clock.frameShown();
  renderBoxList();
}

function prefetch() {
  const ahead = [];
  for (let k = 1; k <= PREFETCH_AHEAD; k++) ahead.push(current + direction * k);
  for (let k = 1; k <= PREFETCH_BEHIND; k++) ahead.push(current - direction * k);
  const valid = ahead.filter((i) => i >= 0 && i < video.frame_count);
  images.prefetch(valid);
  for (const i of valid.slice(0, 3)) store.prefetch(i);
}

function nextSuggested() {
  const frames = suggestions.frames();
  if (!frames.length) {
    toast("No suggested frames yet.");
    return;
  }
  goTo(frames.find((i) => i > current) ?? frames[0]);
}

// -- sidebar ----------------------------------------------------------------------------------------

function renderClasses() {
  const box = $("#class-list");
  box.replaceChildren();
  classes.forEach((c, k) => {
    const input = el("input", { type: "radio", name: "active-class", value: String(c.id), checked: c.id === activeClass, onchange: () => setActiveClass(c.id) });
    box.append(
      el("label", { class: "class-option", dataset: { classId: String(c.id) } }, input, swatch(c.color), el("span", { class: "class-name", text: c.name }), k < 9 ? el("kbd", { text: String(k + 1) }) : null),
    );
  });
}

function setActiveClass(id) {
  activeClass = id;
  for (const input of document.querySelectorAll('input[name="active-class"]')) input.checked = Number(input.value) === id;
}

function renderBoxList() {
  const boxes = store.peek(current) || [];
  const listNode = $("#box-list");
  listNode.replaceChildren();
  $("#box-count").textContent = `(${boxes.length})`;
  const selected = canvas.selected();
  for (const b of boxes) {
    const cls = classes.find((c) => c.id === b.label_class);
    const pending = b.source === "model" && b.review_state === "pending";
    const state = pending ? `pre-label ${typeof b.score === "number" ? b.score.toFixed(2) : ""}`.trim() : b.source === "model" ? b.review_state : "human";
    const item = el(
      "li",
      { class: `box-item${b.id === selected ? " selected" : ""}${pending ? " pending" : ""}`, dataset: { boxId: String(b.id), state: b.review_state, source: b.source } },
      el(
        "button",
        { type: "button", class: "box-button", onclick: () => selectBox(b.id), "aria-pressed": String(b.id === selected) },
        swatch(cls ? cls.color : "#ccc"),
        el("span", { class: "box-class", text: cls ? cls.name : "?" }),
        b.track !== null && b.track !== undefined ? el("span", { class: "box-track", text: `#${b.track}` }) : null,
        el("span", { class: "box-state", text: state }),
        el("span", { class: "box-geom", text: `${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.w)}×${Math.round(b.h)}` }),
      ),
    );
    listNode.append(item);
  }
}

function selectBox(id) {
  canvas.select(id);
  renderBoxList();
}

store.onChange((index) => {
  if (index === current) {
    canvas.setBoxes(store.peek(current) || []);
    renderBoxList();
  }
  updateMarks();
});

// -- edits ------------------------------------------------------------------------------------------

canvas.on("create", (rect) => {
  if (activeClass === null) return;
  const id = editor.create(current, { ...rect, label_class: activeClass, track: null }, { seconds: clock.take() });
  canvas.select(id);
  suggestions.drop(current, current);
  renderHistory();
});
canvas.on("edit", ({ id, x, y, w, h }) => {
  editor.update(current, id, { x, y, w, h }, { seconds: clock.take() });
  renderHistory();
});
canvas.on("select", () => renderBoxList());

function selectedBox() {
  const id = canvas.selected();
  return (store.peek(current) || []).find((b) => b.id === id) || null;
}

function deleteSelected() {
  const box = selectedBox();
  if (!box) return;
  editor.remove(current, box.id, { seconds: clock.take() });
  renderHistory();
}

function setClassOf(classId) {
  const box = selectedBox();
  if (box) {
    if (box.label_class !== classId) editor.update(current, box.id, { label_class: classId }, { seconds: clock.take() });
    renderHistory();
  } else {
    setActiveClass(classId);
  }
}

function cycleClass() {
  const box = selectedBox();
  const from = box ? box.label_class : activeClass;
  const k = classes.findIndex((c) => c.id === from);
  setClassOf(classes[(k + 1) % classes.length].id);
}

// Tab walks the boxes of the frame; past the last (or before the first) it lets focus move on.
function cycleSelection(step) {
  const boxes = store.peek(current) || [];
  const k = boxes.findIndex((b) => b.id === canvas.selected());
  const next = k === -1 ? (step > 0 ? 0 : boxes.length - 1) : k + step;
  if (next < 0 || next >= boxes.length) {
    selectBox(null);
    return false;
  }
  selectBox(boxes[next].id);
  return true;
}

function notAvailable(what) {
  return (error) => {
    if (error instanceof ApiError && error.missing) toast(`${what} is not available on this server yet.`, "error");
  };
}

function acceptSelected() {
  const box = selectedBox();
  if (!box || box.source !== "model" || box.review_state !== "pending") return;
  editor.accept(current, box.id, { seconds: clock.take() }).then(renderHistory, notAvailable("Accepting a pre-label"));
}

function acceptAll() {
  const frame = current;
  editor.acceptAll(frame, { seconds: clock.take() }).then((result) => {
    if (!result) return;
    const n = result.accepted;
    toast(`Frame ${frame} reviewed: ${n} pre-label${n === 1 ? "" : "s"} accepted.`, "success", 3000);
    renderHistory();
    suggestions.drop(frame, current);
    loadRows().catch(reportError);
  }, notAvailable("Accepting all pre-labels"));
}

async function undoRedo(redo) {
  const options = { seconds: clock.take() };
  const entry = redo ? editor.redo(options) : editor.undo(options);
  renderHistory();
  if (!entry) {
    toast(redo ? "Nothing to redo." : "Nothing to undo.", "info", 1500);
    return;
  }
  if (entry.frame !== current) await goTo(entry.frame);
  toast(`${redo ? "Redo" : "Undo"}: ${entry.label}`, "info", 1500);
}

function renderHistory() {
  const undo = editor.nextUndo();
  const redo = editor.nextRedo();
  $("#undo").disabled = !undo;
  $("#undo").title = undo ? `Undo ${undo} (Ctrl+Z)` : "Nothing to undo (Ctrl+Z)";
  $("#redo").disabled = !redo;
  $("#redo").title = redo ? `Redo ${redo} (Ctrl+Shift+Z)` : "Nothing to redo (Ctrl+Shift+Z)";
}

// -- keyboard ---------------------------------------------------------------------------------------

function onKey(event) {
  const help = $("#help");
  if (!help.hidden) {
    if (event.key === "Escape" || event.key === "?") {
      event.preventDefault();
      closeHelp();
    }
    return;
  }
  if (isTyping(event)) return;
  const key = event.key;
  const ctrl = event.ctrlKey || event.metaKey;
  let handled = true;
  if (ctrl && (key === "z" || key === "Z")) undoRedo(event.shiftKey);
  else if (ctrl && (key === "y" || key === "Y")) undoRedo(true);
  else if (ctrl || event.altKey) handled = false;
  else if (key === "ArrowRight" || key === "d" || key === "D") goTo(current + (event.shiftKey ? 10 : 1));
  else if (key === "ArrowLeft" || key === "a" || key === "A") goTo(current - (event.shiftKey ? 10 : 1));
  else if (key === "Home") goTo(0);
  else if (key === "End") goTo(video.frame_count - 1);
  else if (key === "n" || key === "N") nextSuggested();
  else if (key === "Enter" && event.shiftKey) acceptAll();
  else if (key === "Enter" && event.target === document.body || key === "Enter" && event.target === canvas.element) acceptSelected();
  else if (key === "Delete" || key === "Backspace") deleteSelected();
  else if (key === "c" || key === "C") cycleClass();
  else if (/^[1-9]$/.test(key) && classes[Number(key) - 1]) setClassOf(classes[Number(key) - 1].id);
  else if (key === "Tab" && (event.target === document.body || event.target === canvas.element)) handled = cycleSelection(event.shiftKey ? -1 : 1);
  else if (key === "Escape") selectBox(null);
  else if (key === "f" || key === "F") canvas.fit();
  else if (key === "+" || key === "=") canvas.zoom(1.25);
  else if (key === "-") canvas.zoom(0.8);
  else if (key === "?") openHelp();
  else handled = false;
  if (handled) event.preventDefault();
}

let helpReturn = null;
function openHelp() {
  helpReturn = document.activeElement;
  $("#help").hidden = false;
  $("#help-close").focus();
}
function closeHelp() {
  $("#help").hidden = true;
  (helpReturn || canvas.element).focus();
}

window.addEventListener("keydown", onKey);
$("#help-button").addEventListener("click", openHelp);
$("#help-close").addEventListener("click", closeHelp);
$("#help").addEventListener("click", (e) => e.target === $("#help") && closeHelp());
$("#prev-frame").addEventListener("click", () => goTo(current - 1));
$("#next-frame").addEventListener("click", () => goTo(current + 1));
$("#next-suggested").addEventListener("click", nextSuggested);
$("#accept-all").addEventListener("click", acceptAll);
$("#undo").addEventListener("click", () => undoRedo(false));
$("#redo").addEventListener("click", () => undoRedo(true));
$("#zoom-in").addEventListener("click", () => canvas.zoom(1.25));
$("#zoom-out").addEventListener("click", () => canvas.zoom(0.8));
$("#zoom-fit").addEventListener("click", () => canvas.fit());
$("#frame-input").addEventListener("change", (e) => goTo(Number(e.target.value) || 0));
$("#frame-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter") canvas.element.focus(); // back to labeling: the shortcuts work again
});
window.addEventListener("beforeunload", (e) => {
  if (saveState.dataset.state === "saving") e.preventDefault();
});

// -- start ------------------------------------------------------------------------------------------

async function start() {
  try {
    video = await get(`/api/videos/${videoId}/`);
  } catch (error) {
    $("#frame-label").textContent = error.status === 404 ? "This clip does not exist or you are not a member of its project." : `Could not load the clip: ${error.message}`;
    return;
  }
  $("#crumb-video").textContent = video.name;
  document.title = `${video.name} · Annotate`;
  if (video.status !== "ready") {
    $("#frame-label").textContent = `This clip is not ready yet (${video.status}${video.error ? `: ${video.error}` : ""}).`;
    return;
  }
  const project = await get(`/api/projects/${video.project}/`);
  const crumb = $("#crumb-project");
  crumb.textContent = project.name;
  crumb.href = `/projects/${project.id}/`;
  classes = [...project.classes].sort((a, b) => a.index - b.index);
  activeClass = classes[0]?.id ?? null;
  canvas.setClasses(classes);
  renderClasses();
  $("#frame-input").max = String(video.frame_count - 1);
  $("#frame-total").textContent = `of ${video.frame_count}`;
  timeline.setCount(video.frame_count);
  const fromHash = Number((location.hash.match(/frame=(\d+)/) || [])[1] || 0);
  await Promise.all([loadRows(), goTo(fromHash, { force: true })]);
  suggestions.load(current).catch(reportError);
  training.start();
  renderHistory();
  canvas.element.focus();
}

start().catch(reportError);
