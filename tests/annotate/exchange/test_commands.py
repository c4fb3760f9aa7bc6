"""The export and import_labels commands: one JSON object as the last line, clear errors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotate.models import Box

pytestmark = pytest.mark.django_db


def _run(*args: str) -> dict:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_export_then_import_labels_through_the_commands(project, make_video, tmp_path):
    video, _ = make_video(project, frames=3)
    fresh, _ = make_video(project, frames=3, labeled=False)
    target = tmp_path / "out" / "dataset"

    exported = _run(
        "export", str(project.id), "--format", "yolo", "--out", str(target), "--video", str(video.id)
    )
    assert exported == {"path": str(target), "format": "yolo", "images": 3, "boxes": 6}
    assert (target / "data.yaml").is_file()

    imported = _run("import_labels", str(fresh.id), str(target), "--format", "yolo", "--as-predictions")
    assert imported["boxes"] == 6 and imported["frames"] == 3 and imported["tracks"] == 0
    assert Box.objects.filter(frame__video=fresh, source="model", review_state="pending").count() == 6


def test_coco_export_with_images_to_a_zip(project, make_video, tmp_path):
    make_video(project, frames=2)
    result = _run(
        "export", str(project.id), "--format", "coco", "--out", str(tmp_path / "c.zip"), "--with-images"
    )
    assert result["images"] == 2 and result["boxes"] == 4


def test_import_errors_list_every_problem_and_fail(project, make_video, tmp_path):
    video, _ = make_video(project, frames=1, labeled=False)
    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,1,1,0,5,1,1,1\n3,2,1,1,5,5,1,2,1\n")
    (tmp_path / "labels.txt").write_text("square\ndisc\n")
    with pytest.raises(CommandError) as caught:
        call_command("import_labels", str(video.id), str(gt), "--format", "mot", stdout=io.StringIO())
    lines = str(caught.value).splitlines()
    assert lines[0] == "Nothing was imported: 2 problems found."
    assert "has no area" in lines[1] and "frame 2 matches no frame" in lines[2]
    with pytest.raises(CommandError, match="No project with id 999999"):
        call_command("export", "999999", "--format", "coco", "--out", str(tmp_path / "x.json"))
