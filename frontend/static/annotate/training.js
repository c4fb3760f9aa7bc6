// "Label these next" and the micro-model panel of the workspace: suggestions, the Train button, the
// automatic-training setting with how far the next run is, and a live view of the running generation
// (polled from its database row through the API).

import { list, patch, post } from "./api.js";
import { el, etaText, fmtSeconds, setProgress, toast } from "./dom.js";
import { roleAtLeast } from "./roles.js";

const ACTIVE = new Set(["queued", "running"]);

// The engine's reasons carry its measures ("appearance distance 1.90"); a labeler reads why, not how.
const REASONS = [
  [/^looks unlike the frames picked so far/, () => "Looks unlike the frames labeled so far"],
  [/^far in time from the frames picked so far \((\d+) frames\)/, (m) => `Far from the frames labeled so far (about ${m[1]} frames away)`],
  [/^disagreement between tracker passes or detector/, () => "The tracker and the detector disagree here"],
  [/^uncertain pre-label \(lowest score ([\d.]+)\)/, (m) => `The model is unsure of a pre-label here (score ${m[1]})`],
  [/^(\d+) frames from the nearest labeled frame/, (m) => `${m[1]} frames from the nearest labeled frame`],
  [/^first frame/, () => "The first frame: where every object starts"],
];

export function plainReason(reason) {
  for (const [pattern, say] of REASONS) {
    const m = (reason || "").match(pattern);
    if (m) return say(m);
  }
  return reason || "";
}

