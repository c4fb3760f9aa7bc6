// Manager dashboard of a project or one clip: time the models saved, progress, what the model got
// right on the frames people finished, final boxes by generation, human time per box, annotator
// throughput, training runs (cancel a running one). Every chart and table has a CSV of its rows.

import { get, list, post } from "./api.js";
import { bars, csvButton, lines, stackedBars } from "./charts.js";
import { $, el, fmtSeconds, pageIds, setProgress, toast } from "./dom.js";

const { project_id: projectIdFromPage, video_id: videoId } = pageIds();
const COLORS = { accepted: "#59a14f", edited: "#4e79a7", added: "#f28e2b", deleted: "#e15759" };
const LINE_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2"];
const POLL_MS = 2000;

const pct = (v) => (typeof v === "number" ? `${Math.round(v * 100)}%` : "–");
const num = (v) => (typeof v === "number" ? String(Math.round(v * 100) / 100) : "–");
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const genName = (n) => (n === null || n === undefined ? "before any model" : `gen ${n}`);

function empty(node, text) {
  node.replaceChildren(el("p", { class: "empty-state", text }));
}

function loadFailed(error, what) {
  return `Could not load ${what.toLowerCase()}: ${error.message}`;
}

function table(headers, rows) {
  return el(
    "table",
    { class: "table" },
    el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { scope: "col", class: i ? "num" : "", text: h })))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) => (i ? el("td", { class: "num" }, c) : el("th", { scope: "row", text: c })))))),
  );
}

function csv(slot, name, headers, rows) {
  $(slot).replaceChildren(csvButton(`${name}.csv`, headers, rows));
}

// -- summary ------------------------------------------------------------------------------------

function renderSummary(data) {
  const t = data.totals || {};
  if (typeof t.saved_seconds === "number") {
    const saved = t.saved_seconds;
    $("#saved-figure").textContent = saved >= 0 ? fmtSeconds(saved) : `−${fmtSeconds(-saved)} (the model cost time so far)`;
    $("#saved-detail").textContent =
      `People spent ${fmtSeconds(t.human_seconds)} on ${t.finalized_boxes} final boxes; drawing them all by hand would have cost ${fmtSeconds(t.hand_seconds)}` +
      (typeof t.seconds_per_drawn_box === "number" ? ` at ${num(t.seconds_per_drawn_box)} s per hand-drawn box, measured on ${videoId ? "this clip" : "each clip"}.` : ", priced per clip by its own seconds per hand-drawn box.");
  } else {
    $("#saved-figure").textContent = "–";
    $("#saved-detail").textContent = "Needs at least one box drawn by hand, to measure what a box costs without the model.";
  }
  const p = data.progress || {};
  const total = p.frames_total || 0;
  $("#progress-figure").textContent = `${p.frames_finished ?? 0} / ${total} frames finished`;
  setProgress($("#progress-bar"), total ? (p.frames_finished || 0) / total : 0, `${pct(total ? (p.frames_finished || 0) / total : 0)}`);
  $("#progress-detail").textContent = `${p.frames_remaining ?? 0} frames remaining · ${p.boxes_final ?? 0} final boxes · ${p.boxes_pending ?? 0} pre-labels waiting for review`;

  const scored = (data.live_figures || []).filter((g) => g.frames > 0);
  const latest = scored.at(-1);
  if (!latest) {
    $("#live-figure").textContent = "–";
    $("#live-detail").textContent = "Shown once people finish frames a generation pre-labeled.";
  } else if (latest.detector && typeof latest.detector.recall === "number") {
    $("#live-figure").textContent = `${pct(latest.detector.recall)} found by the model alone`;
    $("#live-detail").textContent = `Generation ${latest.generation}: the model alone found ${pct(latest.detector.recall)} of the ${latest.final_boxes} boxes you corrected on ${plural(latest.frames, "frame")} (precision ${pct(latest.detector.precision)}); with tracking, the pre-labels found ${pct(latest.engine.recall)} (precision ${pct(latest.engine.precision)}).`;
  } else {
    $("#live-figure").textContent = `${pct(latest.engine.recall)} found by the pre-labels`;
    $("#live-detail").textContent = `Generation ${latest.generation}: its pre-labels found ${pct(latest.engine.recall)} of the ${latest.final_boxes} boxes you corrected on ${plural(latest.frames, "frame")} (precision ${pct(latest.engine.precision)}). The engine did not report the detector's own boxes for this generation.`;
  }
}

