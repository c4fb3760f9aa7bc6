// One project: its clips (upload, ingest progress, counts, retry or delete failed ones), members
// and exports. What a member sees follows their role; the API enforces the same rules.

import { del, get, list, post, upload } from "./api.js";
import { setUpExports } from "./export_dialog.js";
import { $, el, etaText, pageIds, setProgress, swatch, toast } from "./dom.js";
import { mountLabelImport } from "./label_import.js";
import { roleAtLeast } from "./roles.js";

const { project_id: projectId } = pageIds();
let pollTimer = 0;
let role = "viewer";
let videos = [];
let uploadedId = null; // the clip this page uploaded, whose ingest the upload bar follows
const can = (minimum) => roleAtLeast(role, minimum);
const exports = setUpExports({ projectId, clips: () => new Map(videos.map((v) => [v.id, v.name])) });

function showError(message) {
  const box = $("#project-error");
  box.textContent = message;
  box.hidden = false;
}

async function loadProject() {
  const project = await get(`/api/projects/${projectId}/`);
  $("#project-title").textContent = project.name;
  $("#crumb-project").textContent = project.name;
  document.title = `${project.name} · Annotate`;
  $("#project-classes").replaceChildren(...project.classes.map((c) => el("span", { class: "chip" }, swatch(c.color), el("span", { text: c.name }))));
  role = project.role || "viewer";
  $("#my-role").textContent = role;
  const manager = can("manager");
  $("#member-form").hidden = !manager;
  $("#upload-card").hidden = !manager;
  $("#export-card").hidden = !manager;
  $("#export-open").hidden = !manager;
  $("#settings-link").hidden = !manager;
  $("#label-import-card").hidden = !can("annotator");
  return project;
}

function clipRow(v) {
  const counts = v.counts || {};
  const busy = v.status === "queued" || v.status === "ingesting";
  const statusCell = el("td", {}, el("span", { class: `badge badge-${v.status}`, text: v.status }));
  if (busy) {
    const bar = el("div", { class: "progress" }, el("div", { class: "progress-bar", role: "progressbar", "aria-label": `Ingest progress of ${v.name}`, "aria-valuemin": "0", "aria-valuemax": "100" }), el("span", { class: "progress-text" }));
    setProgress(bar, v.progress, v.frames_total ? `${v.frames_done}/${v.frames_total} frames${etaText(v.eta_seconds)}` : v.status);
    statusCell.append(bar);
  }
  if (v.status === "failed" && v.error) statusCell.append(el("div", { class: "small", text: v.error }));
  const ready = v.status === "ready";
  const failed = v.status === "failed";
  return el(
    "tr",
    { dataset: { videoId: String(v.id), status: v.status } },
    el("th", { scope: "row", text: v.name }),
    statusCell,
    el("td", { class: "num", text: String(v.frame_count ?? 0) }),
    el("td", { class: "num", text: String(counts.labeled_frames ?? 0) }),
    el("td", { class: "num", text: String(counts.prelabeled_frames ?? 0) }),
    el("td", { class: "num", text: String(counts.boxes ?? 0) }),
    el(
      "td",
      { class: "row" },
      ready && can("annotator") ? el("a", { class: "btn btn-primary", href: `/videos/${v.id}/`, "aria-label": `Label ${v.name}` }, "Label") : null,
      ready && !can("annotator") ? el("a", { class: "btn btn-primary", href: `/videos/${v.id}/`, "aria-label": `View ${v.name}` }, "View") : null,
      ready ? el("a", { class: "btn", href: `/videos/${v.id}/dashboard/`, "aria-label": `Dashboard of ${v.name}` }, "Stats") : null,
      failed && can("manager") ? el("button", { class: "btn", type: "button", "aria-label": `Retry ${v.name}`, onclick: () => retryClip(v) }, "Retry") : null,
      (failed || ready) && can("manager") ? el("button", { class: "btn btn-danger", type: "button", "aria-label": `Delete ${v.name}`, onclick: () => deleteClip(v) }, "Delete") : null,
      busy && can("manager") ? el("button", { class: "btn", type: "button", "aria-label": `Cancel ${v.name}`, onclick: () => deleteClip(v, "Cancel the ingest of") }, "Cancel") : null,
    ),
  );
}

async function retryClip(v) {
  try {
    await post(`/api/videos/${v.id}/retry/`);
    toast(`Retrying ${v.name}.`);
  } catch (error) {
    toast(error.message, "error", 8000);
  }
  loadClips();
}

