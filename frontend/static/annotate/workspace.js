// The labeler workspace of one clip: glue between the canvas, the timeline, the caches, the editor
// (save + undo), the object list, the review pass, the keymap and the training panel.
//
// Frame states (finished, pre-labeled, human) and their counts come from the server, which holds the
// one definition of a finished frame; the page reloads them after its edits are saved.

import { ApiError, get, list, post, query } from "./api.js";
import { createCanvas } from "./canvas.js";
import { $, el, isTyping, pageIds, swatch, toast } from "./dom.js";
import { createEffortClock } from "./effort.js";
import { createEditor } from "./edits.js";
import { createBoxStore, createImageCache } from "./frames.js";
import { createKeymap, PRESETS } from "./keymap.js";
import { createObjectList } from "./objects.js";
import { createReview } from "./review.js";
import { roleAtLeast } from "./roles.js";
import { createTimeline } from "./timeline.js";
import { createSuggestions, createTrainingPanel } from "./training.js";

const PREFETCH_AHEAD = 8;
const PREFETCH_BEHIND = 3;
const ROWS_DEBOUNCE_MS = 250;

const { video_id: videoId } = pageIds();
let video;
let project;
let classes = [];
let activeClass = null;
let current = 0;
let direction = 1;
let navToken = 0;
let rows = new Map(); // frame index -> frame row from the API (counts and the finished flag)
let suggested = new Set();
let clipboard = [];
let readOnly = true; // until the project says the caller's role labels: a viewer only looks
const edited = new Set(); // frames this page changed since they were last left

const clock = createEffortClock(); // active seconds per action, sent with each one
const keys = createKeymap({ user: ($("#who")?.textContent || "").trim() });
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
    if (state === "saved") scheduleRows();
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
  nodes: {
    status: $("#train-status"),
    progress: $("#train-progress"),
    trainButton: $("#train-button"),
    cancelButton: $("#cancel-train"),
    autoStatus: $("#auto-train-status"),
    autoToggle: $("#auto-train-toggle"),
    autoAfter: $("#auto-train-after"),
  },
  async onFinished(generation) {
    if (generation.status !== "succeeded") return;
    toast(`Generation ${generation.number} is ready: pre-labels loaded.`, "success");
    await reloadAll();
    suggestions.load(current).catch(reportError);
  },
});
const objects = createObjectList({
  videoId,
  canEdit: () => !readOnly,
  node: $("#object-list"),
  classes: () => classes,
  selectedBox,
  current: () => current,
  onAssign: (trackId) => assignTo(trackId),
  onJump: (i) => goTo(i),
  async onChanged({ reloadBoxes = false } = {}) {
    if (reloadBoxes) await reloadAll().catch(reportError);
    else showBoxes();
  },
});
const review = createReview({
  videoId,
  nodes: {
    threshold: $("#score-threshold"),
    thresholdValue: $("#score-threshold-value"),
    hideAbove: $("#hide-above"),
    rangeStart: $("#range-start"),
    rangeEnd: $("#range-end"),
    acceptAbove: $("#accept-above"),
    play: $("#play"),
    speed: $("#speed"),
  },
  rows: () => rows,
  current: () => current,
  frameCount: () => video?.frame_count || 0,
  fps: () => video?.fps,
  goTo: (i) => goTo(i),
  onBulkAccepted: () => reloadAll(),
  onChange: () => showBoxes(),
});

function reportError(error) {
  toast(error.message || String(error), "error", 6000);
}

// -- frame rows, counts and timeline marks (all from the server) -------------------------------------

let rowsTimer = 0;
function scheduleRows() {
  clearTimeout(rowsTimer);
  rowsTimer = setTimeout(() => loadRows().catch(reportError), ROWS_DEBOUNCE_MS);
}

async function loadRows() {
  const [frames, summary] = await Promise.all([
    list(`/api/videos/${videoId}/frames/${query({ start: 0, end: Math.max(0, video.frame_count - 1), limit: video.frame_count || 1 })}`),
    get(`/api/videos/${videoId}/frames/summary/`),
  ]);
  rows = new Map(frames.map((f) => [f.index, f]));
  $("#count-human").textContent = String(summary.human);
  $("#count-pre").textContent = String(summary.prelabeled);
  $("#count-accepted").textContent = String(summary.finished);
  training.setSummary(summary);
  updateMarks();
  renderFrameState();
  objects.reload().catch(reportError);
}

