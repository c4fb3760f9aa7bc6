"""Redacted videos: the chosen boxes hidden on their own frame, everything else as it was."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command

from annotate.exchange.redact import Rect, redact_frame
from annotate.models import Box, ExportJob, Frame, JobStatus, LabelClass
from annotate.services import exports
from annotate.services.exports import (
    export_job_cancel,
    export_job_create,
    export_job_run,
    export_options_clean,
    export_write,
)
from tests.annotate.exchange.conftest import add_prediction

pytestmark = pytest.mark.django_db

SIZE = (160, 120)


def _decode(path: Path) -> tuple[list[np.ndarray], float]:
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image.astype(np.int16))
    capture.release()
    return frames, fps


def _source(video) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for image in Frame.objects.filter(video=video).order_by("index").values_list("image", flat=True):
        with default_storage.open(image, "rb") as handle:
            out.append(np.asarray(cv2.imdecode(np.frombuffer(handle.read(), np.uint8), cv2.IMREAD_COLOR)))
    return out


def _mask(shape: tuple[int, ...], boxes: list[Any], grow: int) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=bool)
    for b in boxes:
        mask[max(0, b.y - grow) : b.y + b.h + grow, max(0, b.x - grow) : b.x + b.w + grow] = True
    return mask


def _diff(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16))[where].mean())


def _plain_encode(frames: list[np.ndarray], target: Path, fps: float) -> list[np.ndarray]:
    """The same frames through the same encoder with nothing hidden: what the codec alone changes."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    for image in frames:
        writer.write(image)
    writer.release()
    return _decode(target)[0]


@pytest.mark.parametrize("style", ["pixelate", "blur"])
def test_every_box_of_the_class_is_hidden_on_its_own_frame_and_nothing_else_changes(
    project, make_video, tmp_path, style
):
    video, truth = make_video(project, frames=12, width=SIZE[0], height=SIZE[1], seed=3)
    options = export_options_clean(
        project=project, format="redact", options={"video": video.id, "classes": ["square"], "style": style}
    )
    result = export_write(project=project, format="redact", options=options, target=tmp_path / "out.mp4")

    decoded, fps = _decode(result.path)
    source = _source(video)
    plain = _plain_encode(source, tmp_path / "plain.mp4", truth.fps)
    assert result.images == 12 and result.boxes == 12  # one square per frame
    assert len(decoded) == 12 and fps == pytest.approx(truth.fps)

    def squares(index: int) -> list[Any]:
        return [b for b in truth.frames[index] if b.label == "square"]

    def expected(index: int) -> np.ndarray:
        rects = [Rect(b.x, b.y, b.w, b.h) for b in squares(index)]
        return redact_frame(source[index], rects, style=style, block=16)

    for index, out in enumerate(decoded):
        inside = _mask(out.shape, squares(index), 0)
        # Inside the square: what the redaction made of this frame, far from the original picture.
        assert _diff(out, expected(index), inside) < _diff(out, source[index], inside) / 4, index
        # Everywhere else (a codec block away from the square, the disc included, which was not
        # chosen): the original picture, changed no more than the codec changes it unredacted.
        outside = ~_mask(out.shape, squares(index), 16)
        codec = _diff(plain[index], source[index], outside)
        assert _diff(out, source[index], outside) < 1.2 * codec + 0.5, index
        # Frame-exact: this output frame is this frame's redaction, not a neighbour's.
        for other in (index - 1, index + 1):
            if 0 <= other < len(decoded):
                both = inside | _mask(out.shape, squares(other), 0)
                assert _diff(out, expected(index), both) < _diff(out, expected(other), both), (index, other)


def test_pre_labels_are_hidden_only_above_the_score(project, make_video, tmp_path):
    video, _ = make_video(project, frames=2, width=SIZE[0], height=SIZE[1], labeled=False)
    square = LabelClass.objects.get(project=project, name="square")
    first, second = Frame.objects.filter(video=video).order_by("index")
    sure = add_prediction(first, square, score=0.9)
    unsure = add_prediction(second, square, score=0.2)
    options = export_options_clean(
        project=project,
        format="redact",
        options={"video": video.id, "classes": ["square"], "include_predictions": True, "min_score": 0.5},
    )
    result = export_write(project=project, format="redact", options=options, target=tmp_path / "p.mp4")

    decoded, _ = _decode(result.path)
    source = _source(video)
    assert result.boxes == 1 and len(decoded) == 2
    for frame, box, hidden in ((0, sure, True), (1, unsure, False)):
        inside = np.zeros(decoded[frame].shape[:2], dtype=bool)
        inside[box.y : box.y + box.h, box.x : box.x + box.w] = True
        redacted = redact_frame(source[frame], [Rect(box.x, box.y, box.w, box.h)], style="blur", block=16)
        closer_to_redacted = _diff(decoded[frame], redacted, inside) < _diff(
            decoded[frame], source[frame], inside
        )
        assert closer_to_redacted is hidden, frame
    # Without include_predictions only final labels count: there are none here.
    final = export_options_clean(
        project=project, format="redact", options={"video": video.id, "classes": ["square"]}
    )
    assert export_write(project=project, format="redact", options=final, target=tmp_path / "f.mp4").boxes == 0


