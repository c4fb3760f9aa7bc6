// Project settings for managers: name and training (auto-train, threshold, budget, base weights or
// from scratch), label classes (rename, recolour, reorder, delete with the count of boxes it takes),
// members and roles. Every change goes through the API, which refuses what the caller's role may not do.

import { del, get, list, patch, post } from "./api.js";
import { $, el, pageIds, toast } from "./dom.js";
import { roleAtLeast } from "./roles.js";

const { project_id: projectId } = pageIds();
const ROLES = ["viewer", "annotator", "manager", "owner"];
let project = null;
let manages = false; // the caller may change settings; else the page shows them read only

function fail(message) {
  const box = $("#settings-error");
  box.textContent = message;
  box.hidden = false;
}

function fact(term, value) {
  return [el("dt", { text: term }), el("dd", { text: value })];
}

function renderProject() {
  $("#settings-title").textContent = `Settings: ${project.name}`;
  $("#crumb-project").textContent = project.name;
  document.title = `Settings · ${project.name} · Annotate`;
  $("#project-name").value = project.name;
  $("#auto-train").checked = project.auto_train;
  $("#auto-train-after").value = String(project.auto_train_after_frames);
  $("#train-budget").value = project.train_time_budget ?? "";
  $("#from-scratch").checked = project.train_from_scratch;
  $("#base-weights").value = project.base_weights;
  const info = project.base_weights_info || {};
  $("#weights-facts").replaceChildren(
    ...fact("Weights file", info.path || "none"),
    ...fact("Present", info.exists ? "yes" : "no"),
    ...fact("Pinned sha256", info.sha256 || "not pinned"),
    ...fact("First generation starts", info.first_generation_starts || "–"),
  );
  $("#weights-available").replaceChildren(...(info.available || []).map((w) => el("option", { value: w.path, label: `${w.name}${w.sha256 ? ` · ${w.sha256.slice(0, 12)}…` : ""}` })));
  $("#budget-default").textContent = info.train_time_budget_default ? `${info.train_time_budget_default} s` : "";
}

async function loadProject() {
  project = await get(`/api/projects/${projectId}/`);
  renderProject();
  manages = roleAtLeast(project.role, "manager");
  if (!manages) {
    fail(`Your role is ${project.role}: only managers and owners change settings. This page is read only.`);
    for (const control of document.querySelectorAll("#training-form input, #training-form button")) control.disabled = true;
    for (const form of ["#class-form", "#member-form"]) $(form).hidden = true;
    $("#training-form button[type=submit]").hidden = true;
  }
}

$("#training-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("#training-error");
  error.textContent = "";
  const budget = $("#train-budget").value.trim();
  const body = {
    name: $("#project-name").value,
    auto_train: $("#auto-train").checked,
    auto_train_after_frames: Number($("#auto-train-after").value),
    train_time_budget: budget === "" ? null : Number(budget),
    train_from_scratch: $("#from-scratch").checked,
    base_weights: $("#base-weights").value.trim(),
  };
  try {
    project = await patch(`/api/projects/${projectId}/`, body);
    renderProject();
    toast("Settings saved.", "success");
  } catch (err) {
    error.textContent = err.message;
  }
});

// -- classes ----------------------------------------------------------------------------------------

async function loadClasses() {
  const classes = await list(`/api/projects/${projectId}/classes/`);
  const ol = $("#class-list");
  ol.replaceChildren(...classes.map((c, i) => classRow(c, i, classes)));
}