// -- charts and tables --------------------------------------------------------------------------

function renderGenerations(data) {
  const gens = (data.by_generation || []).slice().sort((a, b) => (a.generation ?? -1) - (b.generation ?? -1));
  if (!gens.length) {
    empty($("#eff-chart"), "No corrections recorded yet.");
    empty($("#spb-chart"), "No corrections recorded yet.");
    return;
  }
  const categories = gens.map((g) => genName(g.generation));
  const series = ["accepted", "edited", "added"].map((k) => ({ name: k, color: COLORS[k], values: gens.map((g) => g[k] || 0) }));
  const side = { name: "deleted (not final)", color: COLORS.deleted, values: gens.map((g) => g.deleted || 0) };
  const notes = gens.map((g) => (g.generation === null ? "no model" : `${pct(g.model_found_share)} (${pct(g.model_share)})`));
  stackedBars($("#eff-chart"), { categories, series, side, notes, yLabel: "boxes", xLabel: "generation", title: "Final boxes by generation" });
  const headers = ["generation", "accepted", "edited", "added", "final", "deleted", "model_found_share", "model_exact_share", "mean_edit_iou"];
  csv("#eff-csv", "final-boxes-by-generation", headers, gens.map((g) => [g.generation ?? "", g.accepted, g.edited, g.added, g.finalized_boxes, g.deleted, g.model_found_share, g.model_share, g.mean_edit_iou]));

  bars($("#spb-chart"), { categories, values: gens.map((g) => g.seconds_per_box ?? 0), color: "#76b7b2", yLabel: "seconds per final box", xLabel: "generation", title: "Human seconds per final box", format: (v) => `${Math.round(v * 10) / 10} s` });
  csv("#spb-csv", "seconds-per-box", ["generation", "human_seconds", "final_boxes", "seconds_per_box", "seconds_per_drawn_box"], gens.map((g) => [g.generation ?? "", g.human_seconds, g.finalized_boxes, g.seconds_per_box, g.seconds_per_drawn_box]));
}

function renderLive(data) {
  const rows = data.live_figures || [];
  if (!rows.length) {
    empty($("#live-table"), "No finished generation yet.");
    return;
  }
  const multi = !videoId;
  const headers = [...(multi ? ["Clip · gen"] : ["Generation"]), "Model", "Frames", "Final boxes", "Pre-labels R / P", "Detector alone R / P"];
  const rp = (f) => (f ? `${pct(f.recall)} / ${pct(f.precision)}` : "–");
  const clipName = (id) => (data.by_video || []).find((v) => v.video === id)?.name ?? `clip ${id}`;
  $("#live-table").replaceChildren(
    table(
      headers,
      rows.map((g) => [(multi ? `${clipName(g.video)} · ` : "") + (g.generation === 0 ? "gen 0 (started from another clip's model)" : `gen ${g.generation}`), g.model || "–", String(g.frames), String(g.final_boxes), rp(g.engine), rp(g.detector)]),
    ),
  );
  csv("#live-csv", "generation-live-figures", ["video", "generation", "model", "base_weights", "base_weights_sha256", "frames", "final_boxes", "engine_recall", "engine_precision", "detector_recall", "detector_precision"], rows.map((g) => [g.video, g.generation, g.model, g.base_weights, g.base_weights_sha256, g.frames, g.final_boxes, g.engine?.recall, g.engine?.precision, g.detector?.recall, g.detector?.precision]));
}

