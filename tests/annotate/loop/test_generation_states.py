"""Generations as job rows: guarded transitions, one run per clip, cancel, claims and lost workers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotate.errors import ServiceError
from annotate.jobs import JobStateError, Superseded
from annotate.models import Box, Generation, JobStatus, VideoStatus
from annotate.services.generations import (
    generation_cancel,
    generation_claim,
    generation_start,
    generation_sweep_lost,
    generation_transition,
)
from annotate.services.prelabels import prelabels_commit
from tests.annotate.loop.helpers import clip, engine_result, generation, human_box

pytestmark = pytest.mark.django_db

ALLOWED = {
    ("queued", "running"),
    ("queued", "cancelled"),
    ("queued", "failed"),
    ("running", "succeeded"),
    ("running", "failed"),
    ("running", "cancelled"),
    ("running", "queued"),  # the sweep re-queues a run whose worker died (annotate.jobs)
}
STATUSES = [s.value for s in JobStatus]


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_only_the_documented_status_transitions_are_allowed(project, source, target):
    row = generation(clip(project), status=source)
    if (source, target) in ALLOWED:
        generation_transition(generation=row, to=target)
        row.refresh_from_db()
        assert row.status == target
        assert (row.finished_at is not None) == (target in ("succeeded", "failed", "cancelled"))
    else:
        with pytest.raises(JobStateError):
            generation_transition(generation=row, to=target)
        row.refresh_from_db()
        assert row.status == source


def test_training_needs_a_labeled_frame_and_a_ready_clip(project, django_capture_on_commit_callbacks):
    video = clip(project)
    with pytest.raises(ServiceError, match="Label at least one frame"):
        generation_start(video=video)
    human_box(video, 0)
    video.status = VideoStatus.INGESTING
    video.save()
    with pytest.raises(ServiceError, match="ready"):
        generation_start(video=video)


def test_a_second_start_returns_the_run_in_progress(project, user, django_capture_on_commit_callbacks):
    video = clip(project)
    human_box(video, 0)
    # Callbacks captured, not run: no message reaches the broker from a unit test.
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        first, created = generation_start(video=video, user=user)
    assert created and first.number == 1 and first.status == JobStatus.QUEUED and first.created_by == user
    assert len(enqueued) == 1  # the task is sent only once the row is committed
    again, created_again = generation_start(video=video)
    assert (again.id, created_again) == (first.id, False)
    generation_transition(generation=first, to=JobStatus.CANCELLED)
    with django_capture_on_commit_callbacks(execute=False):
        second, created = generation_start(video=video)
    assert created and second.number == 2


def test_the_database_refuses_two_active_runs_of_one_clip(project):
    video = clip(project)
    generation(video, 1, JobStatus.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        generation(video, 2, JobStatus.QUEUED)


def test_cancelling_a_queued_run_ends_it_and_a_running_one_is_asked_to_stop(project):
    video = clip(project)
    queued = generation_cancel(generation=generation(video, 1))
    assert queued.status == JobStatus.CANCELLED and queued.finished_at is not None
    running = generation_cancel(generation=generation(video, 2, JobStatus.RUNNING))
    assert running.status == JobStatus.RUNNING and running.cancel_requested
    with pytest.raises(JobStateError):
        generation_cancel(generation=queued)


def test_a_redelivered_run_is_retried_once_then_failed(project, settings):
    settings.ANNOTATE_GENERATION_MAX_ATTEMPTS = 2
    row = generation(clip(project))
    assert generation_claim(generation_id=row.id) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.started_at is not None) == (JobStatus.RUNNING, 1, True)
    # The worker died; the broker hands the message out again.
    assert generation_claim(generation_id=row.id) == 2
    assert generation_claim(generation_id=row.id) is None
    row.refresh_from_db()
    assert row.status == JobStatus.FAILED and "Worker lost" in row.error
    assert generation_claim(generation_id=row.id) is None  # a finished run is never run again


def test_a_cancel_requested_before_the_worker_starts_wins(project):
    row = generation(clip(project), cancel_requested=True)
    assert generation_claim(generation_id=row.id) is None
    row.refresh_from_db()
    assert row.status == JobStatus.CANCELLED


def test_a_run_without_heartbeat_is_swept_as_failed_and_no_longer_blocks_the_clip(
    project, settings, django_capture_on_commit_callbacks
):
    settings.ANNOTATE_GENERATION_STALE_SECONDS = 60
    video = clip(project)
    human_box(video, 0)
    active = generation(video, 1, JobStatus.SUCCEEDED)
    video.active_generation = active
    video.save()
    dead = generation(video, 2, JobStatus.RUNNING, attempts=1)
    Generation.objects.filter(id=dead.id).update(updated_at=timezone.now() - timedelta(seconds=61))
    fresh_video = clip(project)
    alive = generation(fresh_video, 1, JobStatus.RUNNING, attempts=1)

    with django_capture_on_commit_callbacks(execute=False):
        third, created = generation_start(video=video)
    assert created and third.number == 3
    dead.refresh_from_db()
    assert dead.status == JobStatus.FAILED and "Worker lost" in dead.error
    video.refresh_from_db()
    assert video.active_generation_id == active.id
    assert generation_sweep_lost() == 0
    alive.refresh_from_db()
    assert alive.status == JobStatus.RUNNING


def test_an_attempt_that_lost_the_row_writes_nothing(project):
    video = clip(project)
    row = generation(video)
    first = generation_claim(generation_id=row.id)
    second = generation_claim(generation_id=row.id)
    assert (first, second) == (1, 2)
    with pytest.raises(Superseded):
        prelabels_commit(generation_id=row.id, attempt=1, result=engine_result(range(8)), prelabel_seconds=1)
    assert not Box.objects.filter(generation=row).exists()
    video.refresh_from_db()
    assert video.active_generation_id is None


def test_a_cancel_that_arrives_during_prelabeling_writes_nothing(project):
    video = clip(project)
    row = generation(video)
    attempt = generation_claim(generation_id=row.id)
    generation_cancel(generation=row)
    done = prelabels_commit(
        generation_id=row.id, attempt=attempt, result=engine_result(range(8)), prelabel_seconds=1
    )
    assert done.status == JobStatus.CANCELLED
    assert not Box.objects.filter(generation=row).exists()
