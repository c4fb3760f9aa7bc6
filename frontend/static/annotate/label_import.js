// Label import on the project page: pick a ready clip and a file, preview how many boxes land on how
// many frames (a dry-run import job), then import. Every per-item problem of a refused file is listed.
// While the job runs it shows its progress with the time left and a Cancel button (nothing is written
// by a cancelled import). Self-contained: it mounts on #label-import and talks to the import API only.

import { ApiError, get, list, post, upload } from "./api.js";
import { $, el, etaText, setProgress } from "./dom.js";

const FORMATS = [
  ["coco", "COCO JSON (or zip)"],
  ["yolo", "YOLO zip (Ultralytics, Darknet, Label Studio)"],
  ["mot", "MOT gt.txt (or zip with labels.txt)"],
  ["cvat", "CVAT XML (video or images)"],
  ["label_studio", "Label Studio JSON"],
  ["voc", "Pascal VOC zip"],
];
const POLL_MS = 500;

function field(label, control) {
  return el("label", { class: "field" }, el("span", { text: label }), control);
}

function select(id, options) {
  return el("select", { id }, ...options.map(([value, text]) => el("option", { value, text })));
}

function summary(result) {
  const parts = [`${result.boxes} boxes on ${result.frames} frames`, `${result.tracks} tracks`];
  if (result.replaced_boxes) parts.push(`${result.replaced_boxes} boxes replaced`);
  if (result.clipped_boxes) parts.push(`${result.clipped_boxes} clipped to the picture`);
  if (result.dropped_boxes) parts.push(`${result.dropped_boxes} outside the picture dropped`);
  if (result.rescaled_boxes) parts.push(`${result.rescaled_boxes} rescaled`);
  if (result.skipped_frames) parts.push(`${result.skipped_frames} frames skipped (people labeled them)`);
  if (result.classes_created.length) parts.push(`new classes: ${result.classes_created.join(", ")}`);
  return parts.join(" · ");
}

function build(root, { canAddClasses }) {
  const form = el(
    "form",
    { id: "label-import-form" },
    field("Clip", el("select", { id: "import-video", required: "" })),
    field("Label file", el("input", { type: "file", id: "import-file", required: "" })),
    field("Format", select("import-format", FORMATS)),
    field("Existing boxes", select("import-mode", [["append", "Keep them, add the file's"], ["replace", "Replace them on the frames the file names"]])),
    field("Frame numbers in file names", select("import-first-frame", [["", "Detect (refuse if ambiguous)"], ["0", "Start at 0 (CVAT, Datumaro)"], ["1", "Start at 1 (ffmpeg, Label Studio)"]])),
    el("label", { class: "check" }, el("input", { type: "checkbox", id: "import-predictions" }), el("span", { text: " As predictions to review" })),
    // Adding classes changes the project: a manager's call (the API refuses it to annotators).
    canAddClasses ? el("label", { class: "check" }, el("input", { type: "checkbox", id: "import-create-classes" }), el("span", { text: " Add classes the project lacks" })) : null,
    el("div", { class: "row" }, el("button", { class: "btn", type: "submit", id: "import-preview", text: "Preview", disabled: "" }), el("button", { class: "btn btn-primary", type: "button", id: "import-run", text: "Import", disabled: "" })),
  );
  const status = el("div", { id: "import-status", "aria-live": "polite" });
  const progress = el("div", { class: "progress", id: "import-progress", hidden: "" }, el("div", { class: "progress-bar", role: "progressbar", "aria-label": "Import progress", "aria-valuemin": "0", "aria-valuemax": "100" }), el("span", { class: "progress-text" }));
  const cancel = el("button", { class: "btn", type: "button", id: "import-cancel", hidden: "" }, "Cancel import");
  const problems = el("ul", { id: "import-problems", class: "plain-list problems", hidden: "" });
  root.append(form, el("div", { class: "row" }, progress, cancel), status, problems);
  return { form, status, progress, cancel, problems };
}

