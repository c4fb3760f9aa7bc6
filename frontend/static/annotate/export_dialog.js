// The export dialog of the project page, and the list of export jobs (progress with ETA, cancel,
// download). Defaults to the frames people finished; the other choices say what they mean.

import { ApiError, get, list, post } from "./api.js";
import { $, el, etaText, setProgress, toast } from "./dom.js";

const ACTIVE = ["queued", "running"];
const POLL_MS = 1000;

const FORMAT_NAMES = { cvat: "CVAT for video", cvat_images: "CVAT for images", voc: "Pascal VOC" };

function describe(job, clips) {
  const o = job.options || {};
  const clip = o.video ? (clips.get(o.video) ?? `clip ${o.video}`) : "all clips";
  const frames = { reviewed: "finished frames", labeled: `finished frames + pre-labels ≥ ${o.min_score ?? 0}`, all: "all frames" }[o.frames] ?? "finished frames";
  if (job.format === "redact") return `Redacted video · ${clip} · ${o.style ?? "blur"} ${(o.classes || []).join(", ")}${o.include_predictions ? ` · pre-labels ≥ ${o.min_score ?? 0}` : ""}`;
  return `${FORMAT_NAMES[job.format] ?? (job.format || "").toUpperCase()} · ${clip} · ${frames}${o.with_images || job.format === "yolo" ? " · with images" : ""}`;
}

function jobLine(job, clips, onCancel) {
  const wrap = el("div", { class: "export-job", dataset: { exportId: String(job.id), status: job.status } });
  wrap.append(el("div", { class: "export-job-head" }, el("span", { text: describe(job, clips) }), el("span", { class: `badge badge-${job.status}`, text: job.status })));
  if (ACTIVE.includes(job.status)) {
    const bar = el("div", { class: "progress" }, el("div", { class: "progress-bar", role: "progressbar", "aria-label": `Export ${job.id} progress`, "aria-valuemin": "0", "aria-valuemax": "100" }), el("span", { class: "progress-text" }));
    setProgress(bar, job.items_total ? job.items_done / job.items_total : 0, job.items_total ? `${job.items_done}/${job.items_total}${etaText(job.eta_seconds)}` : job.status);
    const cancel = el("button", { class: "btn btn-small", type: "button", "aria-label": `Cancel export ${job.id}` }, "Cancel");
    cancel.addEventListener("click", () => onCancel(job, cancel));
    wrap.append(bar, cancel);
  }
  if (job.status === "succeeded" && job.download_url) wrap.append(el("a", { class: "btn btn-primary btn-small", href: job.download_url, download: "" }, `Download (${job.box_count} boxes)`));
  if (job.status === "failed" && job.error) wrap.append(el("div", { class: "form-error", text: job.error }));
  return wrap;
}

export function setUpExports({ projectId, clips }) {
  const dialog = $("#export-dialog");
  const form = $("#export-form");
  const error = $("#export-error");
  let timer = 0;

  async function refresh() {
    clearTimeout(timer);
    const box = $("#export-status");
    try {
      const jobs = (await list(`/api/projects/${projectId}/exports/`)).slice(0, 8);
      box.replaceChildren(...(jobs.length ? jobs.map((j) => jobLine(j, clips(), cancel)) : [el("p", { class: "muted", text: "No exports yet." })]));
      if (jobs.some((j) => ACTIVE.includes(j.status))) timer = setTimeout(refresh, POLL_MS);
    } catch (err) {
      box.replaceChildren(el("p", { class: "form-error", text: err instanceof ApiError && err.status === 403 ? err.message : `Could not load exports: ${err.message}` }));
    }
  }

  async function cancel(job, button) {
    button.disabled = true;
    try {
      await post(`/api/exports/${job.id}/cancel/`);
      toast("Export cancelled.");
    } catch (err) {
      toast(`Could not cancel: ${err.message}`, "error");
    }
    refresh();
  }

  function syncFormat() {
    const format = form.elements.format.value;
    $("#export-images-row").hidden = format === "yolo" || format === "redact";
    $("#export-redact-row").hidden = format !== "redact";
    $("#export-images-note").hidden = format !== "yolo";
    $("#export-min-score").disabled = form.elements.frames.value !== "labeled";
  }
  form.addEventListener("change", syncFormat);

  // The clips and their finished-frame counts are read when the dialog opens, so they are current.
  async function open() {
    let videos = [];
    try {
      videos = await list(`/api/projects/${projectId}/videos/`);
    } catch (err) {
      toast(`Could not load the clips: ${err.message}`, "error");
      return;
    }
    const select = $("#export-video");
    select.replaceChildren(el("option", { value: "", text: "All clips of the project" }), ...videos.filter((v) => v.status === "ready").map((v) => el("option", { value: String(v.id), text: v.name })));
    let classes = [];
    try {
      classes = await list(`/api/projects/${projectId}/classes/`);
    } catch (err) {
      toast(`Could not load the classes: ${err.message}`, "error");
    }
    $("#export-redact-classes").replaceChildren(...classes.map((c) => el("label", { class: "field-inline" }, el("input", { type: "checkbox", name: "redact_class", value: c.name }), ` ${c.name}`)));
    const finished = videos.reduce((sum, v) => sum + (v.counts?.finished_frames ?? 0), 0);
    $("#export-finished-count").textContent = `${finished} finished frame${finished === 1 ? "" : "s"} in the project now`;
    error.textContent = "";
    syncFormat();
    dialog.showModal();
  }

  $("#export-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const frames = form.elements.frames.value;
    const format = form.elements.format.value;
    const body = format === "redact" ? { format, style: $("#export-redact-style").value, classes: [...form.querySelectorAll("input[name=redact_class]:checked")].map((c) => c.value) } : { format, frames, with_images: $("#export-images").checked };
    if ($("#export-video").value) body.video = Number($("#export-video").value);
    if (frames === "labeled") {
      body.include_predictions = true;
      body.min_score = Number($("#export-min-score").value);
    }
    try {
      await post(`/api/projects/${projectId}/exports/`, body);
      dialog.close();
      toast("Export started.", "success");
      refresh();
    } catch (err) {
      error.textContent = err.message;
    }
  });

  return { open, refresh };
}