// Cancelling an ingest removes the clip: a half-decoded clip is of no use, and the worker's fenced
// writes find no row to apply to.
async function deleteClip(v, verb = "Delete") {
  const boxes = v.counts?.boxes ?? 0;
  if (!window.confirm(`${verb} ${v.name}${boxes ? ` and its ${boxes} boxes` : ""}? The clip is removed; this cannot be undone.`)) return;
  try {
    await del(`/api/videos/${v.id}/`);
    toast(`${v.name} deleted.`, "success");
  } catch (error) {
    toast(`Could not delete: ${error.message}`, "error");
  }
  loadClips();
}

// The upload bar follows the clip it uploaded until its ingest ends, then says how it ended.
function followUpload() {
  if (uploadedId === null) return;
  const v = videos.find((x) => x.id === uploadedId);
  const progress = $("#upload-progress");
  if (!v) {
    progress.hidden = true; // cancelled (deleted) while it waited
    uploadedId = null;
    return;
  }
  if (v.status === "ready") {
    setProgress(progress, 1, `Ready: ${v.frame_count} frames`);
    uploadedId = null;
  } else if (v.status === "failed") {
    progress.hidden = true;
    $("#upload-error").textContent = `${v.name} failed: ${v.error}`;
    uploadedId = null;
  } else {
    setProgress(progress, v.progress ?? 0, v.frames_total ? `Decoding frames ${v.frames_done}/${v.frames_total}${etaText(v.eta_seconds)}` : "Uploaded; queued for decoding…");
  }
}

async function loadClips() {
  clearTimeout(pollTimer);
  const tbody = $("#clip-rows");
  try {
    videos = await list(`/api/projects/${projectId}/videos/`);
    followUpload();
    tbody.replaceChildren(...videos.map(clipRow));
    if (!videos.length) tbody.append(el("tr", {}, el("td", { colspan: "7", class: "muted", text: "No clips yet. Upload one to start." })));
    if (videos.some((v) => v.status === "queued" || v.status === "ingesting")) pollTimer = setTimeout(loadClips, 1000);
  } catch (error) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: "7", text: `Could not load clips: ${error.message}` })));
  }
}

async function loadMembers() {
  const ul = $("#member-list");
  try {
    const members = await list(`/api/projects/${projectId}/members/`);
    ul.replaceChildren(...members.map((m) => el("li", {}, el("span", { text: m.username ?? m.user?.username }), el("span", { class: "badge", text: m.role }))));
  } catch (error) {
    ul.replaceChildren(el("li", { class: "muted", text: `Could not load members: ${error.message}` }));
  }
}

$("#member-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("#member-error");
  error.textContent = "";
  try {
    await post(`/api/projects/${projectId}/members/`, { username: $("#member-username").value, role: $("#member-role").value });
    $("#member-username").value = "";
    toast("Member added.", "success");
    loadMembers();
  } catch (err) {
    error.textContent = err.message;
  }
});

$("#upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("#upload-file").files[0];
  const error = $("#upload-error");
  error.textContent = "";
  if (!file) {
    error.textContent = "Choose a video file.";
    return;
  }
  const data = new FormData();
  data.append("file", file);
  if ($("#upload-name").value.trim()) data.append("name", $("#upload-name").value);
  const progress = $("#upload-progress");
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  setProgress(progress, 0, "Uploading 0%");
  try {
    const created = await upload(`/api/projects/${projectId}/videos/`, data, (f) => setProgress(progress, f, `Uploading ${Math.round(f * 100)}%`));
    uploadedId = created?.id ?? null;
    setProgress(progress, 0, "Uploaded; queued for decoding…");
    event.target.reset();
    loadClips();
  } catch (err) {
    progress.hidden = true;
    error.textContent = `Upload failed: ${err.message}`;
  } finally {
    button.disabled = false;
  }
});

$("#export-open").addEventListener("click", () => exports.open());

loadProject()
  .then(() => Promise.all([loadClips(), loadMembers(), can("manager") ? exports.refresh() : null, can("annotator") ? mountLabelImport($("#label-import"), projectId, { canAddClasses: can("manager") }) : null]))
  .catch((error) => showError(error.status === 404 ? "This project does not exist or you are not a member." : `Could not load the project: ${error.message}`));
