// Box edits of the workspace: applied locally at once, saved in order through a serial queue, and
// recorded for undo/redo. Undo calls the server's undo of that action, which takes back its
// correction event too (a deleted prediction comes back under its id with its provenance; an
// accept or an edit returns it to its earlier review state), so the efficiency log holds what the
// person finally did; redo performs the action again and records it again. Every call can carry
// `seconds`, the person's active time on the action as the page measured it.

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

  // A server call on a frame's boxes: a 409 (someone changed the box meanwhile) reloads the frame
  // and tells the person; the error still fails the queued job.
  async function guarded(frame, call) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) await conflict(frame, error);
      throw error;
    }
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
      await guarded(frame, async () => {
        replaceLocal(frame, live.id, await patch(`/api/boxes/${live.id}/`, timed({ version: live.version, ...changes }, seconds)));
      });
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

  // Redo of a drawing draws it again: a new server id, which the old key points to from then on.
  function recreate(frame, key, fields, seconds) {
    const oldId = resolve(key);
    const tempId = `tmp-${++tempCounter}`;
    aliases.set(oldId, tempId);
    doCreate(frame, fields, tempId, seconds);
  }

  // Runs `call` on the saved box behind `key` in the queue; a conflict reloads the frame.
  function onServer(frame, key, call) {
    return enqueue(async () => {
      const live = current(frame, key);
      if (!live || typeof live.id !== "number") return null;
      return guarded(frame, () => call(live));
    });
  }

  function undoCreate(frame, key) {
    onServer(frame, key, async (live) => {
      await post(`/api/boxes/${live.id}/undo-create/`, { version: live.version });
      replaceLocal(frame, live.id, null);
    });
  }

  // Undo of a delete: the box comes back under its id. A human box the person did not draw
  // themselves has no event to take back, so it is drawn again (an honest "add").
  function restore(frame, key, box) {
    const id = resolve(key);
    store.set(frame, [...(store.peek(frame) || []), { ...box, id }]);
    enqueue(async () => {
      const body = {
        box: id, frame_index: frame, x: box.x, y: box.y, w: box.w, h: box.h, label_class: box.label_class,
        track: box.track ?? null, score: box.score ?? null, version: versions.get(id) ?? box.version,
      };
      if (box.source === "model") body.review_state = box.review_state;
      try {
        replaceLocal(frame, id, await post(`/api/videos/${videoId}/boxes/restore/`, body));
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 409)) throw error;
        if (box.source !== "model") {
          replaceLocal(frame, id, null);
          recreate(frame, key, geometry(box));
          return;
        }
        await conflict(frame, error);
        throw error;
      }
    });
  }

  function undoEdit(frame, key, before, reviewState) {
    const box = current(frame, key);
    if (!box) return;
    const local = box.source === "model" ? { ...before, review_state: reviewState } : before;
    replaceLocal(frame, box.id, { ...box, ...local });
    onServer(frame, key, async (live) => {
      const body = { version: live.version, ...before };
      if (live.source === "model") body.review_state = reviewState;
      replaceLocal(frame, live.id, await post(`/api/boxes/${live.id}/undo-edit/`, body));
    });
  }

  function doAccept(frame, key, seconds) {
    return onServer(frame, key, async (live) => {
      const saved = await post(`/api/boxes/${live.id}/accept/`, timed({ version: live.version }, seconds));
      if (saved && saved.id) replaceLocal(frame, live.id, saved);
      else await store.reload(frame);
      return saved;
    });
  }

  function unaccept(frame, key) {
    onServer(frame, key, async (live) => {
      replaceLocal(frame, live.id, await post(`/api/boxes/${live.id}/unaccept/`, { version: live.version }));
    });
  }

  function doAcceptAll(frame, seconds, done) {
    return enqueue(async () => {
      const result = await post(`/api/videos/${videoId}/frames/${frame}/accept-all/`, timed({}, seconds));
      for (const box of result.boxes || []) versions.set(box.id, box.version);
      done(result);
      await store.reload(frame);
      return result;
    });
  }

  function unacceptAll(frame, step) {
    enqueue(async () => {
      const result = step.result;
      if (!result || !result.event) return;
      const boxes = result.boxes.map((b) => ({ id: b.id, version: versions.get(b.id) ?? b.version }));
      await guarded(frame, async () => {
        await post(`/api/videos/${videoId}/frames/${frame}/accept-all/undo/`, { event: result.event, boxes });
        await store.reload(frame);
      });
    });
  }

  const geometry = (b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, label_class: b.label_class, track: b.track });

  // -- public, recorded for undo ----------------------------------------------------------------

  return {
    resolve,
    create(frame, fields, { seconds } = {}) {
      const key = doCreate(frame, fields, undefined, seconds);
      record({ frame, label: "draw box", undo: () => undoCreate(frame, key), redo: (s) => recreate(frame, key, fields, s) });
      return key;
    },
    update(frame, id, changes, { seconds } = {}) {
      const box = current(frame, id);
      if (!box) return;
      const before = Object.fromEntries(Object.keys(changes).map((k) => [k, box[k]]));
      const reviewState = box.review_state;
      doUpdate(frame, id, changes, seconds);
      record({ frame, label: "edit box", undo: () => undoEdit(frame, id, before, reviewState), redo: (s) => doUpdate(frame, id, changes, s) });
    },
    remove(frame, id, { seconds } = {}) {
      const box = doDelete(frame, id, seconds);
      if (!box) return;
      record({ frame, label: "delete box", undo: () => restore(frame, id, box), redo: (s) => doDelete(frame, id, s) });
    },
    accept(frame, id, { seconds } = {}) {
      if (!current(frame, id)) return Promise.resolve();
      record({ frame, label: "accept pre-label", undo: () => unaccept(frame, id), redo: (s) => doAccept(frame, id, s) });
      return doAccept(frame, id, seconds);
    },
    // One history step; redo accepts again, and undo then takes back exactly that later accept.
    acceptAll(frame, { seconds } = {}) {
      const step = { result: null };
      const entry = { frame, label: "accept all", undo: () => unacceptAll(frame, step), redo: (s) => doAcceptAll(frame, s, (r) => { step.result = r; }) };
      return doAcceptAll(frame, seconds, (result) => {
        step.result = result;
        if (result.event) record(entry);
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
