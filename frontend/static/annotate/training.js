// "Label these next" and the micro-model panel of the workspace: suggestions, the Train button and a
// live view of the running generation (polled from its database row through the API).

import { ApiError, list, post } from "./api.js";
import { el, fmtSeconds, setProgress, toast } from "./dom.js";

const ACTIVE = new Set(["queued", "running"]);

export function createSuggestions({ videoId, listNode, onJump, onChange }) {
  let items = [];
  let available = true;
  let labeledAll = false; // every suggested frame got labeled since the list was loaded

  function render(current) {
    listNode.replaceChildren();
    if (!available) {
      listNode.append(el("li", { class: "muted", text: "Suggestions are not available on this server yet." }));
      return;
    }
    if (!items.length) {
      const text = labeledAll ? "All suggested frames are labeled: train the micro-model for pre-labels and new suggestions." : "No suggestions yet. Label a few frames and train.";
      listNode.append(el("li", { class: "muted", text }));
      return;
    }
    for (const s of items) {
      const button = el(
        "button",
        { class: `suggestion${s.frame_index === current ? " current" : ""}`, type: "button", onclick: () => onJump(s.frame_index), dataset: { frame: String(s.frame_index) } },
        el("span", { class: "suggestion-frame", text: `Frame ${s.frame_index}` }),
        el("span", { class: "suggestion-reason", text: s.reason || "" }),
        typeof s.score === "number" ? el("span", { class: "suggestion-score", text: s.score.toFixed(2) }) : null,
      );
      listNode.append(el("li", {}, button));
    }
  }

  return {
    async load(current) {
      try {
        items = (await list(`/api/videos/${videoId}/suggestions/`)).sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
        available = true;
        labeledAll = false;
      } catch (error) {
        if (!(error instanceof ApiError && error.missing)) throw error;
        available = false;
        items = [];
      }
      render(current);
      onChange(new Set(items.map((s) => s.frame_index)));
    },
    render,
    // A frame people just labeled is done: the server no longer suggests it either.
    drop(frame, current) {
      const kept = items.filter((s) => s.frame_index !== frame);
      if (kept.length === items.length) return;
      items = kept;
      labeledAll = !items.length;
      render(current);
      onChange(new Set(items.map((s) => s.frame_index)));
    },
    frames: () => [...new Set(items.map((s) => s.frame_index))].sort((a, b) => a - b),
  };
}

export function createTrainingPanel({ videoId, nodes, onFinished }) {
  const { status, progress, trainButton, cancelButton } = nodes;
  let available = true;
  let latest = null;
  let timer = 0;
  let stopped = false;

  function describe(gen) {
    if (!gen) return "No micro-model trained yet for this clip.";
    const n = `Generation ${gen.number}`;
    if (gen.status === "queued") return `${n}: queued, waiting for a worker…`;
    if (gen.status === "running") {
      const phase = gen.phase === "prelabeling" ? "pre-labeling frames" : "training";
      const epochs = gen.epochs_total ? `, epoch ${gen.epoch}/${gen.epochs_total}` : "";
      const eta = gen.eta_seconds !== null && gen.eta_seconds !== undefined ? `, about ${fmtSeconds(gen.eta_seconds)} left` : "";
      return `${n}: ${phase}${epochs}${eta}`;
    }
    if (gen.status === "succeeded") {
      const t = gen.train_seconds ? ` in ${fmtSeconds(gen.train_seconds)}` : "";
      return `${n} trained${t}; its pre-labels are shown.`;
    }
    if (gen.status === "failed") return `${n} failed: ${gen.error || "unknown error"}`;
    return `${n} was cancelled.`;
  }

  function render() {
    if (!available) {
      status.textContent = "Training is not available on this server yet.";
      trainButton.disabled = true;
      cancelButton.hidden = true;
      progress.hidden = true;
      return;
    }
    status.textContent = describe(latest);
    status.dataset.status = latest ? latest.status : "none";
    const active = latest && ACTIVE.has(latest.status);
    trainButton.disabled = Boolean(active);
    trainButton.textContent = `Train generation ${latest ? latest.number + 1 : 1}`;
    cancelButton.hidden = !active;
    if (active) {
      const fraction = latest.epochs_total ? latest.epoch / latest.epochs_total : 0;
      const text = latest.phase === "prelabeling" ? "pre-labeling" : latest.epochs_total ? `epoch ${latest.epoch}/${latest.epochs_total}` : latest.status;
      setProgress(progress, latest.phase === "prelabeling" ? 1 : fraction, text);
    } else {
      progress.hidden = true;
    }
  }

  async function poll() {
    clearTimeout(timer);
    if (stopped) return;
    const before = latest;
    try {
      const gens = await list(`/api/videos/${videoId}/generations/`);
      latest = gens.sort((a, b) => a.number - b.number).at(-1) || null;
      available = true;
    } catch (error) {
      if (error instanceof ApiError && error.missing) available = false;
      else status.textContent = `Could not read training status: ${error.message}`;
    }
    render();
    if (before && latest && before.id === latest.id && ACTIVE.has(before.status) && !ACTIVE.has(latest.status)) {
      onFinished(latest);
    } else if (latest && before && before.id !== latest.id && latest.status === "succeeded") {
      onFinished(latest);
    }
    if (available) timer = setTimeout(poll, latest && ACTIVE.has(latest.status) ? 1500 : 6000);
  }

  trainButton.addEventListener("click", async () => {
    trainButton.disabled = true;
    try {
      latest = await post(`/api/videos/${videoId}/generations/`, {});
      render();
      toast(`Generation ${latest.number} queued.`);
    } catch (error) {
      if (error instanceof ApiError && error.missing) available = false;
      else toast(`Could not start training: ${error.message}`, "error");
      render();
    }
    poll();
  });
  cancelButton.addEventListener("click", async () => {
    if (!latest) return;
    try {
      await post(`/api/generations/${latest.id}/cancel/`, {});
      toast(`Cancelling generation ${latest.number}…`);
    } catch (error) {
      toast(error instanceof ApiError && error.missing ? "Cancelling is not available on this server yet." : `Could not cancel: ${error.message}`, "error");
    }
    poll();
  });

  return {
    start: poll,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
