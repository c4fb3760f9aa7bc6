"""Label imports as jobs on the ``cpu`` queue: the web request stores the upload and answers 202.

The upload is copied in chunks to ``MEDIA_ROOT/imports/<uuid>/`` while its sha256 is computed; the
worker parses it as a stream (annotate.services.imports) with the size and ratio caps of
annotate.exchange.sources, so no web process holds a decompressed file. Progress (``items_done`` /
``items_total``: boxes) is written on the row. The import is all or nothing: a refused file ends the
job ``failed`` with every problem in ``problems`` and nothing written. The stored upload is removed
when the job ends, whatever the outcome. ``dry_run`` checks and counts (the preview of how many boxes
land on how many frames) and writes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from dataclasses import asdict, fields
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotate.errors import ConflictError, ServiceError
from annotate.jobs import JobKind, enqueue_on_commit, job_claim, job_heartbeat, job_kind_register, job_stale_q
from annotate.models import ImportJob, JobStatus, Video, VideoStatus
from annotate.services.imports import ImportCancelled, ImportOptions, LabelImportError, labels_import

log = logging.getLogger(__name__)


OPTION_NAMES = tuple(f.name for f in fields(ImportOptions))


def _media(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def _remove_upload(relative: str) -> None:
    if not relative:
        return
    path = _media(relative)
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def _fail_queued(job_id: int, message: str) -> None:
    job = ImportJob.objects.filter(id=job_id, status=JobStatus.QUEUED).first()
    if job is None:
        return
    ImportJob.objects.filter(id=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.FAILED, error=message, file="", finished_at=timezone.now(), updated_at=timezone.now()
    )
    _remove_upload(job.file)


def import_job_create(
    *,
    video: Video,
    upload: File,
    options: dict[str, Any],
    dry_run: bool = False,
    created_by: User | None = None,
) -> ImportJob:
    """Store the upload and queue its import (after the transaction commits)."""
    clean = ImportOptions(**{k: v for k, v in options.items() if k in OPTION_NAMES})
    clean.check()
    if video.status != VideoStatus.READY:
        raise ServiceError(f"Clip {video.name!r} is {video.status}; labels can be imported once it is ready.")
    if upload.size is not None and upload.size > settings.ANNOTATE_MAX_UPLOAD_BYTES:
        raise ServiceError("The file is larger than the upload limit.", field="file")
    original = PurePosixPath((upload.name or "labels").replace("\\", "/")).name[:255]
    # A fixed stored name: the suffix says zip or not to nobody; the reader looks at the bytes.
    relative = f"imports/{uuid.uuid4().hex}/upload.bin"
    target = _media(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        with target.open("wb") as out:
            for chunk in upload.chunks():
                digest.update(chunk)
                out.write(chunk)
        with transaction.atomic():
            job = ImportJob.objects.create(
                video=video,
                format=clean.format,
                options=asdict(clean),
                dry_run=dry_run,
                file=relative,
                file_name=original,
                sha256=digest.hexdigest(),
                created_by=created_by,
            )
            enqueue_on_commit(
                IMPORT_JOB.task,
                job.id,
                queue=IMPORT_JOB.queue,
                on_failure=lambda message: _fail_queued(job.id, message),
                what="the import",
            )
    except BaseException:
        _remove_upload(relative)
        raise
    return job


def _claim(job_id: int) -> ImportJob | None:
    # A redelivered import starts over: nothing of that attempt was committed (annotate.jobs.job_claim),
    # and the new attempt number fences the old one out of the row (``_mine``).
    claimed = job_claim(ImportJob, job_id, problems=[])
    return ImportJob.objects.select_related("video__project").get(id=job_id) if claimed else None


def _mine(job: ImportJob) -> QuerySet[ImportJob]:
    """The row while this attempt still owns it (not cancelled, deleted or claimed by a later one)."""
    return ImportJob.objects.filter(id=job.id, status=JobStatus.RUNNING, attempts=job.attempts)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued import; every outcome ends on the row, and the stored upload is removed."""
    job = _claim(job_id)
    if job is None:
        log.info("import %s is not queued; nothing to do", job_id)
        return None

    def progress(done: int, total: int) -> None:
        if not _mine(job).update(items_done=done, items_total=total, updated_at=timezone.now()):
            raise ImportCancelled

    try:
        options = {k: v for k, v in job.options.items() if k in OPTION_NAMES}
        with job_heartbeat(IMPORT_JOB, job.id):
            result = labels_import(
                video=job.video,
                path=_media(job.file),
                name=job.file_name,
                sha256=job.sha256,
                dry_run=job.dry_run,
                created_by=job.created_by,
                job=job,
                progress=progress,
                **options,
            )
    except ImportCancelled:
        log.info("import %s was cancelled or taken over; nothing written", job_id)
        outcome: dict[str, Any] | None = None
    except LabelImportError as exc:
        outcome = {"status": JobStatus.FAILED, "error": exc.summary, "problems": exc.errors}
    except Exception as exc:
        log.exception("import %s failed", job_id)
        message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        outcome = {"status": JobStatus.FAILED, "error": message}
    else:
        # A real import marked the row succeeded in its own transaction; a dry run ends here.
        outcome = {"status": JobStatus.SUCCEEDED, "result": result.as_dict()} if job.dry_run else None
    if outcome is not None:
        _mine(job).update(**outcome, file="", finished_at=timezone.now(), updated_at=timezone.now())
    row = ImportJob.objects.filter(id=job.id).first()
    if row is not None and row.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        # A later attempt owns the row now (the sweep took this one for dead): the upload is its input.
        return row
    if row is not None and row.file:
        ImportJob.objects.filter(id=job.id).update(file="")
    _remove_upload(job.file)
    return ImportJob.objects.filter(id=job.id).first()


