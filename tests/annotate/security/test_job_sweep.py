"""The sweep of dead jobs (annotate.jobs), called as a worker calls it: a running row whose heartbeat
stopped is queued again while attempts remain, failed with a message after, and what the dead attempt
wrote is removed either way. A live row is left alone. Label imports: a re-queued one keeps its
stored upload (the next attempt reads it), a failed or cancelled one loses it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from annotate.jobs import jobs_sweep
from annotate.models import (
    ExportFormat,
    ExportJob,
    Frame,
    ImportFormat,
    ImportJob,
    JobStatus,
    Video,
    VideoStatus,
)
from annotate.services.import_jobs import import_job_cancel
from tests.factories import VideoFactory

pytestmark = pytest.mark.django_db


def _dead() -> datetime:
    return timezone.now() - timedelta(seconds=settings.ANNOTATE_JOB_STALE_SECONDS + 5)


def _export(project, attempts: int, heartbeat) -> tuple[ExportJob, Path]:
    job = ExportJob.objects.create(
        project=project,
        format=ExportFormat.COCO,
        status=JobStatus.RUNNING,
        attempts=attempts,
        heartbeat_at=heartbeat,
    )
    part = Path(settings.MEDIA_ROOT) / "exports" / str(job.id) / ".coco.zip.abc.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"half a zip")
    return job, part


def test_a_dead_export_with_attempts_left_is_queued_again_without_its_temporary_file(
    project, django_capture_on_commit_callbacks
):
    job, part = _export(project, attempts=1, heartbeat=_dead())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = jobs_sweep()
    # The removal first, then the re-send by name (not run here: it talks to the broker).
    *removals, send = callbacks
    for removal in removals:
        removal()

    job.refresh_from_db()
    assert counts == {"requeued": 1, "failed": 0}
    assert (job.status, job.heartbeat_at) == (JobStatus.QUEUED, None)
    assert not part.exists()
    assert (send.func.__name__, send.args[1]) == ("job_send", job.id)


def test_a_dead_export_without_attempts_left_fails_with_a_message(
    project, django_capture_on_commit_callbacks
):
    job, part = _export(project, attempts=2, heartbeat=_dead())

    with django_capture_on_commit_callbacks(execute=True):
        counts = jobs_sweep()

    job.refresh_from_db()
    assert counts == {"requeued": 0, "failed": 1}
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("The worker running this export stopped without finishing (2 attempts")
    assert not part.parent.exists()


def test_a_dead_ingest_without_attempts_left_fails_and_removes_its_frames_and_upload(
    project, django_capture_on_commit_callbacks
):
    video = VideoFactory(project=project, status=VideoStatus.INGESTING, attempts=2, heartbeat_at=_dead())
    image = default_storage.save(f"frames/{video.id}/000000.jpg", ContentFile(b"jpeg"))
    upload = default_storage.save("uploads/abc/clip.mp4.upload", ContentFile(b"video"))
    Frame.objects.create(video=video, index=0, timestamp=0, image=image, sha256="0")
    Video.objects.filter(pk=video.pk).update(source_file=upload)

    with django_capture_on_commit_callbacks(execute=True):
        jobs_sweep()

    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED and "stopped without finishing" in video.error
    assert not Frame.objects.filter(video=video).exists()
    assert not default_storage.exists(image) and not default_storage.exists(upload)
    assert video.source_file == ""


def test_a_job_that_beats_is_left_alone(project):
    job, part = _export(project, attempts=1, heartbeat=timezone.now())

    assert jobs_sweep() == {"requeued": 0, "failed": 0}
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and part.exists()


def _import(video, attempts: int) -> tuple[ImportJob, Path]:
    relative = "imports/0123abcd/upload.bin"
    upload = Path(settings.MEDIA_ROOT) / relative
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"1,1,1,1,5,5,-1\n")
    job = ImportJob.objects.create(
        video=video,
        format=ImportFormat.MOT,
        status=JobStatus.RUNNING,
        file=relative,
        attempts=attempts,
        heartbeat_at=_dead(),
        started_at=_dead(),
    )
    return job, upload


def test_a_dead_label_import_with_attempts_left_is_queued_again_with_its_upload(
    project, django_capture_on_commit_callbacks
):
    job, upload = _import(VideoFactory(project=project), attempts=1)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = jobs_sweep()

    job.refresh_from_db()
    assert counts == {"requeued": 1, "failed": 0}
    assert (job.status, job.heartbeat_at, job.file) == (JobStatus.QUEUED, None, "imports/0123abcd/upload.bin")
    assert upload.exists()
    assert [(c.func.__name__, c.args[1]) for c in callbacks] == [("job_send", job.id)]


def test_a_dead_label_import_without_attempts_left_fails_and_removes_its_upload(
    project, django_capture_on_commit_callbacks
):
    job, upload = _import(VideoFactory(project=project), attempts=2)

    with django_capture_on_commit_callbacks(execute=True):
        counts = jobs_sweep()

    job.refresh_from_db()
    assert counts == {"requeued": 0, "failed": 1}
    assert job.status == JobStatus.FAILED and job.file == ""
    assert job.error.startswith("The worker running this label import stopped without finishing (2 attempts")
    assert not upload.exists()


def test_cancelling_an_import_whose_worker_died_removes_its_upload(
    project, django_capture_on_commit_callbacks
):
    job, upload = _import(VideoFactory(project=project), attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        import_job_cancel(job=job)

    job.refresh_from_db()
    assert (job.status, job.file) == (JobStatus.CANCELLED, "")
    assert not upload.exists()  # no run will come back for it