function classRow(c, i, classes) {
  const name = el("input", { value: c.name, maxlength: "100", "aria-label": `Name of class ${c.name}`, disabled: !manages });
  const color = el("input", { type: "color", value: c.color, "aria-label": `Colour of class ${c.name}`, disabled: !manages });
  const save = async (changes) => {
    try {
      await patch(`/api/projects/${projectId}/classes/${c.id}/`, changes);
      toast("Class saved.", "success");
      await loadClasses();
    } catch (err) {
      $("#class-error").textContent = err.message;
    }
  };
  name.addEventListener("change", () => save({ name: name.value }));
  color.addEventListener("change", () => save({ color: color.value }));
  const move = (delta) => async () => {
    const ids = classes.map((x) => x.id);
    const [moved] = ids.splice(i, 1);
    ids.splice(i + delta, 0, moved);
    try {
      await post(`/api/projects/${projectId}/classes/order/`, { classes: ids });
      await loadClasses();
    } catch (err) {
      $("#class-error").textContent = err.message;
    }
  };
  const remove = async () => {
    const what = c.box_count ? ` and its ${c.box_count} box${c.box_count === 1 ? "" : "es"}` : "";
    if (!window.confirm(`Delete class ${c.name}${what}? This cannot be undone.`)) return;
    try {
      await del(`/api/projects/${projectId}/classes/${c.id}/?delete_boxes=${c.box_count ? "true" : "false"}`);
      toast(`Class ${c.name} deleted${what}.`, "success");
      await loadClasses();
    } catch (err) {
      $("#class-error").textContent = err.message;
    }
  };
  return el(
    "li",
    { class: "settings-row", dataset: { classId: String(c.id) } },
    el("span", { class: "muted index", text: String(c.index) }),
    color,
    name,
    el("span", { class: "muted small count", text: `${c.box_count} box${c.box_count === 1 ? "" : "es"}` }),
    manages && el("button", { class: "btn btn-icon", type: "button", disabled: i === 0, "aria-label": `Move ${c.name} up`, onclick: move(-1) }, "↑"),
    manages && el("button", { class: "btn btn-icon", type: "button", disabled: i === classes.length - 1, "aria-label": `Move ${c.name} down`, onclick: move(1) }, "↓"),
    manages && el("button", { class: "btn btn-danger", type: "button", "aria-label": `Delete class ${c.name}`, onclick: remove }, "Delete"),
  );
}

$("#class-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#class-error").textContent = "";
  try {
    await post(`/api/projects/${projectId}/classes/`, { name: $("#class-name").value, color: $("#class-color").value });
    $("#class-name").value = "";
    await loadClasses();
  } catch (err) {
    $("#class-error").textContent = err.message;
  }
});

// -- members ----------------------------------------------------------------------------------------

async function loadMembers() {
  const members = await list(`/api/projects/${projectId}/members/`);
  $("#member-list").replaceChildren(...members.map(memberRow));
}

function memberRow(m) {
  const select = el("select", { "aria-label": `Role of ${m.username}`, disabled: !manages }, ROLES.map((r) => el("option", { value: r, text: r, selected: r === m.role })));
  select.addEventListener("change", async () => {
    $("#member-error").textContent = "";
    try {
      await patch(`/api/projects/${projectId}/members/${m.id}/`, { role: select.value });
      toast(`${m.username} is now ${select.value}.`, "success");
    } catch (err) {
      $("#member-error").textContent = err.message;
    }
    await loadMembers();
  });
  const remove = async () => {
    if (!window.confirm(`Remove ${m.username} from the project?`)) return;
    try {
      await del(`/api/projects/${projectId}/members/${m.id}/`);
    } catch (err) {
      $("#member-error").textContent = err.message;
    }
    await loadMembers();
  };
  return el("li", { class: "settings-row", dataset: { memberId: String(m.id) } }, el("span", { class: "grow", text: m.username }), select, manages && el("button", { class: "btn btn-danger", type: "button", "aria-label": `Remove ${m.username}`, onclick: remove }, "Remove"));
}

$("#member-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#member-error").textContent = "";
  try {
    await post(`/api/projects/${projectId}/members/`, { username: $("#member-username").value, role: $("#member-role").value });
    $("#member-username").value = "";
    await loadMembers();
  } catch (err) {
    $("#member-error").textContent = err.message;
  }
});

loadProject()
  .then(() => Promise.all([loadClasses(), loadMembers()]))
  .then(() => {
    document.body.dataset.settingsReady = "1";
  })
  .catch((error) => fail(error.status === 404 ? "This project does not exist or you are not a member." : `Could not load the settings: ${error.message}`));