@transaction.atomic
def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Cancel a queued or running import (a running one stops before it writes); 409 once finished.

    A live run removes the stored upload itself when it stops; the upload of a queued import, or of
    one whose worker stopped beating, is removed here (no run will look at it again).
    """
    row = (
        ImportJob.objects.select_for_update()
        .filter(id=job.id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .first()
    )
    if row is None:
        job.refresh_from_db()
        raise ConflictError(f"This import has already {job.status}.")
    live = row.status == JobStatus.RUNNING and not ImportJob.objects.filter(job_stale_q(), id=row.id).exists()
    ImportJob.objects.filter(id=row.id).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now()
    )
    if row.file and not live:
        ImportJob.objects.filter(id=row.id).update(file="")
        upload = row.file
        transaction.on_commit(lambda: _remove_upload(upload))
    job.refresh_from_db()
    return job


# -- a dead worker's import (annotate.jobs) ----------------------------------------------------------
# The write is one transaction: a killed worker's connection drops and PostgreSQL rolls it back, so a
# dead attempt leaves no box, track or class behind; only the stored upload, which the next attempt
# reads again, or which goes when the import gives up.


def _requeue_lost(job: ImportJob) -> None:
    ImportJob.objects.filter(id=job.id).update(
        status=JobStatus.QUEUED, heartbeat_at=None, items_done=0, updated_at=timezone.now()
    )


def _give_up_lost(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(id=job.id).update(
        status=JobStatus.FAILED,
        error=message,
        file="",
        heartbeat_at=None,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    upload = job.file
    transaction.on_commit(lambda: _remove_upload(upload))


IMPORT_JOB = job_kind_register(
    JobKind(
        label="label import",
        model=ImportJob,
        running=JobStatus.RUNNING,
        task="annotate.import_run",
        queue="cpu",
        max_attempts=lambda: settings.ANNOTATE_JOB_MAX_ATTEMPTS,
        requeue=_requeue_lost,
        give_up=_give_up_lost,
    )
)