function updateMarks() {
  const marks = { human: new Set(), pre: new Set(), accepted: new Set(), suggested };
  for (const [i, row] of rows) {
    if (row.human_boxes > 0) marks.human.add(i);
    if (row.pending_boxes > 0 && !row.finished) marks.pre.add(i);
    if (row.finished) marks.accepted.add(i);
  }
  timeline.setMarks(marks);
  $("#count-suggested").textContent = String(suggested.size);
}

function renderFrameState() {
  const row = rows.get(current);
  const node = $("#frame-state");
  if (!row) {
    node.textContent = "";
    return;
  }
  node.dataset.finished = String(row.finished);
  node.textContent = row.finished ? "Finished" : row.pending_boxes ? `${row.pending_boxes} pre-label${row.pending_boxes === 1 ? "" : "s"} to decide` : "Not finished";
}

async function reloadAll() {
  store.clear();
  await loadRows();
  await goTo(current, { force: true });
}

// -- navigation -------------------------------------------------------------------------------------

// The labeler left a frame they changed: once its edits are saved the server may start the next
// generation (never while a frame is half done).
function leave(frame) {
  if (!edited.delete(frame)) return;
  editor
    .idle()
    .then(() => post(`/api/videos/${videoId}/frames/${frame}/leave/`))
    .then(() => Promise.all([loadRows(), training.poll()]))
    .catch(reportError);
}

async function goTo(index, { force = false } = {}) {
  if (!video || !video.frame_count) return;
  const target = Math.max(0, Math.min(video.frame_count - 1, index));
  if (target === current && !force && canvas.element.dataset.frame === String(target)) return;
  if (target !== current) leave(current);
  direction = target >= current ? 1 : -1;
  current = target;
  const token = ++navToken;
  $("#frame-input").value = String(current);
  $("#frame-label").textContent = `Frame ${current} of ${video.frame_count}`;
  timeline.setCurrent(current);
  history.replaceState(null, "", `#frame=${current}`);
  $("#conflict").hidden = true;
  suggestions.render(current);
  renderFrameState();
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
  canvas.setFrame(image, shown(boxes));
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
  if (!frames.length) return "No suggested frames yet: label a few frames and train.";
  goTo(frames.find((i) => i > current) ?? frames[0]);
  return true;
}

// -- what the canvas shows ----------------------------------------------------------------------------

// Boxes of hidden objects, and pre-labels the review threshold hides, are not drawn; locked objects'
// boxes cannot be moved.
function shown(boxes) {
  return boxes.filter((b) => !objects.isHidden(b.track) && !review.hides(b)).map((b) => (objects.isLocked(b.track) ? { ...b, locked: true } : b));
}

function showBoxes() {
  // A box saved meanwhile has its server id now: the selection follows it.
  const selected = canvas.selected();
  if (selected !== null && editor.resolve(selected) !== selected) canvas.select(editor.resolve(selected));
  canvas.setBoxes(shown(store.peek(current) || []));
  renderBoxList();
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
    const flags = [b.occluded ? "occluded" : null, b.outside ? "outside" : null, objects.isHidden(b.track) ? "hidden" : null].filter(Boolean).join(", ");
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
        flags ? el("span", { class: "box-flags", text: flags }) : null,
        el("span", { class: "box-geom", text: `${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.w)}×${Math.round(b.h)}` }),
      ),
    );
    listNode.append(item);
  }
  const box = selectedBox();
  $("#box-occluded").checked = Boolean(box?.occluded);
  $("#box-outside").checked = Boolean(box?.outside);
  for (const id of ["#box-occluded", "#box-outside", "#new-track", "#propagate"]) $(id).disabled = !box;
  objects.render();
}

function selectBox(id) {
  canvas.select(id);
  renderBoxList();
}

store.onChange((index) => {
  if (index === current) showBoxes();
});

// -- edits ------------------------------------------------------------------------------------------

function touched() {
  edited.add(current);
  renderHistory();
}

canvas.on("create", (rect) => {
  if (activeClass === null) {
    toast("This project has no classes yet: a manager adds them on the project page.", "error");
    return;
  }
  const id = editor.create(current, { ...rect, label_class: activeClass, track: null }, { seconds: clock.take() });
  selectBox(id); // the new box is selected: a class key right after drawing applies to it
  suggestions.drop(current, current);
  touched();
});
canvas.on("edit", ({ id, x, y, w, h }) => {
  editor.update(current, id, { x, y, w, h }, { seconds: clock.take() });
  touched();
});
canvas.on("select", () => renderBoxList());
canvas.on("locked", ({ id }) => {
  const box = (store.peek(current) || []).find((b) => b.id === id);
  toast(`Object #${box?.track} is locked: unlock it in the object list to move or resize it.`);
});
canvas.on("spacetap", () => {
  if (!$("#help").hidden) return;
  review.toggle();
});