export function createSuggestions({ videoId, listNode, onJump, onChange }) {
  let items = [];
  let labeledAll = false; // every suggested frame got labeled since the list was loaded

  function render(current) {
    listNode.replaceChildren();
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
        el("span", { class: "suggestion-reason", text: plainReason(s.reason), title: s.reason || "" }),
        typeof s.score === "number" ? el("span", { class: "suggestion-score", text: s.score.toFixed(2) }) : null,
      );
      listNode.append(el("li", {}, button));
    }
  }

  return {
    async load(current) {
      items = (await list(`/api/videos/${videoId}/suggestions/`)).sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
      labeledAll = false;
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
  const { status, progress, trainButton, cancelButton, autoStatus, autoToggle, autoAfter } = nodes;
  let latest = null;
  let trainedLast = null; // the newest generation that succeeded: its model can be downloaded
  let summary = null; // GET /frames/summary/: finished frames and the distance to the next run
  let project = null;
  let timer = 0;
  let stopped = false;

  function describe(gen) {
    if (!gen) return "No micro-model trained yet for this clip.";
    const n = `Generation ${gen.number}`;
    if (gen.status === "queued") return `${n}: queued, waiting for a worker…`;
    if (gen.status === "running") {
      if (gen.cancel_requested) return `${n}: stopping (cancel asked; it stops after the current step and keeps nothing)…`;
      const phase = gen.phase === "prelabeling" ? "pre-labeling frames" : "training";
      const epochs = gen.epochs_total ? `, epoch ${gen.epoch}/${gen.epochs_total}` : "";
      const eta = gen.eta_seconds !== null && gen.eta_seconds !== undefined ? `, about ${fmtSeconds(gen.eta_seconds)} left` : "";
      return `${n}: ${phase}${epochs}${eta}`;
    }
    if (gen.status === "succeeded" && gen.transferred_from) return `${n}: pre-labeled by the model of ${gen.transferred_from.video_name} (generation ${gen.transferred_from.number}); training here starts from it.`;
    if (gen.status === "succeeded") {
      const t = gen.train_seconds ? ` in ${fmtSeconds(gen.train_seconds)}` : "";
      return `${n} trained${t}; its pre-labels are shown.`;
    }
    if (gen.status === "failed") return `${n} failed: ${gen.error || "unknown error"}`;
    return `${n} was cancelled.`;
  }

  function renderAuto() {
    if (!summary) return;
    const manager = project && roleAtLeast(project.role, "manager");
    autoToggle.checked = summary.auto_train;
    // Never under the person's fingers: a refresh while they type would undo what they typed.
    if (document.activeElement !== autoAfter) autoAfter.value = String(summary.auto_train_after_frames);
    for (const input of [autoToggle, autoAfter]) {
      input.disabled = !manager;
      input.title = manager ? "" : "Only a project manager changes this setting.";
    }
    const done = Math.min(summary.finished_since_last_generation, summary.auto_train_after_frames);
    const left = summary.frames_until_next_generation;
    autoStatus.dataset.left = String(left);
    if (!summary.auto_train) autoStatus.textContent = `Automatic training is off: ${summary.finished_since_last_generation} frames finished since the last generation.`;
    else if (latest && ACTIVE.has(latest.status)) autoStatus.textContent = "The next automatic run waits for this one.";
    else if (left > 0) autoStatus.textContent = `${done} of ${summary.auto_train_after_frames} frames until the next generation (it starts when you leave a finished frame).`;
    else autoStatus.textContent = "The next generation starts when you leave this frame finished.";
  }

  // Managers download the newest trained model: its checkpoint, ONNX, and ONNX with 8-bit weights.
  function renderModelFiles() {
    const node = document.getElementById("train-model-files");
    const manager = project && ["manager", "owner"].includes(project.role);
    if (!node) return;
    node.hidden = !(manager && trainedLast);
    if (node.hidden) return;
    const url = (file) => `/api/generations/${trainedLast.id}/model/?file=${file}`;
    const link = (file, text) => el("a", { href: url(file), download: "", dataset: { file } }, text);
    node.replaceChildren(`Generation ${trainedLast.number} model: `, link("checkpoint", "checkpoint (.pt)"), " · ", link("onnx", "ONNX"), " · ", link("onnx_int8", "ONNX 8-bit"));
  }

  // A clip with no generation yet can be pre-labeled by another clip's trained model (its generation 0).
  let models = null;
  async function renderStartFrom() {
    const box = document.getElementById("start-from");
    if (!box || !project) return;
    const annotator = ["annotator", "manager", "owner"].includes(project.role);
    if (latest || !annotator) {
      box.hidden = true;
      return;
    }
    if (models === null) {
      models = [];
      try {
        models = (await list(`/api/projects/${project.id}/models/`)).filter((m) => m.video !== videoId);
      } catch (error) {
        toast(`Could not list the project's models: ${error.message}`, "error");
      }
      document.getElementById("start-from-select").replaceChildren(...models.map((m) => el("option", { value: String(m.id) }, `${m.video_name} · generation ${m.number}`)));
    }
    box.hidden = latest !== null || models.length === 0;
  }
  document.getElementById("start-from-button")?.addEventListener("click", async () => {
    const id = Number(document.getElementById("start-from-select").value);
    try {
      latest = await post(`/api/videos/${videoId}/generations/`, { from_generation: id });
      toast("Generation 0 queued: the other clip's model pre-labels this one.");
    } catch (error) {
      toast(`Could not start from that model: ${error.message}`, "error", 6000);
    }
    render();
    poll();
  });

  function render() {
    renderModelFiles();
    renderStartFrom();
    status.textContent = describe(latest);
    status.dataset.status = latest ? latest.status : "none";
    const active = latest && ACTIVE.has(latest.status);
    const nothing = summary !== null && summary.finished === 0;
    trainButton.disabled = Boolean(active) || nothing || summary === null;
    trainButton.title = nothing ? "Finish at least one frame first: the model learns from finished frames." : "";
    trainButton.textContent = `Train generation ${latest ? latest.number + 1 : 1}`;
    renderAuto();
    // Viewers watch the run; starting or cancelling one is an annotator's.
    const trains = !project || roleAtLeast(project.role, "annotator");
    trainButton.hidden = !trains;
    cancelButton.hidden = !active || !trains;
    cancelButton.disabled = Boolean(latest?.cancel_requested);
    if (active) {
      const fraction = latest.epochs_total ? latest.epoch / latest.epochs_total : 0;
      const text = latest.phase === "prelabeling" ? "pre-labeling" : latest.epochs_total ? `epoch ${latest.epoch}/${latest.epochs_total}${etaText(latest.eta_seconds)}` : latest.status;
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
      trainedLast = gens.filter((g) => g.status === "succeeded").at(-1) || null;
    } catch (error) {
      status.textContent = `Could not read training status: ${error.message}`;
    }
    render();
    if (before && latest && before.id === latest.id && ACTIVE.has(before.status) && !ACTIVE.has(latest.status)) {
      onFinished(latest);
    } else if (latest && before && before.id !== latest.id && latest.status === "succeeded") {
      onFinished(latest);
    }
    timer = setTimeout(poll, latest && ACTIVE.has(latest.status) ? 1500 : 6000);
  }

  trainButton.addEventListener("click", async () => {
    trainButton.disabled = true;
    try {
      latest = await post(`/api/videos/${videoId}/generations/`, {});
      render();
      toast(`Generation ${latest.number} queued.`);
    } catch (error) {
      toast(`Could not start training: ${error.message}`, "error");
      render();
    }
    poll();
  });

  async function saveSetting(change) {
    try {
      project = await patch(`/api/projects/${project.id}/`, change);
      summary = { ...summary, auto_train: project.auto_train, auto_train_after_frames: project.auto_train_after_frames };
      summary.frames_until_next_generation = Math.max(0, summary.auto_train_after_frames - summary.finished_since_last_generation);
      toast(project.auto_train ? `Training automatically every ${project.auto_train_after_frames} finished frames.` : "Automatic training is off; train with the button.");
    } catch (error) {
      toast(`Could not change the setting: ${error.message}`, "error", 6000);
    }
    renderAuto();
  }
  autoToggle.addEventListener("change", () => saveSetting({ auto_train: autoToggle.checked }));
  autoAfter.addEventListener("change", () => {
    const n = Number(autoAfter.value);
    if (!Number.isInteger(n) || n < 1) {
      toast("Give a whole number of frames, 1 or more.", "error");
      renderAuto();
      return;
    }
    saveSetting({ auto_train_after_frames: n });
  });
  cancelButton.addEventListener("click", async () => {
    if (!latest) return;
    try {
      await post(`/api/generations/${latest.id}/cancel/`, {});
      toast(`Cancelling generation ${latest.number}…`);
    } catch (error) {
      toast(`Could not cancel: ${error.message}`, "error");
    }
    poll();
  });

  return {
    start: poll,
    poll,
    setProject(next) {
      project = next;
      renderModelFiles();
    },
    setSummary(next) {
      summary = next;
      render();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
