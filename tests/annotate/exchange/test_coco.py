"""COCO exports read by pycocotools, and COCO round trips."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from annotate.models import Box, ExportFormat, Frame, LabelClass, ReviewState
from annotate.services.exports import ExportOptions, export_write
from annotate.services.imports import labels_import
from tests.annotate.exchange.conftest import add_prediction, box_summary
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def _export(project, tmp_path: Path, name: str = "out.json", **options) -> Path:
    target = tmp_path / "exports" / name
    export_write(project=project, format=ExportFormat.COCO, options=ExportOptions(**options), target=target)
    return target


def _quiet(call, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return call(*args)


def test_pycocotools_loads_the_export_and_human_boxes_score_ap_1_against_themselves(
    project, make_video, tmp_path
):
    video, truth = make_video(project, frames=5)
    square = LabelClass.objects.get(project=project, name="square")
    add_prediction(Frame.objects.get(video=video, index=1), square, score=0.9)

    target = _export(project, tmp_path, include_predictions=True)
    gt = _quiet(COCO, str(target))

    document = json.loads(target.read_text())
    human = [a for a in document["annotations"] if a["source"] == "human"]
    model = [a for a in document["annotations"] if a["source"] == "model"]
    assert len(gt.getImgIds()) == 5
    assert len(human) == sum(len(f) for f in truth.frames) == 10
    assert len(model) == 1 and model[0]["score"] == 0.9 and model[0]["generation"] is None
    assert {c["name"]: c["id"] for c in document["categories"]} == {"square": 1, "disc": 2}
    image = document["images"][0]
    assert (image["width"], image["height"], image["frame_index"], image["video_id"]) == (
        128,
        96,
        0,
        video.id,
    )
    assert image["file_name"] == f"v{video.id}_000000.png"
    first = human[0]
    assert first["bbox"] == [
        truth.frames[0][0].x,
        truth.frames[0][0].y,
        truth.frames[0][0].w,
        truth.frames[0][0].h,
    ]
    assert first["area"] == first["bbox"][2] * first["bbox"][3] and first["iscrowd"] == 0
    assert first["track_id"] is not None

    only_human = dict(document, annotations=human)
    (tmp_path / "human.json").write_text(json.dumps(only_human))
    gt_human = _quiet(COCO, str(tmp_path / "human.json"))
    detections = _quiet(gt_human.loadRes, [dict(a, score=1.0) for a in human])
    evaluation = COCOeval(gt_human, detections, "bbox")
    _quiet(evaluation.evaluate)
    _quiet(evaluation.accumulate)
    _quiet(evaluation.summarize)
    assert evaluation.stats[0] == pytest.approx(1.0)

    results = _quiet(gt.loadRes, model)
    assert len(results.getAnnIds()) == 1


def test_with_images_puts_the_pictures_beside_the_json_in_one_zip(project, make_video, tmp_path):
    video, _truth = make_video(project, frames=3)
    target = _export(project, tmp_path, name="out.zip", with_images=True)
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
        document = json.loads(archive.read("annotations/instances_default.json"))
        assert names == ["annotations/instances_default.json"] + [
            f"images/default/v{video.id}_{i:06d}.png" for i in range(3)
        ]
        frame = Frame.objects.get(video=video, index=2)
        picture = archive.read(f"images/default/v{video.id}_000002.png")
        assert picture == default_storage.open(frame.image).read()
    pictures = [n.removeprefix("images/default/") for n in names[1:]]
    assert [i["file_name"] for i in document["images"]] == pictures


def test_coco_round_trip_gives_identical_boxes_classes_tracks_and_frames(project, make_video, tmp_path):
    video, _truth = make_video(project, frames=6, seed=3)
    target = _export(project, tmp_path, video=video.id)
    fresh, _ = make_video(project, frames=6, seed=3, labeled=False)

    result = labels_import(video=fresh, path=target, format="coco")

    assert box_summary(fresh) == box_summary(video)
    assert result.boxes == Box.objects.filter(frame__video=video).count()
    assert result.tracks == 2 and result.frames == 6
    assert not Frame.objects.filter(video=fresh, touched_at__isnull=True).exists()


def test_coco_import_as_predictions_keeps_scores_and_skips_touched_frames(project, make_video, tmp_path):
    video, _truth = make_video(project, frames=4)
    Box.objects.filter(frame__video=video).update(
        source="model", review_state=ReviewState.PENDING, score=0.75
    )
    target = _export(project, tmp_path, include_predictions=True)
    fresh, _ = make_video(project, frames=4, labeled=False)
    Frame.objects.filter(video=fresh, index=0).update(touched_at="2024-01-01T00:00:00Z")

    result = labels_import(video=fresh, path=target, format="coco", as_predictions=True)

    assert result.skipped_frames == 1 and result.boxes == 6
    boxes = Box.objects.filter(frame__video=fresh)
    assert set(boxes.values_list("source", "review_state", "score").distinct()) == {
        ("model", "pending", 0.75)
    }
    assert not boxes.filter(frame__index=0).exists()


def test_imported_predictions_skip_frames_a_person_reviewed_or_labeled(project, make_video, tmp_path):
    """A frame reviewed as empty is a deliberate negative, and a frame with a human box is labeled:
    neither gets predictions; a frame with only unreviewed predictions still does."""
    video, _truth = make_video(project, frames=4)
    Box.objects.filter(frame__video=video).update(source="model", review_state=ReviewState.PENDING, score=0.5)
    target = _export(project, tmp_path, include_predictions=True)
    fresh, _ = make_video(project, frames=4, labeled=False)
    frames = {f.index: f for f in Frame.objects.filter(video=fresh)}
    label = LabelClass.objects.filter(project=project).first()
    Frame.objects.filter(id=frames[0].id).update(reviewed_at="2024-01-01T00:00:00Z")  # reviewed empty
    Box.objects.create(frame=frames[1], label_class=label, x=1, y=1, w=5, h=5, source="human")
    add_prediction(frames[2], label, score=0.3)  # pending only: still open

    result = labels_import(video=fresh, path=target, format="coco", as_predictions=True)

    assert result.skipped_frames == 2 and result.boxes == 4
    assert not Box.objects.filter(frame=frames[0]).exists()
    assert list(Box.objects.filter(frame=frames[1]).values_list("source", flat=True)) == ["human"]
    assert Box.objects.filter(frame=frames[2]).count() == 3
    assert Box.objects.filter(frame=frames[3], source="model", review_state="pending").count() == 2


def test_classes_are_matched_by_name_not_by_id(tmp_path, make_video):
    source = ProjectFactory(classes=["disc", "square"])
    video, _ = make_video(source, frames=2)
    target = _export(source, tmp_path)
    other = ProjectFactory(classes=["square", "disc"])
    fresh, _ = make_video(other, frames=2, labeled=False)
    labels_import(video=fresh, path=target, format="coco")
    assert box_summary(fresh) == box_summary(video)