function selectedBox() {
  const id = canvas.selected();
  return (store.peek(current) || []).find((b) => b.id === id || b.id === editor.resolve(id)) || null;
}

const NO_BOX = "Select a box first (click it, or Tab).";

function deleteSelected() {
  const box = selectedBox();
  if (!box) return NO_BOX;
  if (objects.isLocked(box.track)) return `Object #${box.track} is locked: unlock it to delete its box.`;
  editor.remove(current, box.id, { seconds: clock.take() });
  touched();
  return true;
}

function setClassOf(classId) {
  const box = selectedBox();
  if (box) {
    if (box.label_class !== classId) editor.update(current, box.id, { label_class: classId }, { seconds: clock.take() });
    touched();
  } else {
    setActiveClass(classId);
    toast(`New boxes: ${classes.find((c) => c.id === classId)?.name}.`, "info", 1500);
  }
  return true;
}

function cycleClass() {
  if (!classes.length) return "This project has no classes yet.";
  const box = selectedBox();
  const from = box ? box.label_class : activeClass;
  const k = classes.findIndex((c) => c.id === from);
  return setClassOf(classes[(k + 1) % classes.length].id);
}

// Tab walks the boxes of the frame; past the last (or before the first) it lets focus move on.
function cycleSelection(step) {
  if (!store.peek(current)) return "This frame's boxes are still loading: try again in a moment.";
  const boxes = shown(store.peek(current));
  const k = boxes.findIndex((b) => b.id === canvas.selected());
  const next = k === -1 ? (step > 0 ? 0 : boxes.length - 1) : k + step;
  if (next < 0 || next >= boxes.length) {
    selectBox(null);
    return false;
  }
  selectBox(boxes[next].id);
  return true;
}

function acceptSelected() {
  const box = selectedBox();
  if (!box) return "Select a pre-label first (Tab walks the boxes).";
  if (box.source !== "model" || box.review_state !== "pending") return "This box is decided already; Finish frame accepts the pre-labels left.";
  editor.accept(current, box.id, { seconds: clock.take() }).then(renderHistory, reportError);
  touched();
  return true;
}

function finishFrame() {
  const frame = current;
  editor.acceptAll(frame, { seconds: clock.take() }).then((result) => {
    if (!result) return;
    const n = result.accepted;
    toast(`Frame ${frame} finished${n ? `: ${n} pre-label${n === 1 ? "" : "s"} accepted` : ""}.`, "success", 3000);
    renderHistory();
    suggestions.drop(frame, current);
    Promise.all([loadRows(), training.poll()]).catch(reportError);
  }, reportError);
  return true;
}

function toggleFlag(flag) {
  const box = selectedBox();
  if (!box) return NO_BOX;
  if (objects.isLocked(box.track)) return `Object #${box.track} is locked.`;
  editor.update(current, box.id, { [flag]: !box[flag] }, { seconds: clock.take() });
  touched();
  return true;
}

async function newTrack() {
  const box = selectedBox();
  if (!box) return NO_BOX;
  if (typeof box.id !== "number") return "The box is still being saved: try again in a moment.";
  try {
    const track = await post(`/api/videos/${videoId}/tracks/`, { label_class: box.label_class });
    await assignTo(track.id);
    toast(`The box is object #${track.id} now.`, "success");
  } catch (error) {
    reportError(error);
  }
  return true;
}

async function assignTo(trackId) {
  const box = selectedBox();
  if (!box) {
    toast(NO_BOX);
    return;
  }
  editor.update(current, box.id, { track: trackId }, { seconds: clock.take() });
  touched();
  await editor.idle();
  await objects.reload();
}