def test_a_redaction_job_reports_progress_and_stops_when_cancelled(
    project, make_video, monkeypatch, django_capture_on_commit_callbacks
):
    video, _ = make_video(project, frames=25, width=SIZE[0], height=SIZE[1])
    with django_capture_on_commit_callbacks(execute=False):
        done = export_job_create(
            project=project, format="redact", options={"video": video.id, "classes": ["disc"]}
        )
    finished = export_job_run(job_id=done.id)
    assert finished is not None and finished.status == JobStatus.SUCCEEDED
    assert finished.items_total == 25 and finished.items_done == 25 and finished.box_count == 25
    assert finished.file.endswith(".mp4") and (Path(settings.MEDIA_ROOT) / finished.file).is_file()

    with django_capture_on_commit_callbacks(execute=False):
        job = export_job_create(
            project=project, format="redact", options={"video": video.id, "classes": ["disc"]}
        )
    reports: list[int] = []
    real = exports.export_write

    def cancelling(**kwargs: Any) -> exports.ExportResult:
        progress = kwargs["progress"]

        def spy(frames: int) -> None:
            reports.append(frames)
            if len(reports) == 1:
                export_job_cancel(job=ExportJob.objects.get(id=job.id))
            progress(frames)

        return real(**{**kwargs, "progress": spy})

    monkeypatch.setattr(exports, "export_write", cancelling)
    stopped = export_job_run(job_id=job.id)
    assert stopped is not None and stopped.status == JobStatus.CANCELLED and stopped.file == ""
    assert reports == [10]  # uncancelled: 10, 20, 25
    assert list((Path(settings.MEDIA_ROOT) / f"exports/{job.id}").glob("*")) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"classes": ["square"]}, "give the video to redact"),
        ({"video": "VIDEO"}, "Name the classes to redact"),
        ({"video": "VIDEO", "classes": ["person"]}, "No class person in this project"),
        ({"video": "VIDEO", "classes": ["square"], "style": "smudge"}, "style"),
        ({"video": "VIDEO", "classes": ["square"], "block": 1}, "block"),
        ({"video": "VIDEO", "classes": ["square"], "with_images": True}, "with_images"),
    ],
)
def test_bad_redaction_options_are_refused_with_a_message(api_client, project, make_video, body, message):
    video, _ = make_video(project, frames=1)
    body = {k: (video.id if v == "VIDEO" else v) for k, v in body.items()}
    response = api_client.post(
        f"/api/projects/{project.id}/exports/", {"format": "redact", **body}, format="json"
    )
    assert response.status_code == 400, response.content
    assert message in json.dumps(response.json())
    assert not ExportJob.objects.exists()


def test_redaction_options_on_a_label_export_are_refused(api_client, project, make_video):
    make_video(project, frames=1)
    response = api_client.post(
        f"/api/projects/{project.id}/exports/", {"format": "coco", "classes": ["square"]}, format="json"
    )
    assert response.status_code == 400 and "format redact" in json.dumps(response.json())


def test_the_export_command_writes_a_redacted_video(project, make_video, tmp_path):
    video, _ = make_video(project, frames=3, width=SIZE[0], height=SIZE[1])
    out = io.StringIO()
    target = tmp_path / "clip.mp4"
    call_command(
        "export",
        str(project.id),
        "--format",
        "redact",
        "--video",
        str(video.id),
        "--classes",
        "square,disc",
        "--style",
        "pixelate",
        "--out",
        str(target),
        stdout=out,
    )
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result == {"path": str(target), "format": "redact", "images": 3, "boxes": 6}
    assert len(_decode(target)[0]) == 3
    assert Box.objects.filter(frame__video=video).count() == 6
