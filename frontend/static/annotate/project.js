// One project: its clips (upload, ingest progress, counts), members and exports.

import { ApiError, get, list, post, upload } from "./api.js";
import { $, el, pageIds, setProgress, swatch, toast } from "./dom.js";

const { project_id: projectId } = pageIds();
let pollTimer = 0;

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
  const manager = project.role === "manager";
  $("#member-form").hidden = !manager;
  return project;
}

function clipRow(v) {
  const counts = v.counts || {};
  const busy = v.status === "queued" || v.status === "ingesting";
  const statusCell = el("td", {}, el("span", { class: `badge badge-${v.status}`, text: v.status }));
  if (busy) {
    const bar = el("div", { class: "progress" }, el("div", { class: "progress-bar", role: "progressbar", "aria-label": `Ingest progress of ${v.name}`, "aria-valuemin": "0", "aria-valuemax": "100" }), el("span", { class: "progress-text" }));
    setProgress(bar, v.progress, v.frames_total ? `${v.frames_done}/${v.frames_total} frames` : v.status);
    statusCell.append(bar);
  }
  if (v.status === "failed" && v.error) statusCell.append(el("div", { class: "small", text: v.error }));
  const ready = v.status === "ready";
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
      ready ? el("a", { class: "btn btn-primary", href: `/videos/${v.id}/`, "aria-label": `Label ${v.name}` }, "Label") : null,
      ready ? el("a", { class: "btn", href: `/videos/${v.id}/dashboard/`, "aria-label": `Dashboard of ${v.name}` }, "Stats") : null,
    ),
  );
}

async function loadClips() {
  clearTimeout(pollTimer);
  const tbody = $("#clip-rows");
  try {
    const videos = await list(`/api/projects/${projectId}/videos/`);
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
    await upload(`/api/projects/${projectId}/videos/`, data, (f) => setProgress(progress, f, `Uploading ${Math.round(f * 100)}%`));
    setProgress(progress, 1, "Uploaded; decoding frames…");
    event.target.reset();
    loadClips();
  } catch (err) {
    progress.hidden = true;
    error.textContent = `Upload failed: ${err.message}`;
  } finally {
    button.disabled = false;
  }
});

// -- exports ----------------------------------------------------------------------------------------

function exportLine(job) {
  const wrap = el("div", { class: "export-job", dataset: { exportId: String(job.id), status: job.status } });
  const label = el("span", { text: `${(job.format || "").toUpperCase()} export: ${job.status}` });
  wrap.append(label);
  if (job.status === "queued" || job.status === "running") {
    const bar = el("div", { class: "progress" }, el("div", { class: "progress-bar", role: "progressbar", "aria-label": "Export progress", "aria-valuemin": "0", "aria-valuemax": "100" }), el("span", { class: "progress-text" }));
    setProgress(bar, job.items_total ? job.items_done / job.items_total : 0, job.items_total ? `${job.items_done}/${job.items_total}` : job.status);
    wrap.append(bar);
  }
  if (job.status === "succeeded" && job.download_url) wrap.append(" ", el("a", { class: "btn btn-primary", href: job.download_url, download: "" }, "Download"));
  if (job.status === "failed" && job.error) wrap.append(el("div", { class: "form-error", text: job.error }));
  return wrap;
}

async function followExport(job) {
  const box = $("#export-status");
  let current = job;
  for (;;) {
    box.replaceChildren(exportLine(current));
    if (!["queued", "running"].includes(current.status)) return;
    await new Promise((r) => setTimeout(r, 1000));
    current = await get(`/api/exports/${current.id}/`);
  }
}

for (const button of document.querySelectorAll("[data-export]")) {
  button.addEventListener("click", async () => {
    const box = $("#export-status");
    try {
      const job = await post(`/api/projects/${projectId}/exports/`, { format: button.dataset.export });
      await followExport(job);
    } catch (error) {
      const text = error instanceof ApiError && error.missing ? "Exports are not available on this server yet." : `Export failed: ${error.message}`;
      box.replaceChildren(el("p", { class: "form-error", text }));
    }
  });
}

loadProject()
  .then(() => Promise.all([loadClips(), loadMembers()]))
  .catch((error) => showError(error.status === 404 ? "This project does not exist or you are not a member." : `Could not load the project: ${error.message}`));