async function propagate() {
  const box = selectedBox();
  if (!box) return NO_BOX;
  const frames = Number($("#propagate-frames").value);
  if (!Number.isInteger(frames) || frames < 1 || frames > 500) return "Propagate 1 to 500 frames.";
  await editor.idle();
  const live = selectedBox();
  if (!live || typeof live.id !== "number") return "The box could not be saved, so it cannot be propagated.";
  try {
    const copies = await post(`/api/boxes/${live.id}/propagate/`, { frames });
    toast(copies.length ? `Propagated to frames ${copies[0].frame_index}–${copies.at(-1).frame_index} (${copies.length} boxes).` : "Nothing to propagate: the next frames have this object already.", "success", 4000);
    await reloadAll();
    await suggestions.load(current); // the frames it filled are finished: no longer suggested
  } catch (error) {
    reportError(error);
  }
  return true;
}

function copy() {
  const box = selectedBox();
  const boxes = box ? [box] : store.peek(current) || [];
  if (!boxes.length) return "Nothing to copy: this frame has no boxes.";
  clipboard = boxes.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, label_class: b.label_class, track: b.track ?? null }));
  toast(`Copied ${clipboard.length} box${clipboard.length === 1 ? "" : "es"}: go to another frame and paste (Ctrl+V).`, "info", 2500);
  return true;
}

function paste() {
  if (!clipboard.length) return "Nothing copied yet: select a box and copy it (Ctrl+C).";
  const here = new Set((store.peek(current) || []).map((b) => b.track).filter((t) => t !== null && t !== undefined));
  let last = null;
  for (const b of clipboard) {
    // An object is boxed once per frame: a copy lands on its track only where the track is not yet.
    const track = b.track !== null && !here.has(b.track) ? b.track : null;
    last = editor.create(current, { ...b, track }, { seconds: clock.take() });
  }
  selectBox(last);
  suggestions.drop(current, current);
  touched();
  toast(`Pasted ${clipboard.length} box${clipboard.length === 1 ? "" : "es"} onto frame ${current}.`, "info", 2000);
  return true;
}

function objectToggle(which) {
  const box = selectedBox();
  if (!box) return NO_BOX;
  if (box.track === null || box.track === undefined) return "This box is not on an object: make it one first (New object).";
  if (which === "hide") objects.toggleHidden(box.track);
  else objects.toggleLocked(box.track);
  return true;
}

async function undoRedo(redo) {
  const options = { seconds: clock.take() };
  const entry = redo ? editor.redo(options) : editor.undo(options);
  renderHistory();
  if (!entry) {
    toast(redo ? "Nothing to redo." : "Nothing to undo.", "info", 1500);
    return;
  }
  edited.add(entry.frame);
  if (entry.frame !== current) await goTo(entry.frame);
  toast(`${redo ? "Redo" : "Undo"}: ${entry.label}`, "info", 1500);
}

function renderHistory() {
  const undo = editor.nextUndo();
  const redo = editor.nextRedo();
  $("#undo").disabled = !undo;
  $("#undo").title = undo ? `Undo ${undo} (${keys.describe("undo")})` : `Nothing to undo (${keys.describe("undo")})`;
  $("#redo").disabled = !redo;
  $("#redo").title = redo ? `Redo ${redo} (${keys.describe("redo")})` : `Nothing to redo (${keys.describe("redo")})`;
}

// -- view only --------------------------------------------------------------------------------------

// What changes boxes, objects or the model; a viewer's keys for these say why nothing happens.
const WRITES = new Set(["finishFrame", "acceptBox", "newBox", "deleteBox", "cycleClass", "paste", "propagate", "newTrack", "occluded", "outside", "undo", "redo"]);
const VIEW_ONLY = "View only: your role cannot change boxes. A project manager can make you an annotator.";

// Said once while it shows, however many write keys a viewer presses.
let viewOnlyShown = 0;
function sayViewOnly() {
  if (Date.now() - viewOnlyShown < 3000) return true;
  viewOnlyShown = Date.now();
  return VIEW_ONLY;
}

function applyRole(role) {
  readOnly = !roleAtLeast(role, "annotator");
  canvas.setReadOnly(readOnly);
  $("#view-only").hidden = !readOnly;
  $("#view-only-role").textContent = role || "none";
  $(".ws-main").classList.toggle("with-notice", readOnly);
  for (const node of document.querySelectorAll("[data-writes]")) node.hidden = readOnly;
  $("#stage").setAttribute("aria-label", readOnly ? "Frame canvas: view only" : "Frame canvas: drag to draw a box");
  objects.render();
}

// -- keyboard ---------------------------------------------------------------------------------------

