// Client caches of one clip: decoded frame images (LRU) and the boxes of each frame.

import { list, query } from "./api.js";

// Decoded <img> elements by frame index. Frame images are immutable on the server, so the browser's
// HTTP cache backs this one; this cache keeps them decoded so drawing never waits.
export function createImageCache(urlOf, { capacity = 120 } = {}) {
  const entries = new Map(); // index -> { promise, image }

  function touch(index, entry) {
    entries.delete(index);
    entries.set(index, entry);
    while (entries.size > capacity) entries.delete(entries.keys().next().value);
  }

  function get(index) {
    let entry = entries.get(index);
    if (!entry) {
      const img = new Image();
      img.decoding = "async";
      img.src = urlOf(index);
      entry = { image: null };
      entry.promise = img.decode().then(
        () => {
          entry.image = img;
          return img;
        },
        (error) => {
          entries.delete(index);
          throw error;
        },
      );
      entry.promise.catch(() => {});
    }
    touch(index, entry);
    return entry.promise;
  }

  return {
    get,
    peek: (index) => entries.get(index)?.image || null,
    prefetch(indices) {
      for (const i of indices) if (!entries.has(i)) get(i);
    },
  };
}

// Boxes by frame index, loaded in chunks of neighbouring frames.
export function createBoxStore(videoId, { chunk = 25 } = {}) {
  const frames = new Map(); // index -> boxes
  const loading = new Map(); // chunk start -> promise
  const listeners = new Set();

  function chunkStart(index) {
    return Math.floor(index / chunk) * chunk;
  }

  async function fetchRange(start, end) {
    const boxes = await list(`/api/videos/${videoId}/boxes/${query({ frame_start: start, frame_end: end, limit: 1000 })}`);
    for (let i = start; i <= end; i++) frames.set(i, []);
    for (const box of boxes) frames.get(box.frame_index)?.push(box);
    for (let i = start; i <= end; i++) notify(i);
  }

  function load(index) {
    if (frames.has(index)) return Promise.resolve(frames.get(index));
    const start = chunkStart(index);
    if (!loading.has(start)) {
      const promise = fetchRange(start, start + chunk - 1).finally(() => loading.delete(start));
      loading.set(start, promise);
    }
    return loading.get(start).then(() => frames.get(index) || []);
  }

  function notify(index) {
    for (const fn of listeners) fn(index);
  }

  return {
    load,
    peek: (index) => frames.get(index) || null,
    prefetch(index) {
      if (!frames.has(index)) load(index).catch(() => {});
    },
    async reload(index) {
      const boxes = await list(`/api/videos/${videoId}/boxes/${query({ frame: index })}`);
      frames.set(index, boxes);
      notify(index);
      return boxes;
    },
    set(index, boxes) {
      frames.set(index, boxes);
      notify(index);
    },
    find(id) {
      for (const [index, boxes] of frames) {
        const box = boxes.find((b) => b.id === id);
        if (box) return { index, box };
      }
      return null;
    },
    clear() {
      frames.clear();
    },
    onChange(fn) {
      listeners.add(fn);
    },
    cachedFrames: () => frames.entries(),
  };
}
