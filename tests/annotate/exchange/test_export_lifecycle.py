"""Export jobs after they start: a cancel stops the writer, and deleting the data deletes its exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from annotate.engine_adapter import frames_open_to_predictions
from annotate.models import Box, BoxSource, ExportJob, Frame, JobStatus, LabelClass, ReviewState
from annotate.services import exports
from annotate.services.exports import export_job_cancel, export_job_create, export_job_run
from annotate.services.removal import project_delete, video_delete
from tests.annotate.exchange.conftest import add_prediction

pytestmark = pytest.mark.django_db


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def _queued(project, format: str, **options: Any) -> ExportJob:
    return export_job_create(project=project, format=format, options=options)


def _cancel_on_report(monkeypatch, job: ExportJob, *, at: int) -> list[int]:
    """Spy on the job's progress reports; the ``at``-th report cancels the job first, as a person
    pressing cancel while the export is being written."""
    reports: list[int] = []
    real = exports.export_write

    def export_write(**kwargs: Any) -> exports.ExportResult:
        progress = kwargs["progress"]

        def spy(done: int) -> None:
            reports.append(done)
            if len(reports) == at:
                export_job_cancel(job=ExportJob.objects.get(id=job.id))
            progress(done)

        return real(**{**kwargs, "progress": spy})

    monkeypatch.setattr(exports, "export_write", export_write)
    return reports


def test_cancelling_a_running_export_stops_the_writer_and_keeps_no_file(
    project, make_video, monkeypatch, django_capture_on_commit_callbacks
):
    video, _ = make_video(project, frames=6)
    frame = Frame.objects.filter(video=video).first()
    label = LabelClass.objects.filter(project=project).first()
    Box.objects.bulk_create(
        Box(frame=frame, label_class=label, x=1, y=1, w=5, h=5, source=BoxSource.HUMAN) for _ in range(1200)
    )
    with django_capture_on_commit_callbacks(execute=False):
        job = _queued(project, "coco")
    reports = _cancel_on_report(monkeypatch, job, at=1)

    finished = export_job_run(job_id=job.id)

    assert finished is not None and finished.status == JobStatus.CANCELLED and finished.file == ""
    # COCO reports every 500 of its 1218 items: uncancelled that is 500, 1000 and 1218.
    assert reports == [500]
    assert finished.items_done == 0
    assert _files_under(Path(settings.MEDIA_ROOT) / "exports") == []


def test_cancelling_while_the_pictures_are_copied_stops_the_copy(
    project, make_video, monkeypatch, django_capture_on_commit_callbacks
):
    make_video(project, frames=6)
    monkeypatch.setattr(exports, "IMAGE_CHUNK", 2)
    copied: list[str] = []
    real_copy = exports.zip_sink

    def zip_sink(target: Path, **options: Any) -> Any:
        context = real_copy(target, **options)

        class Counting:
            def __enter__(self) -> Any:
                sink = context.__enter__()
                original = sink.copy_media

                def copy_media(name: str, media_path: str) -> None:
                    copied.append(name)
                    original(name, media_path)

                sink.copy_media = copy_media
                return sink

            def __exit__(self, *exc: Any) -> Any:
                return context.__exit__(*exc)

        return Counting()

    monkeypatch.setattr(exports, "zip_sink", zip_sink)
    with django_capture_on_commit_callbacks(execute=False):
        job = _queued(project, "coco", with_images=True)
    # Report 1: the JSON is done (18 items); report 2: after the first two pictures.
    reports = _cancel_on_report(monkeypatch, job, at=2)

    finished = export_job_run(job_id=job.id)

    assert finished is not None and finished.status == JobStatus.CANCELLED and finished.file == ""
    assert reports == [18, 18] and len(copied) == 2  # of 6 pictures
    assert _files_under(Path(settings.MEDIA_ROOT) / "exports") == []


def _finished_export(project, **options: Any) -> Path:
    job = _queued(project, "coco", with_images=True, **options)
    finished = export_job_run(job_id=job.id)
    assert finished is not None and finished.status == JobStatus.SUCCEEDED, finished and finished.error
    path = Path(settings.MEDIA_ROOT) / finished.file
    assert path.is_file()
    return path


def test_deleting_a_clip_removes_its_exports_keeps_finished_project_wide_ones_and_cancels_running_ones(
    project, make_video, django_capture_on_commit_callbacks
):
    """A project-wide export is a snapshot others may still need: a finished one stays as it was made;
    one in progress cannot be consistent any more and is cancelled with a message. An export of
    another clip alone stays; the deleted clip's own exports go."""
    deleted, _ = make_video(project, frames=3)
    kept, _ = make_video(project, frames=3)
    with django_capture_on_commit_callbacks(execute=False):
        of_deleted = _finished_export(project, video=deleted.id)
        project_wide = _finished_export(project)
        of_kept = _finished_export(project, video=kept.id)
        in_progress = _queued(project, "coco", with_images=True)

    with django_capture_on_commit_callbacks(execute=True):
        video_delete(video=deleted)

    assert not of_deleted.exists() and not of_deleted.parent.exists()
    assert project_wide.is_file() and of_kept.is_file()
    assert sorted(ExportJob.objects.values_list("video_id", flat=True), key=str) == sorted(
        [kept.id, None, None], key=str
    )
    in_progress.refresh_from_db()
    assert in_progress.status == JobStatus.CANCELLED
    assert f"the clip {deleted.name!r} was deleted while this export was being made" in in_progress.error


