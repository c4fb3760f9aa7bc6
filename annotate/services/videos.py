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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from annotate.errors import ServiceError
from annotate.ingest import (
    Clip,
    IngestError,
    Limits,
    Sampling,
    encode_jpeg,
    estimate_output_frames,
    open_clip,
    output_size,
    resize,
    sample,
)
from annotate.models import Frame, Project, Video, VideoStatus

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
    from annotate.tasks import video_ingest_task  # tasks import this module

    transaction.on_commit(lambda: video_ingest_task.delay(video_id))


def _safe_upload_name(original: str) -> str:
    candidate = Path(original.replace("\\", "/")).name
    try:
        safe = get_valid_filename(candidate)
    except Exception:  # "" or "..": nothing usable is left of the name
        safe = "upload"
    stem, suffix = Path(safe).stem, Path(safe).suffix
    return f"{stem[:150] or 'upload'}{suffix[:16]}"


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
        _check_size(default_storage.size(stored), original)
        with transaction.atomic():
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
            _enqueue_ingest(video.id)
    except BaseException:
        _delete_stored_original(stored)
        raise
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
) -> Video:
    """Queue the ingest of a server-side video file or folder of images. The path is read, not copied."""
    _check_sampling(sample_fps, max_width)
    resolved = import_path_check(path)
    if resolved.is_file():
        _check_size(resolved.stat().st_size, resolved.name)
    video = Video.objects.create(
        project=project,
        name=(name or resolved.name)[:255],
        source=str(resolved)[:1000],
        status=VideoStatus.QUEUED,
        sample_fps=sample_fps,
        max_width=max_width,
        created_by=created_by,
    )
    _enqueue_ingest(video.id)
    return video


# -- ingest -----------------------------------------------------------------------------------------


def video_ingest(*, video_id: int) -> None:
    """Decode the clip of a queued video into Frame rows and images; never raises for bad input.

    A row found in ``ingesting`` belongs to an attempt whose worker died (the task is acknowledged
    only when it ends), so it is started again from scratch. Ready and failed rows are left alone.
    """
    started = Video.objects.filter(
        pk=video_id, status__in=[VideoStatus.QUEUED, VideoStatus.INGESTING]
    ).update(
        status=VideoStatus.INGESTING,
        error="",
        frames_done=0,
        frames_total=0,
        ingest_started_at=timezone.now(),
        ingest_finished_at=None,
        updated_at=timezone.now(),
    )
    if not started:
        log.info("video %s: not queued for ingest (missing, ready or failed); left alone", video_id)
        return
    video = Video.objects.get(pk=video_id)
    _delete_frames(video.id)  # from an earlier attempt that did not finish
    began = time.monotonic()
    try:
        frame_count = _decode_and_store(video)
    except (IngestError, ServiceError) as exc:
        _fail(video, str(exc))
    except Exception as exc:
        log.exception("video %s: ingest crashed", video.id)
        _fail(video, f"Ingest failed unexpectedly ({exc.__class__.__name__}: {exc}).")
    else:
        log.info("video %s: ready, %d frames in %.1f s", video.id, frame_count, time.monotonic() - began)
    finally:
        if video.source_file:
            _delete_stored_original(video.source_file)
            Video.objects.filter(pk=video.id).update(source_file="")


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


def _decode_and_store(video: Video) -> int:
    limits = _limits()
    sampling = Sampling(fps=video.sample_fps, max_width=video.max_width)
    with _local_source(video) as path:
        clip = open_clip(path, limits=limits)
        try:
            frames = _store_frames(video, clip, sampling, limits)
        finally:
            clip.close()
    info = clip.info
    width, height = output_size(info.width, info.height, sampling.max_width)
    fps = min(info.fps, sampling.fps) if sampling.fps else info.fps
    with transaction.atomic():
        Frame.objects.bulk_create(frames, batch_size=500)
        finished = Video.objects.filter(pk=video.id, status=VideoStatus.INGESTING).update(
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
            raise IngestError("The clip was changed or deleted while it was being ingested.")
    return len(frames)


def _store_frames(video: Video, clip: Clip, sampling: Sampling, limits: Limits) -> list[Frame]:
    estimate = estimate_output_frames(clip.info, sampling)
    if estimate > limits.max_frames:
        raise IngestError(
            f"The clip has about {estimate} frames, over the limit of {limits.max_frames} frames "
            "(sample it at a lower fps)."
        )
    _progress(video.id, 0, estimate)
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
            )
        )
        if time.monotonic() - reported >= PROGRESS_INTERVAL_SECONDS:
            _progress(video.id, len(frames), max(estimate, len(frames)))
            reported = time.monotonic()
    return frames


def _progress(video_id: int, done: int, total: int) -> None:
    Video.objects.filter(pk=video_id, status=VideoStatus.INGESTING).update(
        frames_done=done, frames_total=total, updated_at=timezone.now()
    )


def _fail(video: Video, message: str) -> None:
    log.warning("video %s: ingest failed: %s", video.id, message)
    _delete_frames(video.id)
    Video.objects.filter(pk=video.id, status=VideoStatus.INGESTING).update(
        status=VideoStatus.FAILED,
        error=message,
        frame_count=0,
        frames_done=0,
        ingest_finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


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
