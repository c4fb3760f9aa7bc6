"""A project's base weights: only .pt files inside the weights folders (the worker unpickles them)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def weights_root(settings, tmp_path: Path) -> Path:
    root = tmp_path / "weights"
    root.mkdir()
    settings.ANNOTATE_WEIGHTS_ROOTS = [root.resolve()]
    return root.resolve()


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/model.pt", "../../outside.pt", "weights.txt"])
def test_base_weights_outside_the_weights_folders_are_refused(api_client, project, weights_root, path):
    response = api_client.patch(f"/api/projects/{project.id}/", {"base_weights": path}, format="json")

    assert response.status_code == 400
    assert "ANNOTATE_WEIGHTS_ROOTS" in str(response.json())
    project.refresh_from_db()
    assert project.base_weights == ""


def test_a_bare_file_name_is_looked_up_in_the_weights_folder(api_client, project, weights_root):
    response = api_client.patch(f"/api/projects/{project.id}/", {"base_weights": "yolo11s.pt"}, format="json")

    assert response.status_code == 200
    project.refresh_from_db()
    assert project.base_weights == str(weights_root / "yolo11s.pt")


def test_creating_a_project_checks_its_base_weights_too(api_client, weights_root):
    body = {"name": "P", "classes": [{"name": "car", "color": "#ff0000"}], "base_weights": "/root/x.pt"}

    response = api_client.post("/api/projects/", body, format="json")

    assert response.status_code == 400
