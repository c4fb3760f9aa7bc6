"""Label imports as jobs: bounded reading (zip ratio and size caps), cancellation before the write,
the stored upload removed whatever the outcome, and the Label Studio reader on its own exports."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from annotate.models import Box, ImportJob, JobStatus, Track
from annotate.services import imports
from annotate.services.import_jobs import import_job_cancel, import_job_create, import_job_run
from annotate.services.imports import LabelImportError, labels_import

pytestmark = pytest.mark.django_db


def _uploads() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "imports"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_zip_member_that_inflates_past_the_ratio_is_refused_without_reading_it(
    project, make_video, tmp_path
):
    video, _ = make_video(project, frames=2, labeled=False)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("annotations/instances_default.json", b" " * (32 * 1024 * 1024))
    assert path.stat().st_size < 100_000

    with pytest.raises(LabelImportError) as caught:
        labels_import(video=video, path=path, format="coco")

    assert "over the ratio limit of 100" in caught.value.errors[0]


def test_a_label_file_over_the_size_cap_is_refused_while_streaming(project, make_video, tmp_path, settings):
    video, _ = make_video(project, frames=2, labeled=False)
    settings.ANNOTATE_IMPORT_MAX_LABEL_BYTES = 1000
    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,1,1,5,5,-1\n" * 200)

    with pytest.raises(LabelImportError, match="more than 1000 bytes uncompressed"):
        labels_import(video=video, path=gt, format="mot", default_class="square")


def _queued(video, data: bytes, name: str, format: str, captured, **options) -> ImportJob:
    with captured(execute=False):
        return import_job_create(
            video=video, upload=SimpleUploadedFile(name, data), options={"format": format, **options}
        )


def test_a_job_cancelled_while_it_runs_writes_nothing_and_removes_the_upload(
    project, make_video, monkeypatch, django_capture_on_commit_callbacks
):
    video, _ = make_video(project, frames=3, labeled=False)
    job = _queued(
        video,
        b"1,1,1,1,5,5,-1\n2,1,2,2,5,5,-1\n",
        "gt.txt",
        "mot",
        django_capture_on_commit_callbacks,
        default_class="square",
    )
    assert len(_uploads()) == 1
    real = imports._write

    def cancel_first(**kwargs):
        import_job_cancel(job=ImportJob.objects.get(id=job.id))  # a person presses cancel mid-import
        return real(**kwargs)

    monkeypatch.setattr(imports, "_write", cancel_first)

    finished = import_job_run(job_id=job.id)

    assert finished is not None and finished.status == JobStatus.CANCELLED
    assert not Box.objects.exists() and not Track.objects.exists()
    assert _uploads() == []


def test_a_refused_job_lists_every_problem_and_keeps_no_upload(
    project, make_video, django_capture_on_commit_callbacks
):
    video, _ = make_video(project, frames=2, labeled=False)
    job = _queued(
        video, b"1,1,1,1,0,5,-1\n9,2,1,1,5,5,-1\n", "gt.txt", "mot", django_capture_on_commit_callbacks
    )

    finished = import_job_run(job_id=job.id)

    assert finished is not None and finished.status == JobStatus.FAILED
    assert len(finished.problems) == 2 and "the file gives no class" in finished.problems[0]
    assert _uploads() == [] and not Box.objects.exists()


# -- Label Studio -----------------------------------------------------------------------------------


def test_label_studio_image_tasks_land_on_the_pictures_they_name(project, import_root, tmp_path):
    import cv2
    import numpy as np

    from annotate.services.videos import video_create_from_path, video_ingest

    folder = import_root / "ls"
    folder.mkdir()
    for n, prefix in ((1, "c0ffee00"), (2, "0badf00d")):
        cv2.imwrite(str(folder / f"{prefix}-frame_{n:04d}.jpg"), np.zeros((50, 100, 3), np.uint8))
    video = video_create_from_path(project=project, path=folder)
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    tasks = [
        {
            "id": 7,
            "data": {"image": "/data/upload/3/0badf00d-frame_0002.jpg"},
            "annotations": [
                {"was_cancelled": True, "result": []},
                {
                    "result": [
                        {
                            "type": "rectanglelabels",
                            "original_width": 100,
                            "original_height": 50,
                            "value": {
                                "x": 10,
                                "y": 20,
                                "width": 30,
                                "height": 40,
                                "rectanglelabels": ["disc"],
                            },
                        },
                        {"type": "choices", "value": {"choices": ["day"]}},
                    ]
                },
            ],
        },
        {"id": 8, "data": {"image": "/data/upload/3/c0ffee00-frame_0001.jpg"}, "annotations": []},
    ]
    path = tmp_path / "project-1.json"
    path.write_text(json.dumps(tasks))

    result = labels_import(video=video, path=path, format="label_studio")

    box = Box.objects.get()
    assert box.frame.original_name == "0badf00d-frame_0002.jpg" and box.frame.index == 1
    assert (box.x, box.y, box.w, box.h, box.label_class.name) == (10, 10, 30, 20, "disc")
    assert result.skipped == {
        "Label Studio choices results (not boxes)": 1,
        "Label Studio tasks without an annotation": 1,
    }


def test_label_studio_video_keyframes_are_interpolated_into_one_track(project, make_video, tmp_path):
    video, _ = make_video(project, frames=6, labeled=False)  # 128x96
    region = {
        "id": "r1",
        "type": "videorectangle",
        "value": {
            "labels": ["square"],
            "sequence": [
                {"frame": 1, "enabled": True, "x": 0, "y": 0, "width": 25, "height": 25},
                {"frame": 3, "enabled": False, "x": 50, "y": 50, "width": 25, "height": 25},
                {"frame": 5, "enabled": True, "x": 50, "y": 0, "width": 25, "height": 25},
            ],
        },
    }
    path = tmp_path / "video.json"
    path.write_text(
        json.dumps(
            [{"id": 1, "data": {"video": "/data/upload/1/clip.mp4"}, "annotations": [{"result": [region]}]}]
        )
    )

    result = labels_import(video=video, path=path, format="label_studio")

    rows = list(Box.objects.order_by("frame__index").values_list("frame__index", "x"))
    # frames 1-3 (1-based) interpolate from keyframe 1 to keyframe 3; disabled at 3; keyframe 5 alone.
    assert rows == [(0, 0.0), (1, 32.0), (4, 64.0)]
    assert result.tracks == 1 and Track.objects.get().external_id == "ls-r1"
    stream = io.BytesIO(b"{not json")
    from annotate.exchange.label_studio import parse_label_studio

    assert "not valid JSON" in parse_label_studio(stream).errors[0]


def test_prediction_scores_outside_0_to_1_are_refused(project, make_video, tmp_path):
    video, _ = make_video(project, frames=2, labeled=False)
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "data.yaml").write_text("names: [square, disc]\n")
    (tmp_path / "labels" / "train" / "000000.txt").write_text("0 0.5 0.5 0.2 0.2 31.5\n")

    with pytest.raises(LabelImportError) as caught:
        labels_import(video=video, path=tmp_path, format="yolo", as_predictions=True, first_frame=0)

    assert caught.value.errors == ["labels/train/000000.txt line 1: score 31.5 is outside 0..1"]


def test_cvat_xml_with_entity_expansion_is_refused(project, make_video, tmp_path):
    video, _ = make_video(project, frames=1, labeled=False)
    bomb = tmp_path / "annotations.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        '<annotations><image id="0" name="a.jpg">'
        '<box label="&lol2;" xtl="1" ytl="1" xbr="5" ybr="5"/></image></annotations>'
    )

    with pytest.raises(LabelImportError, match="not valid CVAT XML"):
        labels_import(video=video, path=bomb, format="cvat")
