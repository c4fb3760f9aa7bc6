"""A generated clip, ingested, with its exact truth; and tiny training settings so a generation takes
seconds on two CPU cores."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate.models import LabelClass, Project, Video, VideoStatus
from annotate.services.boxes import box_create
from annotate.services.videos import video_create_from_path, video_ingest
from fixtures.make_clips import ClipTruth, make_clip

# Environment of the worker processes and settings of in-process runs: a generation in seconds.
TINY_TRAINING = {
    "ANNOTATE_TRAIN_EPOCHS": "4",
    "ANNOTATE_TRAIN_TIME_BUDGET": "6",
    "ANNOTATE_TRAIN_IMGSZ": "160",
    "ANNOTATE_TRAIN_DEVICE": "cpu",
    "ANNOTATE_SUGGESTIONS": "4",
}


@pytest.fixture
def tiny_training(settings) -> None:
    for name, value in TINY_TRAINING.items():
        setattr(settings, name, value if name == "ANNOTATE_TRAIN_DEVICE" else int(value))


@pytest.fixture
def truth(import_root: Path) -> ClipTruth:
    """40 frames of 160x120 with two moving shapes whose boxes are known exactly."""
    return make_clip(import_root / "clip", frames=40, width=160, height=120, objects=2, seed=7, video=False)


@pytest.fixture
def clip_video(project: Project, truth: ClipTruth) -> Video:
    assert truth.frames_dir is not None
    video = video_create_from_path(project=project, path=truth.frames_dir)
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    assert video.status == VideoStatus.READY, video.error
    return video


def label_from_truth(video: Video, truth: ClipTruth, indices: list[int], user=None) -> int:
    """Draw the true boxes of ``indices`` through the box service, as a person would; how many."""
    classes = dict(LabelClass.objects.filter(project_id=video.project_id).values_list("name", "id"))
    drawn = 0
    for index in indices:
        for box in truth.frames[index]:
            box_create(
                video=video,
                frame_index=index,
                x=box.x,
                y=box.y,
                w=box.w,
                h=box.h,
                label_class_id=classes[box.label],
                user=user,
            )
            drawn += 1
    return drawn
