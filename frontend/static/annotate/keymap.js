// Keyboard shortcuts of the workspace as data: the actions, two presets (this tool's own and CVAT's),
// the person's choice (kept in this browser's localStorage, per user) and the help overlay built
// from the same table, so the help never disagrees with what the keys do.
//
//   const keys = createKeymap({ user });
//   keys.actionFor(event)        // "nextFrame" | null
//   keys.preset / keys.setPreset("cvat") / keys.describe("nextFrame") -> "F"

export const ACTIONS = [
  // [id, what it does, group]
  ["nextFrame", "Next frame", "Frames"],
  ["prevFrame", "Previous frame", "Frames"],
  ["jumpForward", "Jump 10 frames forward", "Frames"],
  ["jumpBack", "Jump 10 frames back", "Frames"],
  ["firstFrame", "First frame", "Frames"],
  ["lastFrame", "Last frame", "Frames"],
  ["play", "Play / pause", "Frames"],
  ["nextSuggested", "Next suggested frame", "Review"],
  ["nextUnfinished", "Next unfinished frame", "Review"],
  ["nextLowScore", "Next frame with a pre-label under the score threshold", "Review"],
  ["finishFrame", "Finish the frame (accept all pre-labels left)", "Review"],
  ["acceptBox", "Accept the selected pre-label", "Review"],
  ["newBox", "Draw a new box (the next drag draws, even over a box)", "Boxes"],
  ["nextBox", "Select the next box", "Boxes"],
  ["prevBox", "Select the previous box", "Boxes"],
  ["deleteBox", "Delete the selected box", "Boxes"],
  ["cycleClass", "Next class (of the selected box, else for new boxes)", "Boxes"],
  ["copy", "Copy the selected box (all boxes when none is selected)", "Boxes"],
  ["paste", "Paste the copied boxes onto this frame", "Boxes"],
  ["propagate", "Propagate the selected box forward", "Objects"],
  ["newTrack", "Make the selected box a new object (track)", "Objects"],
  ["occluded", "Toggle occluded on the selected box", "Objects"],
  ["outside", "Toggle outside on the selected box", "Objects"],
  ["hideObject", "Hide / show the selected box's object", "Objects"],
  ["lockObject", "Lock / unlock the selected box's object", "Objects"],
  ["undo", "Undo", "Edit"],
  ["redo", "Redo", "Edit"],
  ["deselect", "Deselect, close this help", "Edit"],
  ["zoomIn", "Zoom in", "View"],
  ["zoomOut", "Zoom out", "View"],
  ["fit", "Fit the frame to the view", "View"],
  ["help", "Show this help", "View"],
];

const COMMON = {
  firstFrame: ["Home"],
  lastFrame: ["End"],
  play: ["Space"],
  deleteBox: ["Delete", "Backspace"],
  undo: ["Ctrl+z"],
  redo: ["Ctrl+Shift+z", "Ctrl+y"],
  copy: ["Ctrl+c"],
  paste: ["Ctrl+v"],
  propagate: ["Ctrl+b"],
  nextBox: ["Tab"],
  prevBox: ["Shift+Tab"],
  acceptBox: ["Enter"],
  finishFrame: ["Shift+Enter"],
  deselect: ["Escape"],
  zoomIn: ["+", "="],
  zoomOut: ["-"],
};

export const PRESETS = {
  annotate: {
    name: "Annotate",
    keys: {
      ...COMMON,
      nextFrame: ["ArrowRight", "d"],
      prevFrame: ["ArrowLeft", "a"],
      jumpForward: ["Shift+ArrowRight", "Shift+d"],
      jumpBack: ["Shift+ArrowLeft", "Shift+a"],
      nextSuggested: ["n"],
      nextUnfinished: ["u"],
      nextLowScore: ["l"],
      newBox: ["b"],
      cycleClass: ["c"],
      newTrack: ["t"],
      occluded: ["q"],
      outside: ["o"],
      hideObject: ["h"],
      lockObject: ["k"],
      fit: ["f"],
      help: ["?"],
    },
  },
  // CVAT's default shortcuts where CVAT has the action (F/D frames, V/C jumps, N new shape, Q occluded,
  // O outside, L lock, H hide, F1 help); the rest are this tool's.
  cvat: {
    name: "CVAT",
    keys: {
      ...COMMON,
      nextFrame: ["f", "ArrowRight"],
      prevFrame: ["d", "ArrowLeft"],
      jumpForward: ["v"],
      jumpBack: ["c"],
      nextSuggested: ["Shift+n"],
      nextUnfinished: ["u"],
      nextLowScore: ["Shift+l"],
      newBox: ["n"],
      cycleClass: ["Shift+c"],
      newTrack: ["t"],
      occluded: ["q", "/"],
      outside: ["o"],
      hideObject: ["h"],
      lockObject: ["l"],
      fit: ["Shift+f"],
      help: ["F1", "?"],
    },
  },
};

const LABELS = { ArrowRight: "→", ArrowLeft: "←", Ctrl: "Ctrl", Space: "Space", Escape: "Esc", Delete: "Delete" };

// "Ctrl+Shift+z" for a keydown: Shift is named for letters and named keys, not for "?" or "+".
export function comboOf(event) {
  let key = event.key === " " ? "Space" : event.key;
  if (key.length === 1) key = key.toLowerCase();
  const parts = [];
  if (event.ctrlKey || event.metaKey) parts.push("Ctrl");
  if (event.altKey) parts.push("Alt");
  if (event.shiftKey && (key.length > 1 || /[a-z]/.test(key))) parts.push("Shift");
  parts.push(key);
  return parts.join("+");
}

export function showCombo(combo) {
  return combo
    .split("+")
    .map((part) => LABELS[part] || (part.length === 1 ? part.toUpperCase() : part))
    .join("+");
}

export function createKeymap({ user }) {
  const storageKey = `annotate.keymap.${user || "anonymous"}`;
  let preset = PRESETS[localStorage.getItem(storageKey)] ? localStorage.getItem(storageKey) : "annotate";
  let index = new Map();

  function build() {
    index = new Map();
    for (const [action, combos] of Object.entries(PRESETS[preset].keys)) for (const c of combos) index.set(c, action);
  }
  build();

  return {
    get preset() {
      return preset;
    },
    setPreset(name) {
      if (!PRESETS[name]) return;
      preset = name;
      localStorage.setItem(storageKey, name);
      build();
    },
    actionFor(event) {
      return index.get(comboOf(event)) ?? null;
    },
    describe(action) {
      return (PRESETS[preset].keys[action] || []).map(showCombo).join(" / ");
    },
    // The help overlay's rows for the chosen preset (class keys 1-9 are the same in both).
    rows() {
      const rows = ACTIONS.map(([id, text, group]) => ({ id, text, group, keys: this.describe(id) })).filter((r) => r.keys);
      rows.push({ id: "classKeys", text: "Choose the class (of the selected box, else for new boxes)", group: "Boxes", keys: "1–9" });
      rows.push({ id: "pan", text: "Pan (hold and drag); wheel zooms", group: "View", keys: "Space+drag" });
      return rows;
    },
  };
}
