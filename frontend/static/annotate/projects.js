// Project list and the "new project" form.

import { list, post } from "./api.js";
import { $, el, swatch } from "./dom.js";
import { PALETTE } from "./palette.js";

const rows = $("#class-rows");

function addClassRow(name = "", color = PALETTE[rows.children.length % PALETTE.length]) {
  const n = rows.children.length + 1;
  const row = el(
    "div",
    { class: "class-row" },
    el("input", { type: "text", name: "class-name", value: name, "aria-label": `Class ${n} name`, placeholder: `Class ${n}`, maxlength: "100" }),
    el("input", { type: "color", name: "class-color", value: color, "aria-label": `Class ${n} colour` }),
    el("button", { type: "button", class: "btn btn-icon btn-quiet", "aria-label": `Remove class ${n}`, title: "Remove", onclick: () => row.remove() }, "×"),
  );
  rows.append(row);
  return row;
}

async function loadProjects() {
  const box = $("#project-list");
  try {
    const projects = await list("/api/projects/");
    box.replaceChildren();
    if (!projects.length) box.append(el("p", { class: "muted", text: "No projects yet. Create one to start labeling." }));
    for (const p of projects) {
      box.append(
        el(
          "a",
          { class: "project-card", href: `/projects/${p.id}/`, dataset: { projectId: String(p.id) } },
          el("h3", { text: p.name }),
          el("div", { class: "chips" }, p.classes.map((c) => el("span", { class: "chip" }, swatch(c.color), el("span", { text: c.name })))),
          el("p", { class: "muted small", text: p.role ? `You are ${p.role}` : "" }),
        ),
      );
    }
  } catch (error) {
    box.replaceChildren(el("p", { class: "alert alert-error", text: `Could not load projects: ${error.message}` }));
  }
  box.setAttribute("aria-busy", "false");
}

$("#add-class").addEventListener("click", () => addClassRow().querySelector("input").focus());
$("#project-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("#project-form-error");
  error.textContent = "";
  const name = $("#project-name").value;
  const classes = [...rows.children]
    .map((row) => ({ name: row.querySelector('[name="class-name"]').value, color: row.querySelector('[name="class-color"]').value }))
    .filter((c) => c.name.trim());
  if (!name.trim()) {
    error.textContent = "Give the project a name.";
    return;
  }
  if (!classes.length) {
    error.textContent = "Add at least one label class.";
    return;
  }
  try {
    const project = await post("/api/projects/", { name, classes });
    window.location.href = `/projects/${project.id}/`;
  } catch (err) {
    error.textContent = err.message;
  }
});

addClassRow();
addClassRow();
loadProjects();