// Every action answers true (done), false (let the browser have the key) or a sentence saying why it
// did nothing, which is shown: no key does nothing silently.
const RUN = {
  nextFrame: () => goTo(current + 1) && true,
  prevFrame: () => goTo(current - 1) && true,
  jumpForward: () => goTo(current + 10) && true,
  jumpBack: () => goTo(current - 10) && true,
  firstFrame: () => goTo(0) && true,
  lastFrame: () => goTo(video.frame_count - 1) && true,
  play: () => review.toggle() ?? true,
  nextSuggested,
  nextUnfinished: () => review.nextUnfinished(),
  nextLowScore: () => review.nextLowScore(),
  finishFrame,
  acceptBox: acceptSelected,
  newBox() {
    canvas.armDraw();
    toast(`Drag on the frame to draw a ${classes.find((c) => c.id === activeClass)?.name ?? ""} box.`, "info", 2000);
    return true;
  },
  nextBox: () => cycleSelection(1),
  prevBox: () => cycleSelection(-1),
  deleteBox: deleteSelected,
  cycleClass,
  copy,
  paste,
  propagate: () => propagate().then((r) => r !== true && r && toast(r)) && true,
  newTrack: () => newTrack().then((r) => r !== true && r && toast(r)) && true,
  occluded: () => toggleFlag("occluded"),
  outside: () => toggleFlag("outside"),
  hideObject: () => objectToggle("hide"),
  lockObject: () => objectToggle("lock"),
  undo: () => undoRedo(false) && true,
  redo: () => undoRedo(true) && true,
  deselect: () => selectBox(null) ?? true,
  zoomIn: () => canvas.zoom(1.25) ?? true,
  zoomOut: () => canvas.zoom(0.8) ?? true,
  fit: () => canvas.fit() ?? true,
  help: () => openHelp() ?? true,
};

const IGNORED = new Set(["Shift", "Control", "Alt", "Meta", "CapsLock", "Tab", "ContextMenu", "Dead", "Unidentified"]);

function onKey(event) {
  const help = $("#help");
  if (!help.hidden) {
    if (event.key === "Escape" || keys.actionFor(event) === "help") {
      event.preventDefault();
      closeHelp();
    }
    return;
  }
  if (isTyping(event)) return;
  const action = keys.actionFor(event);
  if (action === "play" && event.key === " ") return; // the canvas tells a Space tap from a Space pan
  if ((action === "acceptBox" || action === "nextBox" || action === "prevBox") && event.target !== document.body && event.target !== canvas.element) return;
  if (action) {
    if (review.playing() && action !== "play") review.stop();
    const result = readOnly && WRITES.has(action) ? sayViewOnly() : RUN[action]();
    if (typeof result === "string") toast(result, "info", 3000);
    if (result !== false) event.preventDefault();
    return;
  }
  const ctrl = event.ctrlKey || event.metaKey;
  if (!ctrl && !event.altKey && /^[1-9]$/.test(event.key)) {
    const cls = classes[Number(event.key) - 1];
    if (readOnly) {
      const said = sayViewOnly(); // a class key would reclass the selected box
      if (typeof said === "string") toast(said, "info", 3000);
    } else if (cls) setClassOf(cls.id);
    else toast(`This project has ${classes.length} class${classes.length === 1 ? "" : "es"}: there is no class ${event.key}.`);
    event.preventDefault();
    return;
  }
  if (ctrl || event.altKey || IGNORED.has(event.key) || event.repeat) return; // the browser's own keys
  if (event.key.length === 1 || /^F\d+$/.test(event.key)) {
    const preset = PRESETS[keys.preset].name;
    toast(`“${event.key === " " ? "Space" : event.key}” is not a shortcut in the ${preset} keymap: press ${keys.describe("help")} for the list.`, "info", 3000);
  }
}

function renderHelp() {
  $("#keymap-select").value = keys.preset;
  const dl = $("#shortcut-list");
  dl.replaceChildren();
  let group = null;
  for (const row of keys.rows().sort((a, b) => a.group.localeCompare(b.group))) {
    if (row.group !== group) {
      group = row.group;
      dl.append(el("dt", { class: "shortcut-group", text: group }), el("dd", { class: "shortcut-group" }));
    }
    dl.append(el("dt", {}, el("kbd", { text: row.keys })), el("dd", { text: row.text, dataset: { action: row.id } }));
  }
  const tip = (id, action, text) => ($(id).title = `${text} (${keys.describe(action)})`);
  tip("#prev-frame", "prevFrame", "Previous frame");
  tip("#next-frame", "nextFrame", "Next frame");
  tip("#play", "play", "Play / pause");
  tip("#next-unfinished", "nextUnfinished", "Next unfinished frame");
  tip("#next-low-score", "nextLowScore", "Next frame with a pre-label under the score threshold");
  tip("#next-suggested", "nextSuggested", "Next suggested frame");
  tip("#accept-all", "finishFrame", "Finish the frame: accept the pre-labels left");
  tip("#zoom-fit", "fit", "Fit to view");
  tip("#help-button", "help", "Keyboard shortcuts");
  tip("#propagate", "propagate", "Copy the selected box onto the next frames, on its object");
  tip("#new-track", "newTrack", "Make the selected box a new object");
  renderHistory();
}