function showProgress(bar, job) {
  if (job.status === "queued") setProgress(bar, 0, "Queued: waiting for a worker…");
  else if (!job.items_total) setProgress(bar, 0, "Reading the file…");
  else setProgress(bar, job.items_done / job.items_total, `${job.items_done}/${job.items_total} boxes${etaText(job.eta_seconds)}`);
}

async function follow(job, onProgress) {
  while (job.status === "queued" || job.status === "running") {
    onProgress(job);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = await get(`/api/imports/${job.id}/`);
  }
  return job;
}

export async function mountLabelImport(root, projectId, { canAddClasses = false } = {}) {
  const { form, status, progress, cancel, problems } = build(root, { canAddClasses });
  let running = null; // the job being followed, which Cancel stops
  const runButton = $("#import-run");

  const start = async (dryRun) => {
    const file = $("#import-file").files[0];
    if (!file || !$("#import-video").value) return;
    const data = new FormData();
    data.append("file", file);
    data.append("format", $("#import-format").value);
    data.append("mode", $("#import-mode").value);
    if ($("#import-first-frame").value !== "") data.append("first_frame", $("#import-first-frame").value);
    data.append("as_predictions", $("#import-predictions").checked ? "true" : "false");
    data.append("create_classes", $("#import-create-classes")?.checked ? "true" : "false");
    data.append("dry_run", dryRun ? "true" : "false");
    problems.hidden = true;
    problems.replaceChildren();
    runButton.disabled = true;
    $("#import-preview").disabled = true; // one job at a time: the status below follows it
    status.textContent = "Uploading…";
    try {
      let job = await upload(`/api/videos/${$("#import-video").value}/imports/`, data, (f) => {
        status.textContent = `Uploading ${Math.round(f * 100)}%`;
      });
      running = job;
      cancel.hidden = false;
      cancel.disabled = false;
      status.textContent = dryRun ? "Counting what the file would write…" : "Importing…";
      job = await follow(job, (j) => showProgress(progress, j));
      if (job.status === "cancelled") {
        status.textContent = `The ${dryRun ? "preview" : "import"} was cancelled; nothing was written.`;
      } else if (job.status === "succeeded") {
        status.textContent = `${dryRun ? "Preview — nothing written yet" : "Imported"}: ${summary(job.result)}`;
        const notes = job.result.notes || [];
        if (notes.length) problems.replaceChildren(...notes.map((n) => el("li", { class: "muted", text: n })));
        problems.hidden = !notes.length;
        runButton.disabled = !dryRun;
      } else {
        status.textContent = job.error || `The import ${job.status}.`;
        problems.replaceChildren(...(job.problems || []).map((p) => el("li", { text: p })));
        problems.hidden = !(job.problems || []).length;
      }
    } catch (error) {
      status.textContent = error instanceof ApiError ? error.message : String(error);
    } finally {
      running = null;
      $("#import-preview").disabled = !$("#import-video").value;
      progress.hidden = true;
      cancel.hidden = true;
    }
  };
  cancel.addEventListener("click", async () => {
    if (!running) return;
    cancel.disabled = true;
    try {
      await post(`/api/imports/${running.id}/cancel/`);
      status.textContent = "Cancelling…";
    } catch (error) {
      // It ended meanwhile (409): the next poll shows how.
      status.textContent = `Could not cancel: ${error.message}`;
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    start(true);
  });
  form.addEventListener("change", () => {
    runButton.disabled = true; // a new choice needs a new preview
  });
  runButton.addEventListener("click", () => start(false));

  // The handlers are in place before the clips arrive: a quick Preview never submits the bare form.
  const videos = (await list(`/api/projects/${projectId}/videos/`)).filter((v) => v.status === "ready");
  $("#import-video").replaceChildren(...videos.map((v) => el("option", { value: String(v.id), text: v.name })));
  if (!videos.length) status.textContent = "No ready clip yet: labels are imported into a clip.";
  $("#import-preview").disabled = !videos.length;
}