function renderThroughput(data) {
  const rows = data.throughput || [];
  if (!rows.length) {
    empty($("#thr-chart"), "No annotator activity yet.");
    return;
  }
  const first = Date.parse(rows[0].hour);
  const byUser = new Map();
  for (const r of rows) {
    const key = r.username ?? String(r.user ?? "?");
    if (!byUser.has(key)) byUser.set(key, []);
    byUser.get(key).push([Math.round((Date.parse(r.hour) - first) / 3600000) + 1, r.finalized_boxes]);
  }
  const series = [...byUser.entries()].map(([name, points], i) => ({ name, color: LINE_COLORS[i % LINE_COLORS.length], points }));
  lines($("#thr-chart"), { series, yLabel: "final boxes per hour", xLabel: `hour (1 = ${new Date(first).toLocaleString()})`, title: "Annotator throughput" });
  csv("#thr-csv", "annotator-throughput", ["hour", "user", "username", "actions", "final_boxes", "human_seconds"], rows.map((r) => [r.hour, r.user, r.username, r.actions, r.finalized_boxes, r.human_seconds]));
}

function renderAnnotators(data) {
  const annotators = data.by_annotator || [];
  if (!annotators.length) {
    empty($("#annotator-table"), "No annotator activity yet.");
    return;
  }
  const headers = ["Annotator", "Accepted", "Edited", "Deleted", "Added", "Seconds / box", "Mean edit IoU"];
  const rows = annotators.map((a) => [a.username ?? String(a.user ?? "?"), num(a.accepted), num(a.edited), num(a.deleted), num(a.added), num(a.seconds_per_box), num(a.mean_edit_iou)]);
  $("#annotator-table").replaceChildren(table(headers, rows));
  csv("#ann-csv", "annotators", ["username", "accepted", "edited", "deleted", "added", "human_seconds", "seconds_per_box", "mean_edit_iou"], annotators.map((a) => [a.username, a.accepted, a.edited, a.deleted, a.added, a.human_seconds, a.seconds_per_box, a.mean_edit_iou]));
}

function renderClips(data) {
  const clips = data.by_video;
  if (!clips) return;
  $("#clips-card").hidden = false;
  const headers = ["Clip", "Final boxes", "Model found", "Human time", "By hand", "Saved"];
  $("#clips-table").replaceChildren(table(headers, clips.map((c) => [c.name, String(c.finalized_boxes), pct(c.model_found_share), fmtSeconds(c.human_seconds), fmtSeconds(c.hand_seconds), c.saved_seconds === null ? "–" : fmtSeconds(c.saved_seconds)])));
  csv("#clips-csv", "clips", ["video", "name", "final_boxes", "model_found_share", "human_seconds", "seconds_per_drawn_box", "hand_seconds", "saved_seconds"], clips.map((c) => [c.video, c.name, c.finalized_boxes, c.model_found_share, c.human_seconds, c.seconds_per_drawn_box, c.hand_seconds, c.saved_seconds]));
}

function renderEfficiency(data) {
  renderSummary(data);
  renderGenerations(data);
  renderLive(data);
  renderThroughput(data);
  renderAnnotators(data);
  renderClips(data);
}

// -- training runs --------------------------------------------------------------------------------

const lossOf = (h) => (typeof h.loss === "number" ? h.loss : Object.entries(h).reduce((s, [k, v]) => (k !== "epoch" && typeof v === "number" ? s + v : s), 0));
const active = (r) => r.status === "queued" || r.status === "running";

function runProgress(r) {
  if (!active(r)) return r.status;
  const wrap = el("div", { class: "progress" }, el("div", { class: "progress-bar", role: "progressbar", "aria-label": `Progress of gen ${r.number}`, "aria-valuemin": "0", "aria-valuemax": "100" }), el("span", { class: "progress-text" }));
  const eta = typeof r.eta_seconds === "number" ? ` · ${fmtSeconds(r.eta_seconds)} left` : "";
  setProgress(wrap, r.epochs_total ? r.epoch / r.epochs_total : 0, `${r.phase || r.status}${r.epochs_total ? ` ${r.epoch}/${r.epochs_total}` : ""}${eta}`);
  const cancel = el("button", { class: "btn btn-small", type: "button", disabled: r.cancel_requested, "aria-label": `Cancel gen ${r.number}` }, r.cancel_requested ? "Cancelling…" : "Cancel");
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      await post(`/api/generations/${r.id}/cancel/`);
      toast(`Generation ${r.number} is being cancelled.`);
    } catch (error) {
      toast(`Could not cancel: ${error.message}`, "error");
    }
  });
  return el("div", {}, wrap, cancel);
}

