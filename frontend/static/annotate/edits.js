// Box edits of the workspace: applied locally at once, saved in order through a serial queue, and
// recorded for undo/redo. Undo replays the inverse API call (a deleted box comes back as a new box;
// history follows its new id). Every call can carry `seconds`, the person's active time on the
// action as the page measured it, for the label-efficiency figures.

import { ApiError, del, patch, post, query } from "./api.js";

const HISTORY_LIMIT = 100;

export function createEditor({ videoId, store, onSaveState, onConflict, onError }) {
  const aliases = new Map(); // old or temporary id -> newer id
  const undoStack = [];
  const redoStack = [];
  let pending = 0;
  let failed = false;
  let queue = Promise.resolve();
  let tempCounter = 0;

  const resolve = (id) => {
    let current = id;
    while (aliases.has(current)) current = aliases.get(current);
    return current;
  };

  function state() {
    onSaveState(pending > 0 ? "saving" : failed ? "error" : "saved");
  }

  function enqueue(job) {
    pending += 1;
    state();
    const run = queue.then(job).then(
      (value) => {
        failed = false;
        return value;
      },
      (error) => {
        if (error instanceof ApiError && error.status === 409) return;
        failed = true;
        onError(error);
      },
    );
    queue = run.finally(() => {
      pending -= 1;
      state();
    });
    return run;
  }

  const versions = new Map(); // server id -> latest version this page saw saved

  function replaceLocal(frame, id, next) {
    if (next && typeof next.id === "number") versions.set(next.id, next.version);
    const boxes = store.peek(frame) || [];
    store.set(
      frame,
      next ? boxes.map((b) => (b.id === id ? next : b)) : boxes.filter((b) => b.id !== id),
    );
  }

  function current(frame, id) {
    return (store.peek(frame) || []).find((b) => b.id === resolve(id));
  }

  async function conflict(frame, error) {
    await store.reload(frame);
    onConflict(frame, error);
  }

  function record(entry) {
    undoStack.push(entry);
    if (undoStack.length > HISTORY_LIMIT) undoStack.shift();
    redoStack.length = 0;
  }

  // -- operations (no history) ------------------------------------------------------------------

  const timed = (body, seconds) => (typeof seconds === "number" ? { ...body, seconds } : body);

  function doCreate(frame, fields, key, seconds) {
    const tempId = key ?? `tmp-${++tempCounter}`;
    const local = { ...fields, id: tempId, frame_index: frame, source: "human", review_state: "accepted", track: fields.track ?? null, score: null, version: 0 };
    store.set(frame, [...(store.peek(frame) || []), local]);
    enqueue(async () => {
      const body = { frame_index: frame, x: fields.x, y: fields.y, w: fields.w, h: fields.h, label_class: fields.label_class };
      if (fields.track !== null && fields.track !== undefined) body.track = fields.track;
      try {
        const saved = await post(`/api/videos/${videoId}/boxes/`, timed(body, seconds));
        aliases.set(tempId, saved.id);
        replaceLocal(frame, tempId, saved);
      } catch (error) {
        replaceLocal(frame, tempId, null);
        throw error;
      }
    });
    return tempId;
  }

  function doUpdate(frame, key, changes, seconds) {
    const box = current(frame, key);
    if (!box) return;
    replaceLocal(frame, box.id, { ...box, ...changes });
    enqueue(async () => {
      const live = current(frame, key);
      if (!live) return;
      try {
        const saved = await patch(`/api/boxes/${live.id}/`, timed({ version: live.version, ...changes }, seconds));
        replaceLocal(frame, live.id, saved);
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) await conflict(frame, error);
        throw error;
      }
    });
  }

  function doDelete(frame, key, seconds) {
    const box = current(frame, key);
    if (!box) return null;
    replaceLocal(frame, box.id, null);
    enqueue(async () => {
      const id = resolve(key);
      const version = versions.get(id) ?? box.version;
      try {
        await del(`/api/boxes/${id}/${query({ version: version || undefined, seconds })}`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) await conflict(frame, error);
        else store.reload(frame).catch(() => {});
        throw error;
      }
    });
    return box;
  }

  // A box that comes back (undo of a delete, redo of a create) gets a new server id; the old key
  // points to it from then on.
  function recreate(frame, key, fields, seconds) {
    const oldId = resolve(key);
    const tempId = `tmp-${++tempCounter}`;
    aliases.set(oldId, tempId);
    doCreate(frame, fields, tempId, seconds);
  }

  const geometry = (b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, label_class: b.label_class, track: b.track });

  // -- public, recorded for undo ----------------------------------------------------------------

  return {
    resolve,
    create(frame, fields, { seconds } = {}) {
      const key = doCreate(frame, fields, undefined, seconds);
      record({ frame, label: "draw box", undo: (s) => doDelete(frame, key, s), redo: (s) => recreate(frame, key, fields, s) });
      return key;
    },
    update(frame, id, changes, { seconds } = {}) {
      const box = current(frame, id);
      if (!box) return;
      const before = Object.fromEntries(Object.keys(changes).map((k) => [k, box[k]]));
      doUpdate(frame, id, changes, seconds);
      record({ frame, label: "edit box", undo: (s) => doUpdate(frame, id, before, s), redo: (s) => doUpdate(frame, id, changes, s) });
    },
    remove(frame, id, { seconds } = {}) {
      const box = doDelete(frame, id, seconds);
      if (!box) return;
      const fields = geometry(box);
      record({ frame, label: "delete box", undo: (s) => recreate(frame, id, fields, s), redo: (s) => doDelete(frame, id, s) });
    },
    // Accepting has no inverse call on the server, so it is not part of the undo history (the page
    // says so when it accepts).
    accept(frame, id, { seconds } = {}) {
      const box = current(frame, id);
      if (!box) return Promise.resolve();
      return enqueue(async () => {
        const live = current(frame, id);
        try {
          const saved = await post(`/api/boxes/${live.id}/accept/`, timed({ version: live.version }, seconds));
          if (saved && saved.id) replaceLocal(frame, live.id, saved);
          else await store.reload(frame);
        } catch (error) {
          if (error instanceof ApiError && error.status === 409) await conflict(frame, error);
          throw error;
        }
      });
    },
    acceptAll(frame, { seconds } = {}) {
      return enqueue(async () => {
        const result = await post(`/api/videos/${videoId}/frames/${frame}/accept-all/`, timed({}, seconds));
        await store.reload(frame);
        return result;
      });
    },
    undo({ seconds } = {}) {
      const entry = undoStack.pop();
      if (!entry) return null;
      entry.undo(seconds);
      redoStack.push(entry);
      return entry;
    },
    redo({ seconds } = {}) {
      const entry = redoStack.pop();
      if (!entry) return null;
      entry.redo(seconds);
      undoStack.push(entry);
      return entry;
    },
    canUndo: () => undoStack.length > 0,
    canRedo: () => redoStack.length > 0,
    nextUndo: () => undoStack.at(-1)?.label ?? null,
    nextRedo: () => redoStack.at(-1)?.label ?? null,
    idle: () => queue,
  };
}