let helpReturn = null;
function openHelp() {
  helpReturn = document.activeElement;
  renderHelp();
  $("#help").hidden = false;
  $("#help-close").focus();
}
function closeHelp() {
  $("#help").hidden = true;
  (helpReturn || canvas.element).focus();
}

window.addEventListener("keydown", onKey);
$("#keymap-select").addEventListener("change", (e) => {
  keys.setPreset(e.target.value);
  renderHelp();
  toast(`Keymap: ${PRESETS[keys.preset].name}.`, "info", 2000);
});
$("#help-button").addEventListener("click", openHelp);
$("#help-close").addEventListener("click", closeHelp);
$("#help").addEventListener("click", (e) => e.target === $("#help") && closeHelp());
$("#prev-frame").addEventListener("click", () => goTo(current - 1));
$("#next-frame").addEventListener("click", () => goTo(current + 1));
const say = (fn) => () => {
  const result = fn();
  if (typeof result === "string") toast(result, "info", 3000);
};
$("#next-suggested").addEventListener("click", say(nextSuggested));
$("#next-unfinished").addEventListener("click", say(() => review.nextUnfinished()));
$("#next-low-score").addEventListener("click", say(() => review.nextLowScore()));
$("#accept-all").addEventListener("click", finishFrame);
$("#undo").addEventListener("click", () => undoRedo(false));
$("#redo").addEventListener("click", () => undoRedo(true));
$("#zoom-in").addEventListener("click", () => canvas.zoom(1.25));
$("#zoom-out").addEventListener("click", () => canvas.zoom(0.8));
$("#zoom-fit").addEventListener("click", () => canvas.fit());
$("#box-occluded").addEventListener("change", say(() => toggleFlag("occluded")));
$("#box-outside").addEventListener("change", say(() => toggleFlag("outside")));
$("#new-track").addEventListener("click", () => newTrack().then((r) => typeof r === "string" && toast(r)));
$("#propagate").addEventListener("click", () => propagate().then((r) => typeof r === "string" && toast(r)));
$("#merge-objects").addEventListener("click", () => objects.merge());
$("#frame-input").addEventListener("change", (e) => goTo(Number(e.target.value) || 0));
$("#frame-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter") canvas.element.focus(); // back to labeling: the shortcuts work again
});
window.addEventListener("beforeunload", (e) => {
  if (saveState.dataset.state === "saving") e.preventDefault();
});

// -- start ------------------------------------------------------------------------------------------

async function start() {
  video = await get(`/api/videos/${videoId}/`);
  $("#crumb-video").textContent = video.name;
  document.title = `${video.name} · Annotate`;
  if (video.status !== "ready") {
    $("#frame-label").textContent = `This clip is not ready yet (${video.status}${video.error ? `: ${video.error}` : ""}).`;
    return;
  }
  project = await get(`/api/projects/${video.project}/`);
  applyRole(project.role);
  training.setProject(project);
  const crumb = $("#crumb-project");
  crumb.textContent = project.name;
  crumb.href = `/projects/${project.id}/`;
  classes = [...project.classes].sort((a, b) => a.index - b.index);
  activeClass = classes[0]?.id ?? null;
  canvas.setClasses(classes);
  renderClasses();
  $("#frame-input").max = String(video.frame_count - 1);
  $("#frame-total").textContent = `of ${video.frame_count}`;
  review.setRange(0, video.frame_count - 1);
  timeline.setCount(video.frame_count);
  renderHelp();
  const fromHash = Number((location.hash.match(/frame=(\d+)/) || [])[1] || 0);
  await Promise.all([loadRows(), goTo(fromHash, { force: true })]);
  suggestions.load(current).catch(reportError);
  training.start();
  canvas.element.focus();
}

start().catch(reportError);
