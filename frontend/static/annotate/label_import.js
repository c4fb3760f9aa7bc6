// Label import on the project page: pick a ready clip and a file, preview how many boxes land on how
// many frames (a dry-run import job), then import. Every per-item problem of a refused file is listed.
// Self-contained: it mounts on #label-import and talks to the import API only.

import { ApiError, get, list, upload } from "./api.js";
import { $, el, pageIds } from "./dom.js";

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

function build(root) {
  const form = el(
    "form",
    { id: "label-import-form" },
    field("Clip", el("select", { id: "import-video", required: "" })),
    field("Label file", el("input", { type: "file", id: "import-file", required: "" })),
    field("Format", select("import-format", FORMATS)),
    field("Existing boxes", select("import-mode", [["append", "Keep them, add the file's"], ["replace", "Replace them on the frames the file names"]])),
    field("Frame numbers in file names", select("import-first-frame", [["", "Detect (refuse if ambiguous)"], ["0", "Start at 0 (CVAT, Datumaro)"], ["1", "Start at 1 (ffmpeg, Label Studio)"]])),
    el("label", { class: "check" }, el("input", { type: "checkbox", id: "import-predictions" }), el("span", { text: " As predictions to review" })),
    el("label", { class: "check" }, el("input", { type: "checkbox", id: "import-create-classes" }), el("span", { text: " Add classes the project lacks" })),
    el("div", { class: "row" }, el("button", { class: "btn", type: "submit", id: "import-preview", text: "Preview" }), el("button", { class: "btn btn-primary", type: "button", id: "import-run", text: "Import", disabled: "" })),
  );
  const status = el("div", { id: "import-status", "aria-live": "polite" });
  const problems = el("ul", { id: "import-problems", class: "plain-list problems", hidden: "" });
  root.append(form, status, problems);
  return { form, status, problems };
}

async function follow(job, onProgress) {
  while (job.status === "queued" || job.status === "running") {
    onProgress(job);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = await get(`/api/imports/${job.id}/`);
  }
  return job;
}

export async function mountLabelImport(root, projectId) {
  const { form, status, problems } = build(root);
  const runButton = $("#import-run");
  const videos = (await list(`/api/projects/${projectId}/videos/`)).filter((v) => v.status === "ready");
  $("#import-video").replaceChildren(...videos.map((v) => el("option", { value: String(v.id), text: v.name })));
  if (!videos.length) status.textContent = "No ready clip yet: labels are imported into a clip.";

  const start = async (dryRun) => {
    const file = $("#import-file").files[0];
    if (!file || !$("#import-video").value) return;
    const data = new FormData();
    data.append("file", file);
    data.append("format", $("#import-format").value);
    data.append("mode", $("#import-mode").value);
    if ($("#import-first-frame").value !== "") data.append("first_frame", $("#import-first-frame").value);
    data.append("as_predictions", $("#import-predictions").checked ? "true" : "false");
    data.append("create_classes", $("#import-create-classes").checked ? "true" : "false");
    data.append("dry_run", dryRun ? "true" : "false");
    problems.hidden = true;
    problems.replaceChildren();
    runButton.disabled = true;
    status.textContent = "Uploading…";
    try {
      let job = await upload(`/api/videos/${$("#import-video").value}/imports/`, data, (f) => {
        status.textContent = `Uploading ${Math.round(f * 100)}%`;
      });
      job = await follow(job, (j) => {
        status.textContent = j.items_total ? `Importing ${j.items_done} of ${j.items_total} boxes…` : "Reading the file…";
      });
      if (job.status === "succeeded") {
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
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    start(true);
  });
  form.addEventListener("change", () => {
    runButton.disabled = true; // a new choice needs a new preview
  });
  runButton.addEventListener("click", () => start(false));
}

const root = document.getElementById("label-import");
if (root) mountLabelImport(root, pageIds().project_id);