def test_deleting_a_project_removes_every_export_file(
    project, make_video, django_capture_on_commit_callbacks
):
    video, _ = make_video(project, frames=3)
    with django_capture_on_commit_callbacks(execute=False):
        paths = [_finished_export(project), _finished_export(project, video=video.id)]

    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=project)

    assert not any(path.exists() for path in paths)
    assert _files_under(Path(settings.MEDIA_ROOT) / "exports") == []
    assert not ExportJob.objects.exists()


def test_a_rolled_back_delete_keeps_the_export_files(project, make_video, django_capture_on_commit_callbacks):
    video, _ = make_video(project, frames=2)
    with django_capture_on_commit_callbacks(execute=False):
        path = _finished_export(project, video=video.id)
        project_delete(project=project)  # its on-commit removals are never run: as if rolled back

    assert path.is_file()


def test_only_frames_nobody_reviewed_or_confirmed_are_open_to_predictions(project, make_video):
    """The shared rule of pre-labels and imported predictions: a frame with only an unreviewed
    prediction stays open; an accepted prediction or a review closes it."""
    video, _ = make_video(project, frames=3, labeled=False)
    frames = {f.index: f for f in Frame.objects.filter(video=video)}
    label = LabelClass.objects.filter(project=project).first()
    add_prediction(frames[0], label, score=0.5)
    add_prediction(frames[1], label, score=0.5, state=ReviewState.ACCEPTED)
    Frame.objects.filter(id=frames[2].id).update(reviewed_at="2024-01-01T00:00:00Z")

    assert list(frames_open_to_predictions(video).values_list("index", flat=True)) == [0]


def test_an_export_that_cannot_be_queued_fails_with_a_clear_message(
    project, make_video, broker_down, django_capture_on_commit_callbacks
):
    make_video(project, frames=2)

    with django_capture_on_commit_callbacks(execute=True):
        job = _queued(project, "coco")

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Could not queue the export: Error 111") and "broker running" in job.error
    assert job.file == ""


def test_an_export_that_fails_while_writing_leaves_no_temporary_file(
    project, make_video, django_capture_on_commit_callbacks
):
    video, _ = make_video(project, frames=4)
    gone = Frame.objects.get(video=video, index=2).image
    Path(default_storage.path(gone)).unlink()  # a picture gone from storage
    with django_capture_on_commit_callbacks(execute=False):
        job = _queued(project, "coco", with_images=True)

    export_job_run(job_id=job.id)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error
    assert _files_under(Path(settings.MEDIA_ROOT) / "exports") == []  # the half-written zip went with it