let runsTimer = 0;

function renderRuns(runs, videos) {
  clearTimeout(runsTimer);
  if (!runs.length) {
    empty($("#runs-table"), "No training runs yet.");
    $("#loss-chart").replaceChildren();
    return;
  }
  $("#runs-table").replaceChildren(
    table(
      ["Run", "Status", "Model", "Base weights", "Epochs", "Train", "Pre-label"],
      runs.map((r) => [`${r.clip ? `${r.clip} · ` : ""}gen ${r.number}`, runProgress(r), r.model || "–", baseOf(r), `${r.epoch}/${r.epochs_total}`, fmtSeconds(r.train_seconds), fmtSeconds(r.prelabel_seconds)]),
    ),
  );
  csv("#runs-csv", "training-runs", ["clip", "generation", "status", "model", "base_weights", "base_weights_sha256", "epochs", "train_seconds", "prelabel_seconds"], runs.map((r) => [r.clip ?? "", r.number, r.status, r.model, r.base_weights, r.base_weights_sha256, r.epoch, r.train_seconds, r.prelabel_seconds]));
  const series = runs
    .filter((r) => Array.isArray(r.loss_history) && r.loss_history.length)
    .slice(-LINE_COLORS.length)
    .map((r, i) => ({ name: `${r.clip ? `${r.clip} ` : ""}gen ${r.number}`, color: LINE_COLORS[i], points: r.loss_history.map((h, k) => [h.epoch ?? k + 1, lossOf(h)]) }));
  if (series.length) lines($("#loss-chart"), { series, yLabel: "training loss", xLabel: "epoch", title: "Loss curves" });
  else empty($("#loss-chart"), "No loss history recorded.");
  if (runs.some(active)) runsTimer = setTimeout(() => runsOf(videos).then((r) => renderRuns(r, videos)), POLL_MS);
}

function baseOf(r) {
  if (!r.base_weights) return "–";
  const name = r.base_weights === "from scratch" ? "from scratch" : r.base_weights.split("/").at(-1);
  return r.base_weights_sha256 ? `${name} (sha256 ${r.base_weights_sha256.slice(0, 12)}…)` : name;
}

async function runsOf(videos) {
  const all = [];
  for (const v of videos) {
    const gens = await list(`/api/videos/${v.id}/generations/`);
    for (const g of gens) all.push({ ...g, clip: videos.length > 1 ? v.name : null });
  }
  return all;
}

async function start() {
  let projectId = projectIdFromPage;
  let videos;
  try {
    if (videoId) {
      const video = await get(`/api/videos/${videoId}/`);
      projectId = video.project;
      videos = [video];
      $("#crumb-video").textContent = `${video.name} · dashboard`;
    } else {
      videos = (await list(`/api/projects/${projectId}/videos/`)).filter((v) => v.status === "ready");
    }
    const project = await get(`/api/projects/${projectId}/`);
    const crumb = $("#crumb-project");
    crumb.textContent = project.name;
    crumb.href = `/projects/${project.id}/`;
    $("#dash-title").textContent = videoId ? `Dashboard: ${videos[0].name}` : `Dashboard: ${project.name}`;
    if (!videoId) $("#crumb-video").textContent = "Dashboard";
  } catch (error) {
    const box = $("#dash-error");
    box.textContent = error.status === 404 ? "Not found, or you are not a member of this project." : error.message;
    box.hidden = false;
    return;
  }
  const url = videoId ? `/api/videos/${videoId}/efficiency/` : `/api/projects/${projectId}/efficiency/`;
  await Promise.all([
    get(url).then(renderEfficiency, (error) => {
      for (const id of ["#eff-chart", "#spb-chart", "#annotator-table", "#live-table", "#thr-chart"]) empty($(id), loadFailed(error, "Label efficiency"));
    }),
    runsOf(videos).then((runs) => renderRuns(runs, videos), (error) => empty($("#runs-table"), loadFailed(error, "Training history"))),
  ]);
  document.body.dataset.dashboardReady = "1";
}

start();
