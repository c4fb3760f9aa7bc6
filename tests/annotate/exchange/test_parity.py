"""Every export leaves exactly the boxes the database holds for the same filter."""

from __future__ import annotations

import json
import zipfile

import pytest

from annotate.models import ExportFormat, Frame, LabelClass, ReviewState
from annotate.selectors.exports import export_boxes
from annotate.services.exports import export_options_clean, export_write
from tests.annotate.exchange.conftest import add_prediction

pytestmark = pytest.mark.django_db


def _boxes_in(path, format: str) -> int:
    if format == "coco":
        return len(json.loads(path.read_text())["annotations"])
    with zipfile.ZipFile(path) as archive:
        if format == "yolo":
            names = [n for n in archive.namelist() if n.startswith("labels/")]
            return sum(len(archive.read(n).splitlines()) for n in names)
        if format == "cvat":  # each track ends with an outside box, which is no box
            names = [n for n in archive.namelist() if n.endswith("annotations.xml")]
            return sum(archive.read(n).count(b'outside="0"') for n in names)
        if format == "cvat_images":
            return archive.read("annotations.xml").count(b"<box ")
        if format == "voc":
            names = [n for n in archive.namelist() if n.startswith("Annotations/")]
            return sum(archive.read(n).count(b"<object>") for n in names)
        names = [n for n in archive.namelist() if n.endswith("gt.txt")]
        return sum(len(archive.read(n).splitlines()) for n in names)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"frames": "all"}, 12 + 2),  # human boxes + accepted and edited predictions
        ({"frames": "all", "include_predictions": True}, 12 + 2 + 3),
        ({"frames": "all", "include_predictions": True, "min_score": 0.5}, 12 + 2 + 1),
        ({}, 2 + 2 + 2),  # the default: finished frames only (frame 1 of each clip)
        ({"reviewed_only": True}, 2 + 2 + 2),  # the older spelling of the default
        ({"frames": "labeled", "include_predictions": True, "min_score": 0.5}, 12 + 2 + 1),
        ({"frames": "all", "video": "first"}, 6 + 2),
    ],
)
def test_export_box_count_equals_the_database_count(project, make_video, tmp_path, options, expected):
    first, _ = make_video(project, frames=3, seed=1)
    second, _ = make_video(project, frames=3, seed=2)
    square = LabelClass.objects.get(project=project, name="square")
    frame = Frame.objects.get(video=first, index=1)
    add_prediction(frame, square, score=0.9, state=ReviewState.ACCEPTED)
    add_prediction(frame, square, score=0.2, state=ReviewState.EDITED)
    add_prediction(frame, square, score=0.8)
    add_prediction(frame, square, score=0.3)
    add_prediction(Frame.objects.get(video=second, index=2), square, score=0.1)
    Frame.objects.exclude(index=1).update(reviewed_at=None)
    if options.get("video") == "first":
        options = dict(options, video=first.id)

    flt = export_options_clean(project=project, format="coco", options=options).filter
    database = export_boxes(project_id=project.id, flt=flt).count()
    assert database == expected
    for format in LABEL_FORMATS:
        target = tmp_path / (f"{format}.json" if format == "coco" else f"{format}.zip")
        result = export_write(
            project=project,
            format=format,
            options=export_options_clean(project=project, format=format, options=options),
            target=target,
        )
        assert result.boxes == database == _boxes_in(target, format), format


# The label formats; the redacted video (``redact``) is pictures, not boxes (see test_redact.py).
LABEL_FORMATS = [f for f in ExportFormat.values if f != ExportFormat.REDACT]


def test_formats_are_the_exchange_formats():
    assert set(LABEL_FORMATS) == {"coco", "yolo", "mot", "cvat", "cvat_images", "voc"}
    assert set(ExportFormat.values) - set(LABEL_FORMATS) == {"redact"}
