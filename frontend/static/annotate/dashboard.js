// Manager dashboard of a project or one clip: label efficiency by generation, human time per box,
// annotators, training runs with loss curves.

import { ApiError, get, list } from "./api.js";
import { bars, lines, stackedBars } from "./charts.js";
import { $, el, fmtSeconds, pageIds } from "./dom.js";

const { project_id: projectIdFromPage, video_id: videoId } = pageIds();
const COLORS = { accepted: "#59a14f", edited: "#4e79a7", added: "#f28e2b", deleted: "#e15759" };
const LOSS_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1"];

function empty(node, text) {
  node.replaceChildren(el("p", { class: "empty-state", text }));
}

function unavailable(error, what) {
  return error instanceof ApiError && error.missing ? `${what} is not available on this server yet.` : `Could not load ${what.toLowerCase()}: ${error.message}`;
}

function table(headers, rows) {
  return el(
    "table",
    { class: "table" },
    el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { scope: "col", class: i ? "num" : "", text: h })))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) => (i ? el("td", { class: "num", text: c }) : el("th", { scope: "row", text: c })))))),
  );
}

// Losses and metrics as the engine records them (Ultralytics names: "train/box_loss",
// "metrics/mAP50(B)"), or short names.
const lossOf = (h) => (typeof h.loss === "number" ? h.loss : Object.entries(h).reduce((s, [k, v]) => (k !== "epoch" && typeof v === "number" ? s + v : s), 0));
function map50(metrics) {
  if (!metrics) return undefined;
  const key = Object.keys(metrics).find((k) => /^(metrics\/)?map50(\(b\))?$/i.test(k));
  return key === undefined ? undefined : metrics[key];
}

const pct = (v) => (typeof v === "number" ? `${Math.round(v * 100)}%` : "–");
const num = (v) => (typeof v === "number" ? String(Math.round(v * 100) / 100) : "–");

function renderEfficiency(data) {
  const gens = (data.by_generation || []).slice().sort((a, b) => (a.number ?? a.generation ?? 0) - (b.number ?? b.generation ?? 0));
  if (!gens.length) {
    empty($("#eff-chart"), "No corrections recorded yet.");
    empty($("#spb-chart"), "No corrections recorded yet.");
  } else {
    const categories = gens.map((g) => {
      const n = g.number ?? g.generation;
      return n === null || n === undefined ? "before any model" : `gen ${n}`;
    });
    const series = ["accepted", "edited", "added", "deleted"].map((k) => ({ name: k, color: COLORS[k], values: gens.map((g) => g[k] || 0) }));
    stackedBars($("#eff-chart"), { categories, series, notes: gens.map((g) => `model ${pct(g.model_share)}`), yLabel: "boxes", xLabel: "generation", title: "Label efficiency by generation" });
    bars($("#spb-chart"), { categories, values: gens.map((g) => g.seconds_per_box ?? 0), color: "#76b7b2", yLabel: "seconds per box", xLabel: "generation", title: "Human seconds per final box", format: (v) => `${Math.round(v * 10) / 10}` });
  }
  const annotators = data.by_annotator || [];
  if (!annotators.length) {
    empty($("#annotator-table"), "No annotator activity yet.");
  } else {
    $("#annotator-table").replaceChildren(
      table(
        ["Annotator", "Accepted", "Edited", "Deleted", "Added", "Seconds / box"],
        annotators.map((a) => [a.username ?? String(a.user ?? "?"), num(a.accepted), num(a.edited), num(a.deleted), num(a.added), num(a.seconds_per_box)]),
      ),
    );
  }
}

function renderRuns(runs) {
  if (!runs.length) {
    empty($("#runs-table"), "No training runs yet.");
    $("#loss-chart").replaceChildren();
    return;
  }
  $("#runs-table").replaceChildren(
    table(
      ["Run", "Status", "Epochs", "Train", "Pre-label", "mAP50"],
      runs.map((r) => [`${r.clip ? `${r.clip} · ` : ""}gen ${r.number}`, r.status, `${r.epoch}/${r.epochs_total}`, fmtSeconds(r.train_seconds), fmtSeconds(r.prelabel_seconds), num(map50(r.metrics))]),
    ),
  );
  const series = runs
    .filter((r) => Array.isArray(r.loss_history) && r.loss_history.length)
    .slice(-LOSS_COLORS.length)
    .map((r, i) => ({
      name: `${r.clip ? `${r.clip} ` : ""}gen ${r.number}`,
      color: LOSS_COLORS[i],
      points: r.loss_history.map((h, k) => [h.epoch ?? k + 1, lossOf(h)]),
    }));
  if (series.length) lines($("#loss-chart"), { series, yLabel: "training loss (box + cls + dfl)", xLabel: "epoch", title: "Loss curves" });
  else empty($("#loss-chart"), "No loss history recorded.");
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
      for (const id of ["#eff-chart", "#spb-chart", "#annotator-table"]) empty($(id), unavailable(error, "Label efficiency"));
    }),
    runsOf(videos).then(renderRuns, (error) => {
      empty($("#runs-table"), unavailable(error, "Training history"));
    }),
  ]);
}

start();
