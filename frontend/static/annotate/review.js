// The review pass over pre-labels: jump to the next unfinished / low-score / suggested frame, a score
// threshold that hides pre-labels at or above it (to look only at the doubtful ones) or accepts them
// in bulk on a frame range, and playback with a speed (Space).

import { post } from "./api.js";
import { toast } from "./dom.js";

export function createReview({ videoId, nodes, rows, current, frameCount, fps, goTo, onBulkAccepted, onChange }) {
  const { threshold, thresholdValue, hideAbove, rangeStart, rangeEnd, acceptAbove, play, speed } = nodes;
  let timer = 0;
  let playing = false;

  const level = () => Number(threshold.value);

  function describe() {
    thresholdValue.textContent = level().toFixed(2);
    const [a, b] = range();
    acceptAbove.textContent = `Accept ≥ ${level().toFixed(2)} on frames ${a}–${b}`;
  }

  function range() {
    const last = frameCount() - 1;
    const a = Math.max(0, Math.min(last, Number(rangeStart.value || 0)));
    const b = Math.max(a, Math.min(last, Number(rangeEnd.value === "" ? last : rangeEnd.value)));
    return [a, b];
  }

  // The first frame after the current one (wrapping) that `test` accepts, or null.
  function nextWhere(test) {
    const n = frameCount();
    for (let k = 1; k <= n; k++) {
      const i = (current() + k) % n;
      if (test(i, rows().get(i))) return i;
    }
    return null;
  }

  function jump(test, none) {
    const i = nextWhere(test);
    if (i === null) return none;
    goTo(i);
    return true;
  }

  function stop() {
    if (!playing) return;
    playing = false;
    clearTimeout(timer);
    play.textContent = "▶ Play";
    play.setAttribute("aria-pressed", "false");
  }

  async function tick() {
    if (!playing) return;
    if (current() >= frameCount() - 1) {
      stop();
      return;
    }
    const started = performance.now();
    await goTo(current() + 1);
    const interval = 1000 / ((fps() || 10) * Number(speed.value));
    timer = setTimeout(tick, Math.max(0, interval - (performance.now() - started)));
  }

  function toggle() {
    if (playing) {
      stop();
      return;
    }
    if (current() >= frameCount() - 1) goTo(0);
    playing = true;
    play.textContent = "❚❚ Pause";
    play.setAttribute("aria-pressed", "true");
    tick();
  }

  acceptAbove.addEventListener("click", async () => {
    const [a, b] = range();
    const t = level();
    try {
      const result = await post(`/api/videos/${videoId}/boxes/accept-above/`, { min_score: t, frame_start: a, frame_end: b });
      toast(
        result.accepted
          ? `Accepted ${result.accepted} pre-label${result.accepted === 1 ? "" : "s"} scoring ≥ ${t.toFixed(2)} on ${result.frames} frame${result.frames === 1 ? "" : "s"}; ${result.finished} finished.`
          : `No pending pre-label scores ≥ ${t.toFixed(2)} on frames ${a}–${b}.`,
        result.accepted ? "success" : "info",
        5000,
      );
      await onBulkAccepted();
    } catch (error) {
      toast(`Could not accept: ${error.message}`, "error", 6000);
    }
  });
  for (const input of [threshold, rangeStart, rangeEnd]) input.addEventListener("input", describe);
  threshold.addEventListener("input", onChange);
  hideAbove.addEventListener("change", onChange);
  play.addEventListener("click", toggle);
  describe();

  return {
    describe,
    toggle,
    stop,
    playing: () => playing,
    // Pre-labels the threshold hides from the canvas (only while "hide" is ticked).
    hides(box) {
      return hideAbove.checked && box.source === "model" && box.review_state === "pending" && typeof box.score === "number" && box.score >= level();
    },
    nextUnfinished: () => jump((_, row) => row && !row.finished, "Every frame is finished."),
    nextLowScore: () =>
      jump(
        (_, row) => row && row.pending_boxes > 0 && row.lowest_pending_score !== null && row.lowest_pending_score < level(),
        `No pre-label scores under ${level().toFixed(2)}.`,
      ),
    setRange(a, b) {
      rangeStart.value = String(a);
      rangeEnd.value = String(b);
      describe();
    },
  };
}
