"""A training run's scratch (its data set, run folder, pre-label files) is removed when the run ends:
a generation that succeeded keeps only its checkpoint, one that failed keeps nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from annotate.models import Generation, GenerationPhase, JobStatus
from annotate.services.generations import generation_execute, generation_start
from tests.annotate.loop.conftest import label_from_truth

pytestmark = pytest.mark.django_db


def _run(video, captured) -> Generation:
    with captured(execute=False):
        generation, _ = generation_start(video=video)
    generation_execute(generation_id=generation.id)  # what the worker runs
    generation.refresh_from_db()
    return generation


def test_a_generation_that_succeeds_keeps_only_its_checkpoint(
    clip_video, truth, tiny_training, django_capture_on_commit_callbacks
):
    label_from_truth(clip_video, truth, [0, 13, 26, 39])

    generation = _run(clip_video, django_capture_on_commit_callbacks)

    assert generation.status == JobStatus.SUCCEEDED, generation.error
    attempt = Path(settings.ANNOTATE_WORK_DIR) / f"video-{clip_video.id}" / "generation-1" / "attempt-1"
    assert [p.name for p in attempt.iterdir()] == [Path(generation.checkpoint_path).name]


def test_a_generation_that_fails_after_training_leaves_no_scratch(
    clip_video, truth, tiny_training, django_capture_on_commit_callbacks
):
    label_from_truth(clip_video, truth, [0, 13, 26])
    # A picture past the last label is not a picture: training writes its checkpoint, then the
    # pre-labelling of every frame fails on it.
    last = clip_video.frames.get(index=39)
    Path(default_storage.path(last.image)).write_bytes(b"not a picture")

    generation = _run(clip_video, django_capture_on_commit_callbacks)

    assert generation.status == JobStatus.FAILED and "cannot read frame image" in generation.error
    assert generation.phase == GenerationPhase.PRELABELING  # it failed after the checkpoint was written
    work = Path(settings.ANNOTATE_WORK_DIR) / f"video-{clip_video.id}" / "generation-1"
    assert not work.exists() or [p for p in work.rglob("*") if p.is_file()] == []
