"""A generation's row says where its time went (``metrics["timings"]``), as loop benchmarks read it."""

from __future__ import annotations

import pytest

from annotate.models import JobStatus
from annotate.services.generations import generation_execute, generation_start
from tests.annotate.loop.conftest import label_from_truth

pytestmark = pytest.mark.django_db


def test_a_generation_records_queue_wait_setup_training_prelabeling_and_commit(
    clip_video, truth, tiny_training, settings, django_capture_on_commit_callbacks
):
    settings.ANNOTATE_TRAIN_TIME_BUDGET = 600
    settings.ANNOTATE_CLIPNET_MAX_STEPS = 20
    label_from_truth(clip_video, truth, [0, 13, 26, 39])
    with django_capture_on_commit_callbacks(execute=False):
        generation, _ = generation_start(video=clip_video)
    generation_execute(generation_id=generation.id)  # what the worker runs
    generation.refresh_from_db()
    assert generation.status == JobStatus.SUCCEEDED, generation.error

    timings = generation.metrics["timings"]
    parts = ("queue_wait_s", "setup_s", "train_s", "prelabel_s", "commit_s")
    assert set(timings) == {*parts, "run_in_process"}
    assert all(timings[name] >= 0 for name in parts)
    assert timings["train_s"] == round(generation.train_seconds, 3)
    assert timings["prelabel_s"] == round(generation.prelabel_seconds, 3)
    assert timings["run_in_process"] >= 1
    # The parts are disjoint stretches of the run: together no longer than queued -> succeeded.
    span = (generation.finished_at - generation.created_at).total_seconds()
    assert sum(timings[name] for name in parts) <= span + 0.01
