"""Clips: created from an upload or a server path, then ingested (decoded once into stored frames).

Ingest is a job whose state lives on the Video row: queued -> ingesting -> ready | failed, with
``frames_done / frames_total`` as progress. Frames are the source of truth afterwards; the uploaded
original is deleted when ingest ends, whatever the outcome.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import get_valid_filename

from annotate.errors import ConflictError, ServiceError
from annotate.ingest import (
    IngestError,
    Limits,
    Sampling,
    Source,
    encode_jpeg,
    estimate_output_frames,
    image_source_check,
    open_source,
    output_size,
    resize,
    sample,
)
from annotate.jobs import JobKind, enqueue_on_commit, job_heartbeat, job_kind_register
from annotate.models import Frame, Generation, JobStatus, Project, Video, VideoStatus
from annotate.services.generations import generation_start_from

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5


def _limits() -> Limits:
    return Limits(
        max_bytes=settings.ANNOTATE_MAX_UPLOAD_BYTES,
        max_frames=settings.ANNOTATE_MAX_FRAMES,
        max_pixels=settings.ANNOTATE_MAX_PIXELS,
    )


def _check_sampling(sample_fps: float | None, max_width: int | None) -> None:
    if sample_fps is not None and not sample_fps > 0:
        raise ServiceError("Sampling fps must be a positive number.", field="sample_fps")
    if max_width is not None and max_width < 1:
        raise ServiceError("Maximum width must be at least 1 pixel.", field="max_width")


def _check_size(size: int | None, what: str) -> None:
    limit = settings.ANNOTATE_MAX_UPLOAD_BYTES
    if size is None or size > limit:
        raise ServiceError(f"{what} is {size} bytes, over the limit of {limit} bytes.", field="file")


def import_path_check(path: str | Path) -> Path:
    """The resolved server path, if it lies inside ANNOTATE_IMPORT_ROOTS (symlinks followed)."""
    raw = Path(path).expanduser()
    if ".." in raw.parts:
        raise ServiceError(f"{path} contains '..'; give the path without parent-folder steps.", field="path")
    resolved = raw.resolve()
    roots = [Path(root).resolve() for root in settings.ANNOTATE_IMPORT_ROOTS]
    if not any(resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots) or "none"
        raise ServiceError(
            f"{path} is outside the folders clips may be imported from "
            f"({allowed}; see ANNOTATE_IMPORT_ROOTS).",
            field="path",
        )
    if not resolved.exists():
        raise ServiceError(f"{path} does not exist.", field="path")
    return resolved


def _enqueue_ingest(video_id: int) -> None:
    enqueue_on_commit(
        INGEST_JOB.task,
        video_id,
        queue=INGEST_JOB.queue,
        on_failure=lambda message: _fail_queued(video_id, message),
        what="the ingest",
    )


def _fail_queued(video_id: int, message: str) -> None:
    """A queued clip whose ingest could not be sent: failed, and its stored upload removed."""
    video = Video.objects.filter(pk=video_id, status=VideoStatus.QUEUED).first()
    if video is None:
        return
    failed = Video.objects.filter(pk=video_id, status=VideoStatus.QUEUED).update(
        status=VideoStatus.FAILED,
        error=message,
        source_file="",
        ingest_finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if failed and video.source_file:
        _delete_stored_original(video.source_file)


# Every upload is stored under this one suffix, whatever it was called: FFmpeg picks some demuxers by
# the file's extension (an ``.m3u8`` playlist, an image pattern), and a stored upload must never be
# opened as anything but the single file it is.
STORED_UPLOAD_SUFFIX = ".upload"


def _safe_upload_name(original: str) -> str:
    candidate = Path(original.replace("\\", "/")).name
    try:
        safe = get_valid_filename(candidate)
    except Exception:  # "" or "..": nothing usable is left of the name
        safe = "upload"
    stem, suffix = Path(safe).stem, Path(safe).suffix
    return f"{stem[:150] or 'upload'}{suffix[:16]}{STORED_UPLOAD_SUFFIX}"


def video_create_from_upload(
    *,
    project: Project,
    uploaded_file: UploadedFile,
    name: str | None = None,
    sample_fps: float | None = None,
    max_width: int | None = None,
    created_by: User | None = None,
) -> Video:
    """Store the upload under uploads/ and queue its ingest (after the transaction commits)."""
    _check_sampling(sample_fps, max_width)
    original = uploaded_file.name or "upload"
    _check_size(uploaded_file.size, original)
    # The storage streams the file in chunks (or moves Django's temporary file into place).
    stored = default_storage.save(f"uploads/{uuid.uuid4().hex}/{_safe_upload_name(original)}", uploaded_file)
    try:
        # A zip of images that cannot be a clip is refused now, not left behind as a failed row.
        with contextlib.suppress(NotImplementedError):
            _check_image_source(Path(default_storage.path(stored)))
    except ServiceError as exc:
        _delete_stored_original(stored)
        raise ServiceError(exc.message, field="file") from exc
    try:
        video = Video.objects.create(
            project=project,
            name=(name or original)[:255],
            source=original[:1000],
            source_file=stored,
            status=VideoStatus.QUEUED,
            sample_fps=sample_fps,
            max_width=max_width,
            created_by=created_by,
        )
    except BaseException:
        _delete_stored_original(stored)
        raise
    # From here the row owns the stored file: a failed enqueue marks the row failed and removes it.
    _enqueue_ingest(video.id)
    return video


@transaction.atomic
def video_create_from_path(
    *,
    project: Project,
    path: str | Path,
    name: str | None = None,
    sample_fps: float | None = None,
    max_width: int | None = None,
    created_by: User | None = None,
    start_from: Generation | None = None,
) -> Video:
    """Queue the ingest of a server-side video file or folder of images. The path is read, not copied.
    ``start_from``: a trained generation of another clip of the project that pre-labels this one once
    it is ready (its generation 0)."""
    _check_sampling(sample_fps, max_width)
    if start_from is not None and (
        start_from.video.project_id != project.id
        or start_from.status != JobStatus.SUCCEEDED
        or not start_from.checkpoint_path
    ):
        raise ServiceError(
            "Start from a trained generation of a clip of this project.", field="from_generation"
        )
    resolved = import_path_check(path)
    if resolved.is_file():
        _check_size(resolved.stat().st_size, resolved.name)
    _check_image_source(resolved)
    video = Video.objects.create(
        project=project,
        name=(name or resolved.name)[:255],
        source=str(resolved)[:1000],
        status=VideoStatus.QUEUED,
        sample_fps=sample_fps,
        max_width=max_width,
        created_by=created_by,
        start_from=start_from,
    )
    _enqueue_ingest(video.id)
    return video


def _check_image_source(path: Path) -> None:
    """A folder or zip of images that cannot become a clip (no pictures, too many, a bad first
    picture) is refused here, before its row exists; video files are checked by the ingest."""
    if not (path.is_dir() or zipfile.is_zipfile(path)):
        return
    try:
        image_source_check(path, limits=_limits())
    except IngestError as exc:
        raise ServiceError(str(exc), field="path") from exc


# -- ingest -----------------------------------------------------------------------------------------


@dataclass
class _Attempt:
    """One run of an ingest, fenced by the ``ingest_started_at`` it wrote when it claimed the row.

    A redelivered task can start a second attempt while the first still runs. The later claim takes
    the row over; every write after that (progress, frames, ready, failed) applies only while the row
    is still ``ingesting`` with this attempt's token, so an attempt that lost the row cannot undo
    the work of the one that holds it, nor of one that already made the clip ready.
    """

    video_id: int
    token: datetime

    def owned(self) -> models.QuerySet[Video]:
        return Video.objects.filter(
            pk=self.video_id, status=VideoStatus.INGESTING, ingest_started_at=self.token
        )


def video_ingest(*, video_id: int) -> None:
    """Decode the clip of a queued video into Frame rows and images; never raises for bad input.

    A row found in ``ingesting`` belongs to an attempt whose worker died (the task is acknowledged
    only when it ends), or to one still running when the message was redelivered: it is claimed and
    started again from scratch, and the older attempt's writes no longer apply. Ready and failed rows
    are left alone.
    """
    token = timezone.now()
    started = Video.objects.filter(
        pk=video_id, status__in=[VideoStatus.QUEUED, VideoStatus.INGESTING]
    ).update(
        status=VideoStatus.INGESTING,
        error="",
        frames_done=0,
        frames_total=0,
        ingest_started_at=token,
        ingest_finished_at=None,
        attempts=F("attempts") + 1,
        heartbeat_at=token,
        updated_at=timezone.now(),
    )
    video = Video.objects.filter(pk=video_id).first() if started else None
    if video is None:
        log.info("video %s: not queued for ingest (missing, ready or failed); left alone", video_id)
        return
    attempt = _Attempt(video_id=video.id, token=token)
    with transaction.atomic():
        # Frames from an earlier attempt that did not finish, unless another attempt claimed the row since.
        if attempt.owned().select_for_update().exists():
            _delete_frames(video.id)
    began = time.monotonic()
    concluded = False
    try:
        with job_heartbeat(INGEST_JOB, video.id):
            frame_count = _decode_and_store(video, attempt)
    except _RowLost:
        _abandon(attempt, video.source_file)
    except (IngestError, ServiceError) as exc:
        concluded = _fail(attempt, str(exc))
    except Exception as exc:
        log.exception("video %s: ingest crashed", video.id)
        concluded = _fail(attempt, f"Ingest failed unexpectedly ({exc.__class__.__name__}: {exc}).")
    else:
        concluded = True
        log.info("video %s: ready, %d frames in %.1f s", video.id, frame_count, time.monotonic() - began)
        _start_from_after_ingest(video.id)
    finally:
        # The upload is still being read by the attempt that holds the row; it removes it when it ends.
        if concluded and video.source_file:
            _delete_stored_original(video.source_file)
            Video.objects.filter(pk=video.id).update(source_file="")


def _start_from_after_ingest(video_id: int) -> None:
    """A clip imported to start from another clip's model is pre-labeled by it now it is ready; a
    refusal (that generation was deleted meanwhile) is logged and leaves the clip as any new clip."""
    video = Video.objects.select_related("start_from__video").get(id=video_id)
    if video.start_from is None:
        return
    try:
        generation_start_from(video=video, source=video.start_from)
    except ServiceError as exc:
        log.warning(
            "video %s: could not start from generation %s: %s", video.id, video.start_from_id, exc.message
        )


@contextmanager
def _local_source(video: Video) -> Iterator[Path]:
    """A local path of the clip to decode: the import path, or the stored upload."""
    if not video.source_file:
        yield import_path_check(video.source)
        return
    try:
        local_path: str | None = default_storage.path(video.source_file)
    except NotImplementedError:  # a remote storage: decode from a local copy
        local_path = None
    if local_path is not None:
        yield Path(local_path)
    else:
        with tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
            local = Path(tmp) / Path(video.source_file).name
            with default_storage.open(video.source_file, "rb") as remote, local.open("wb") as out:
                shutil.copyfileobj(remote, out, length=1024 * 1024)
            yield local


def _decode_and_store(video: Video, attempt: _Attempt) -> int:
    limits = _limits()
    sampling = Sampling(fps=video.sample_fps, max_width=video.max_width)
    with _local_source(video) as path:
        # Messages name the clip as its sender did; a folder's entries must stay inside the import roots.
        display = Path(video.source.replace("\\", "/")).name or video.name
        clip = open_source(path, limits=limits, name=display, roots=settings.ANNOTATE_IMPORT_ROOTS)
        try:
            frames = _store_frames(video, clip, sampling, limits, attempt)
        finally:
            clip.close()
    info = clip.info
    width, height = output_size(info.width, info.height, sampling.max_width)
    fps = min(info.fps, sampling.fps) if sampling.fps else info.fps
    with transaction.atomic():
        # The row first: its lock orders this against a competing attempt's claim or finish.
        finished = attempt.owned().update(
            status=VideoStatus.READY,
            fps=fps,
            width=width,
            height=height,
            frame_count=len(frames),
            frames_done=len(frames),
            frames_total=len(frames),
            ingest_finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not finished:
            raise _RowLost()
        Frame.objects.bulk_create(frames, batch_size=500)
    return len(frames)


def _store_frames(
    video: Video, clip: Source, sampling: Sampling, limits: Limits, attempt: _Attempt
) -> list[Frame]:
    estimate = estimate_output_frames(clip.info, sampling)
    if estimate > limits.max_frames:
        raise IngestError(
            f"The clip has about {estimate} frames, over the limit of {limits.max_frames} frames "
            "(sample it at a lower fps)."
        )
    _progress(attempt, 0, estimate)
    frames: list[Frame] = []
    reported = time.monotonic()
    for decoded in sample(clip.frames(), source_fps=clip.info.fps, fps=sampling.fps):
        index = len(frames)
        if index >= limits.max_frames:
            raise IngestError(f"The clip has more than {limits.max_frames} frames, the limit.")
        data = encode_jpeg(resize(decoded.image, sampling.max_width))
        name = default_storage.save(f"frames/{video.id}/{index:06d}.jpg", ContentFile(data))
        frames.append(
            Frame(
                video_id=video.id,
                index=index,
                timestamp=decoded.timestamp,
                image=name,
                sha256=hashlib.sha256(data).hexdigest(),
                original_name=decoded.name[:255],
                source_index=decoded.source_index,
            )
        )
        if time.monotonic() - reported >= PROGRESS_INTERVAL_SECONDS:
            _progress(attempt, len(frames), max(estimate, len(frames)))
            reported = time.monotonic()
    return frames


class _RowLost(Exception):
    """This attempt no longer holds its clip: deleted, or claimed by a newer attempt."""


def _progress(attempt: _Attempt, done: int, total: int) -> None:
    # Every report doubles as the check that the clip is still ours: deleting it cancels the ingest.
    if not attempt.owned().update(frames_done=done, frames_total=total, updated_at=timezone.now()):
        raise _RowLost()


def _abandon(attempt: _Attempt, source_file: str) -> None:
    """Stop an attempt that lost its clip; if the clip was deleted, remove what the attempt wrote.

    The deletion removes the frames folder when it commits, but this attempt may have stored more
    images since: whichever of the two finishes last leaves nothing behind.
    """
    if Video.objects.filter(pk=attempt.video_id).exists():
        log.warning("video %s: superseded ingest attempt stopped", attempt.video_id)
        return
    _delete_folder(f"frames/{attempt.video_id}")
    if source_file:
        _delete_stored_original(source_file)
    log.info("video %s: deleted while ingesting; the ingest stopped and removed its files", attempt.video_id)


def _fail(attempt: _Attempt, message: str) -> bool:
    """Mark the clip failed if this attempt still holds it, and remove what the attempt stored.

    Returns whether it did. An attempt that lost the row (to a newer attempt, to a finished ingest,
    to a deletion) deletes nothing: the frames folder belongs to the attempt that holds the row. Its
    own images there (stored under names the storage kept apart) go when that attempt fails or when
    the clip is deleted.
    """
    failed = attempt.owned().update(
        status=VideoStatus.FAILED,
        error=message,
        frame_count=0,
        frames_done=0,
        ingest_finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if failed:
        log.warning("video %s: ingest failed: %s", attempt.video_id, message)
        _delete_frames(attempt.video_id)
    else:
        log.warning("video %s: superseded ingest attempt ended: %s", attempt.video_id, message)
    return bool(failed)


def _delete_frames(video_id: int) -> None:
    """Remove every Frame row and stored image of a video (a failed or restarted ingest)."""
    Frame.objects.filter(video_id=video_id).delete()
    _delete_folder(f"frames/{video_id}")


def _delete_stored_original(name: str) -> None:
    default_storage.delete(name)
    _delete_folder(str(Path(name).parent))


def _delete_folder(folder: str) -> None:
    try:
        _, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for file_name in files:
        default_storage.delete(f"{folder}/{file_name}")
    # Remote storages have no folders; a folder someone else put files in is not ours to remove.
    with contextlib.suppress(NotImplementedError, OSError):
        Path(default_storage.path(folder)).rmdir()


@transaction.atomic
def video_ingest_retry(*, video: Video) -> Video:
    """Queue a failed clip's ingest again, from the same source.

    A server-side import is read again from its path. An upload's stored file is removed when its
    ingest fails (it may be large and is usually the cause), so a failed upload cannot be retried:
    the message says to upload the file again (or delete the clip)."""
    locked = Video.objects.select_for_update().get(pk=video.pk)
    if locked.status != VideoStatus.FAILED:
        raise ConflictError(f"Only a failed clip can be retried; this one is {locked.status}.")
    if locked.source_file:
        pass  # still stored: an upload that failed before its ingest began
    elif Path(locked.source).is_absolute():
        import_path_check(locked.source)  # a server-side import: still there, still allowed
    else:
        raise ConflictError(
            "The uploaded file was removed when its ingest failed; upload it again, then delete this clip."
        )
    Video.objects.filter(pk=locked.pk).update(
        status=VideoStatus.QUEUED,
        error="",
        frames_done=0,
        frames_total=0,
        ingest_started_at=None,
        ingest_finished_at=None,
        heartbeat_at=None,
        attempts=0,
        updated_at=timezone.now(),
    )
    _enqueue_ingest(locked.pk)
    locked.refresh_from_db()
    return locked


# -- a dead worker's ingest (annotate.jobs) ----------------------------------------------------------


def _requeue_lost(video: Video) -> None:
    Video.objects.filter(pk=video.pk).update(
        status=VideoStatus.QUEUED, heartbeat_at=None, frames_done=0, updated_at=timezone.now()
    )


def _give_up_lost(video: Video, message: str) -> None:
    Frame.objects.filter(video_id=video.pk).delete()
    Video.objects.filter(pk=video.pk).update(
        status=VideoStatus.FAILED,
        error=message,
        frame_count=0,
        frames_done=0,
        source_file="",
        heartbeat_at=None,
        ingest_finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    source_file = video.source_file

    def remove() -> None:
        _delete_folder(f"frames/{video.pk}")
        if source_file:
            _delete_stored_original(source_file)

    transaction.on_commit(remove)


INGEST_JOB = job_kind_register(
    JobKind(
        label="ingest",
        model=Video,
        running=VideoStatus.INGESTING,
        task="annotate.video_ingest",
        queue="cpu",
        max_attempts=lambda: settings.ANNOTATE_JOB_MAX_ATTEMPTS,
        requeue=_requeue_lost,
        give_up=_give_up_lost,
    )
)
