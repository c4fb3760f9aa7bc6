// The object list of a clip (CVAT's "Objects" sidebar): every track with its id, class and first/last
// frame, hide and lock toggles, assigning the selected box to an object, merge and split.
// Hidden and locked are a view of this person's (localStorage, per clip), as in CVAT; the tracks,
// merges and splits are the server's.

import { ApiError, list, post } from "./api.js";
import { el, swatch, toast } from "./dom.js";

export function createObjectList({ videoId, canEdit = () => true, node, classes, selectedBox, current, onAssign, onChanged, onJump }) {
  const storageKey = `annotate.objects.${videoId}`;
  const saved = JSON.parse(localStorage.getItem(storageKey) || "{}");
  const hidden = new Set(saved.hidden || []);
  const locked = new Set(saved.locked || []);
  const checked = new Set();
  let tracks = [];

  function persist() {
    localStorage.setItem(storageKey, JSON.stringify({ hidden: [...hidden], locked: [...locked] }));
  }

  function toggle(set, id) {
    if (set.has(id)) set.delete(id);
    else set.add(id);
    persist();
    render();
    onChanged();
  }

  async function merge() {
    const ids = [...checked].sort((a, b) => a - b);
    if (ids.length < 2) {
      toast("Tick two or more objects to merge them.");
      return;
    }
    const [into, ...rest] = ids;
    let message = `Merged into object #${into}.`;
    let kind = "success";
    try {
      for (const id of rest) await post(`/api/tracks/${id}/merge/`, { into });
    } catch (error) {
      [message, kind] = [error instanceof ApiError ? error.message : String(error), "error"];
    }
    checked.clear();
    await reload();
    await onChanged({ reloadBoxes: true }); // the frame shows the merged boxes before the toast says so
    toast(message, kind, kind === "error" ? 6000 : 4000);
  }

  async function split(track) {
    let message;
    let kind = "success";
    try {
      const made = await post(`/api/tracks/${track.id}/split/`, { frame_index: current() });
      message = `Object #${track.id} split at frame ${current()}: frames ${made.first_frame}–${made.last_frame} are now #${made.id}.`;
    } catch (error) {
      [message, kind] = [error instanceof ApiError ? error.message : String(error), "error"];
    }
    await reload();
    await onChanged({ reloadBoxes: true });
    toast(message, kind, 5000);
  }

  function render() {
    node.replaceChildren();
    if (!tracks.length) {
      node.append(el("li", { class: "muted", text: canEdit() ? "No objects yet. Select a box and press T (new object), or propagate it." : "No objects in this clip yet." }));
    }
    const box = selectedBox();
    for (const t of tracks) {
      const cls = classes().find((c) => c.id === t.label_class);
      const span = t.first_frame === null ? "no boxes" : t.first_frame === t.last_frame ? `frame ${t.first_frame}` : `frames ${t.first_frame}–${t.last_frame}`;
      const mine = box && box.track === t.id;
      node.append(
        el(
          "li",
          { class: `object-item${mine ? " selected" : ""}${hidden.has(t.id) ? " hidden-object" : ""}`, dataset: { trackId: String(t.id) } },
          canEdit() && el("input", { type: "checkbox", class: "object-check", "aria-label": `Select object #${t.id} for merging`, checked: checked.has(t.id), onchange: (e) => (e.target.checked ? checked.add(t.id) : checked.delete(t.id)) }),
          swatch(cls ? cls.color : "#ccc"),
          el("button", { type: "button", class: "object-name", title: "Go to its first frame", onclick: () => t.first_frame !== null && onJump(t.first_frame) }, el("b", { text: `#${t.id}` }), " ", el("span", { class: "object-class", text: cls ? cls.name : "?" })),
          el("span", { class: "object-span muted", text: span }),
          el("button", { type: "button", class: "btn object-hide", title: hidden.has(t.id) ? "Show (H)" : "Hide (H)", "aria-pressed": String(hidden.has(t.id)), "aria-label": `Hide object #${t.id}`, onclick: () => toggle(hidden, t.id), text: hidden.has(t.id) ? "Show" : "Hide" }),
          el("button", { type: "button", class: "btn object-lock", title: locked.has(t.id) ? "Unlock" : "Lock: no moving or resizing", "aria-pressed": String(locked.has(t.id)), "aria-label": `Lock object #${t.id}`, onclick: () => toggle(locked, t.id), text: locked.has(t.id) ? "Unlock" : "Lock" }),
          canEdit() && el("button", { type: "button", class: "btn object-assign", title: "Put the selected box on this object", disabled: !box || mine, onclick: () => onAssign(t.id), text: "Assign" }),
          canEdit() && el("button", { type: "button", class: "btn object-split", title: "Cut the object at this frame: from here on it is a new object", onclick: () => split(t), text: "Split" }),
        ),
      );
    }
  }

  async function reload() {
    tracks = await list(`/api/videos/${videoId}/tracks/`);
    render();
  }

  return {
    reload,
    render,
    merge,
    tracks: () => tracks,
    isHidden: (trackId) => trackId !== null && trackId !== undefined && hidden.has(trackId),
    isLocked: (trackId) => trackId !== null && trackId !== undefined && locked.has(trackId),
    toggleHidden: (trackId) => toggle(hidden, trackId),
    toggleLocked: (trackId) => toggle(locked, trackId),
  };
}
