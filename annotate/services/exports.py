"""Dataset exports: a job row on the ``cpu`` queue, or the same writer run in-process by the CLI.

The file is written under a temporary name and renamed when complete, so ``ExportJob.file`` (set
only on success) always names a whole file. Progress (items_done / items_total: frames plus boxes
for COCO and YOLO, boxes for MOT, frames for a redacted video) is written on the row while the job runs.

Cancelling stops the writer: each progress report is a guarded update of the running row, and when
it matches nothing (cancelled, superseded or deleted) the report raises ExportCancelled, so the
writer stops at its next chunk and the sink removes its temporary file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from numpy.typing import NDArray

from annotate.errors import ConflictError, ServiceError
from annotate.exchange import coco, cvat, mot, redact, voc, yolo
from annotate.exchange.names import slugify
from annotate.exchange.rows import BoxRow, ExportFilter, FrameRow, FrameSet, frame_file_name
from annotate.exchange.sinks import dir_sink, text_file, video_file, zip_sink
from annotate.jobs import JobKind, enqueue_on_commit, job_claim, job_heartbeat, job_kind_register
from annotate.models import Box, ExportFormat, ExportJob, JobStatus, Project, Video
from annotate.selectors.exports import (
    export_boxes,
    export_classes,
    export_clips,
    export_frames,
    export_redact_boxes,
    iter_boxes,
    iter_frames,
    iter_frames_with_boxes,
)

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
IMAGE_CHUNK = 100  # COCO pictures copied between two progress reports (each one a cancel check)


class ExportCancelled(Exception):
    """The job row is no longer running (cancelled or deleted): stop writing, keep no file."""


@dataclass(frozen=True)
class ExportOptions:
    video: int | None = None
    include_predictions: bool = False
    min_score: float | None = None
    frames: str = FrameSet.REVIEWED  # see FrameSet: finished frames unless asked otherwise
    with_images: bool = False  # COCO: the pictures beside the JSON, in one zip
    split: str = "clip"  # YOLO: "clip" or "frame"
    val_fraction: float = 0.2
    test_fraction: float = 0.0
    seed: int = 0
    classes: tuple[str, ...] = ()  # redact: the classes whose boxes are hidden
    style: str = "blur"  # redact: "blur" or "pixelate"
    block: int = 16  # redact: pixelation block side, and the smallest blur kernel, in pixels

    @property
    def filter(self) -> ExportFilter:
        return ExportFilter(
            video_id=self.video,
            include_predictions=self.include_predictions,
            min_score=self.min_score,
            # A redacted video is every frame of the clip; the boxes that pass decide what is hidden.
            frames=FrameSet.ALL if self.classes else self.frames,
        )

    @property
    def split_options(self) -> yolo.SplitOptions:
        return yolo.SplitOptions(
            by=self.split, val_fraction=self.val_fraction, test_fraction=self.test_fraction, seed=self.seed
        )


_DEFAULT = ExportOptions()


@dataclass
class ExportResult:
    path: Path
    format: str
    images: int
    boxes: int
    extra: dict[str, Any] = field(default_factory=dict)


def export_options_clean(*, project: Project, format: str, options: dict[str, Any]) -> ExportOptions:
    """Checked options (unknown keys, ranges, the clip belongs to the project)."""
    if format not in ExportFormat.values:
        raise ServiceError(f"Format must be one of: {', '.join(ExportFormat.values)}.", field="format")
    options = _legacy_reviewed_only(options)
    known = set(ExportOptions.__dataclass_fields__)
    unknown = set(options) - known
    if unknown:
        raise ServiceError(f"Unknown export options: {', '.join(sorted(unknown))}.")
    try:
        clean = ExportOptions(**{k: _coerce(k, v) for k, v in options.items() if v is not None})
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"Bad export option: {exc}") from exc
    if clean.video is not None and not Video.objects.filter(id=clean.video, project=project).exists():
        raise ServiceError("No such video in this project.", field="video")
    if clean.min_score is not None and not (math.isfinite(clean.min_score) and 0 <= clean.min_score <= 1):
        raise ServiceError("min_score must be between 0 and 1.", field="min_score")
    if clean.frames not in FrameSet.CHOICES:
        raise ServiceError(f"frames must be one of: {', '.join(FrameSet.CHOICES)}.", field="frames")
    if clean.split not in yolo.SPLIT_BY:
        raise ServiceError("split must be 'clip' or 'frame'.", field="split")
    for name in ("val_fraction", "test_fraction"):
        value = getattr(clean, name)
        if not (math.isfinite(value) and 0 <= value < 1):
            raise ServiceError(f"{name} must be at least 0 and below 1.", field=name)
    if clean.val_fraction + clean.test_fraction >= 1:
        raise ServiceError("val_fraction + test_fraction must leave frames for train.", field="val_fraction")
    if format == ExportFormat.REDACT:
        _check_redact(project, clean)
    elif (clean.classes, clean.style, clean.block) != (_DEFAULT.classes, _DEFAULT.style, _DEFAULT.block):
        raise ServiceError("classes, style and block apply to redacted videos (format redact) only.")
    return clean


def _check_redact(project: Project, clean: ExportOptions) -> None:
    if clean.video is None:
        raise ServiceError("A redacted video is one clip: give the video to redact.", field="video")
    if not clean.classes:
        raise ServiceError("Name the classes to redact (classes: a list of class names).", field="classes")
    known = {name for _index, name in export_classes(project_id=project.id)}
    unknown = sorted(set(clean.classes) - known)
    if unknown:
        raise ServiceError(
            f"No class {', '.join(unknown)} in this project; its classes are: {', '.join(sorted(known))}.",
            field="classes",
        )
    if clean.style not in redact.STYLES:
        raise ServiceError(f"style must be one of: {', '.join(redact.STYLES)}.", field="style")
    if not 2 <= clean.block <= 256:
        raise ServiceError("block must be between 2 and 256 pixels.", field="block")
    if clean.with_images:
        raise ServiceError(
            "A redacted video has no separate images; leave with_images off.", field="with_images"
        )


def _legacy_reviewed_only(options: dict[str, Any]) -> dict[str, Any]:
    """``reviewed_only`` (before ``frames`` existed) still means what it meant: true = finished frames,
    false = every frame. Jobs stored with it keep running; ``frames`` wins when both are given."""
    if "reviewed_only" not in options:
        return options
    rest = {k: v for k, v in options.items() if k != "reviewed_only"}
    if not isinstance(options["reviewed_only"], bool):
        raise ServiceError("reviewed_only must be true or false.", field="reviewed_only")
    rest.setdefault("frames", FrameSet.REVIEWED if options["reviewed_only"] else FrameSet.ALL)
    return rest


_TYPES: dict[str, type] = {
    "video": int,
    "include_predictions": bool,
    "min_score": float,
    "frames": str,
    "with_images": bool,
    "split": str,
    "val_fraction": float,
    "test_fraction": float,
    "seed": int,
    "classes": tuple,
    "style": str,
    "block": int,
}


def _coerce(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    if kind is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of names")
        return tuple(dict.fromkeys(value))
    if kind is bool and not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueError(f"{name} must be a number")
    if kind is str and not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return kind(value)


def export_totals(*, project: Project, format: str, options: ExportOptions) -> tuple[int, int]:
    """(items the progress counts, boxes that will leave)."""
    if format == ExportFormat.REDACT:
        frames = export_frames(project_id=project.id, flt=options.filter).count()
        return frames, _redact_boxes(project, options).count()
    boxes = export_boxes(project_id=project.id, flt=options.filter).count()
    if format in (ExportFormat.MOT, ExportFormat.CVAT):
        return boxes, boxes
    return export_frames(project_id=project.id, flt=options.filter).count() + boxes, boxes


def export_write(
    *,
    project: Project,
    format: str,
    options: ExportOptions,
    target: Path,
    progress: Progress | None = None,
) -> ExportResult:
    """Write an export to ``target``: a ``.zip`` (or a ``.json`` for COCO without images) is one file,
    any other name a folder. Complete or absent: nothing is left at target on failure."""
    report: Progress = progress or (lambda _done: None)
    flt = options.filter
    classes = export_classes(project_id=project.id)
    clips = export_clips(project_id=project.id, flt=flt)
    as_zip = target.suffix.lower() == ".zip"
    common: dict[str, Any] = {"classes": classes, "clips": clips, "progress": report}

    # The selectors stream the rows, the writers write them (annotate.exchange reads no database).
    def frames() -> Iterator[FrameRow]:
        return iter_frames(project_id=project.id, flt=flt)

    def boxes_of(one: ExportFilter = flt) -> Iterator[BoxRow]:
        return iter_boxes(project_id=project.id, flt=one)

    def labeled() -> Iterator[tuple[FrameRow, list[BoxRow]]]:
        return iter_frames_with_boxes(project_id=project.id, flt=flt)

    coco_args: dict[str, Any] = {"project_id": project.id, "project_name": project.name, **common}
    if format == ExportFormat.COCO:
        if not options.with_images and not as_zip:
            with text_file(target) as out:
                images, boxes = coco.write_coco(out, frames=frames(), boxes=boxes_of(), **coco_args)
        else:
            # The layout CVAT writes and Datumaro reads: annotations/instances_default.json, images/default/.
            with _sink(target, as_zip) as sink:
                with sink.text("annotations/instances_default.json") as out:
                    images, boxes = coco.write_coco(out, frames=frames(), boxes=boxes_of(), **coco_args)
                if options.with_images:
                    for copied, frame in enumerate(frames(), 1):
                        sink.copy_media(f"images/default/{frame_file_name(frame)}", frame.image)
                        if copied % IMAGE_CHUNK == 0:
                            report(images + boxes)  # counts are complete already; a cancel check
    elif format == ExportFormat.YOLO:
        with _sink(target, as_zip) as sink:
            images, boxes = yolo.write_yolo(
                sink,
                frames=labeled(),
                split=options.split_options,
                root=None if as_zip else target.resolve(),
                **common,
            )
    elif format == ExportFormat.MOT:
        with _sink(target, as_zip) as sink:
            images, boxes = mot.write_mot(sink, boxes=boxes_of(), **common)
            _write_mot_frames(sink, project=project, options=options, clips=clips, report=report, done=boxes)
    elif format == ExportFormat.CVAT:
        # One CVAT for video file per clip (a CVAT task is one video): at the root for one clip.
        with _sink(target, as_zip) as sink:
            boxes = 0
            for clip in clips.values():
                name = "annotations.xml" if len(clips) == 1 else f"{mot.clip_folder(clip)}/annotations.xml"
                with sink.text(name) as out:
                    one = dataclasses.replace(flt, video_id=clip.id)
                    boxes += cvat.write_cvat_video(
                        out, classes=classes, clip=clip, boxes=boxes_of(one), progress=report
                    )
            images = sum(c.frame_count for c in clips.values())
    elif format == ExportFormat.CVAT_IMAGES:
        with _sink(target, as_zip) as sink:
            with sink.text("annotations.xml") as out:
                images, boxes = cvat.write_cvat_images(out, frames=labeled(), **common)
            if options.with_images:  # CVAT's layout; Datumaro's reader needs the pictures
                for copied, frame in enumerate(frames(), 1):
                    sink.copy_media(f"images/{frame_file_name(frame)}", frame.image)
                    if copied % IMAGE_CHUNK == 0:
                        report(images + boxes)
    elif format == ExportFormat.REDACT:
        images, boxes = _write_redacted(project=project, options=options, target=target, report=report)
    elif format == ExportFormat.VOC:
        with _sink(target, as_zip) as sink:
            images, boxes = voc.write_voc(sink, frames=labeled(), with_images=options.with_images, **common)
    else:
        raise ServiceError(f"Unknown format {format!r}.", field="format")
    return ExportResult(path=target, format=format, images=images, boxes=boxes)


def _write_mot_frames(
    sink: Any, *, project: Project, options: ExportOptions, clips: dict[int, Any], report: Progress, done: int
) -> None:
    """MOT evaluators read every frame up to seqLength as labeled; ``gt/frames.txt`` lists the frames
    this export vouches for (1-based source frame numbers, as in gt.txt), and ``img1/`` holds their
    pictures on request."""
    written: dict[int, list[int]] = {clip_id: [] for clip_id in clips}
    for copied, frame in enumerate(iter_frames(project_id=project.id, flt=options.filter), 1):
        written[frame.video_id].append(clips[frame.video_id].number(frame.frame_index) + 1)
        if options.with_images:
            suffix = Path(frame.image).suffix.lower() or ".jpg"
            sink.copy_media(
                f"{mot.clip_folder(clips[frame.video_id])}/img1/"
                f"{clips[frame.video_id].number(frame.frame_index) + 1:06d}{suffix}",
                frame.image,
            )
            if copied % IMAGE_CHUNK == 0:
                report(done)  # a cancel check
    for clip_id, numbers in written.items():
        text = "".join(f"{n}\n" for n in numbers)
        sink.write_bytes(f"{mot.clip_folder(clips[clip_id])}/gt/frames.txt", text.encode())


def _redact_boxes(project: Project, options: ExportOptions) -> QuerySet[Box]:
    return export_redact_boxes(project_id=project.id, flt=options.filter, classes=options.classes)


def _write_redacted(
    *, project: Project, options: ExportOptions, target: Path, report: Progress
) -> tuple[int, int]:
    clip = export_clips(project_id=project.id, flt=options.filter)[options.video or 0]
    if not clip.fps:
        raise ServiceError("This clip has no frame rate; it cannot be written as a video.")
    rects: dict[int, list[redact.Rect]] = {}
    count = 0
    for frame_id, x, y, w, h in _redact_boxes(project, options).values_list("frame_id", "x", "y", "w", "h"):
        rects.setdefault(frame_id, []).append(redact.Rect(x, y, w, h))
        count += 1

    def frames() -> Iterator[tuple[NDArray[np.uint8], list[redact.Rect]]]:
        for frame in iter_frames(project_id=project.id, flt=options.filter):
            with _open_media(frame.image) as handle:
                data = np.frombuffer(handle.read(), dtype=np.uint8)
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
            if image is None:
                raise ServiceError(f"Frame {frame.frame_index} of the clip cannot be decoded.")
            yield np.asarray(image, dtype=np.uint8), rects.get(frame.id, [])

    with video_file(target) as temp:
        written = redact.write_redacted(
            frames(),
            temp,
            fps=clip.fps,
            width=clip.width,
            height=clip.height,
            style=options.style,
            block=options.block,
            progress=report,
        )
    return written, count


def _open_media(path: str) -> IO[bytes]:
    handle: IO[bytes] = default_storage.open(path, "rb")
    return handle


def _sink(target: Path, as_zip: bool) -> Any:
    return zip_sink(target, open_media=_open_media) if as_zip else dir_sink(target, open_media=_open_media)


def export_file_name(*, project: Project, format: str, options: ExportOptions, job_id: int) -> str:
    suffix = ".json" if format == ExportFormat.COCO and not options.with_images else ".zip"
    if format == ExportFormat.REDACT:
        suffix = ".mp4"
    clip = f"-video{options.video}" if options.video is not None else ""
    return f"{slugify(project.name)[:60] or 'project'}{clip}-{format}-{job_id}{suffix}"


# -- the job ---------------------------------------------------------------------------------------


def _fail_queued(job_id: int, message: str) -> None:
    ExportJob.objects.filter(id=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.FAILED, error=message, finished_at=timezone.now(), updated_at=timezone.now()
    )


@transaction.atomic
def export_job_create(
    *, project: Project, format: str, options: dict[str, Any], created_by: User | None = None
) -> ExportJob:
    """A queued export; the worker picks it up once this transaction commits."""
    clean = export_options_clean(project=project, format=format, options=options)
    job = ExportJob.objects.create(
        project=project,
        video_id=clean.video,
        format=format,
        options=asdict(clean),
        created_by=created_by,
    )
    enqueue_on_commit(
        EXPORT_JOB.task,
        job.id,
        queue=EXPORT_JOB.queue,
        on_failure=lambda message: _fail_queued(job.id, message),
        what="the export",
    )
    return job


def _claim(job_id: int) -> ExportJob | None:
    # A redelivered job starts over: the old temporary file was never renamed (annotate.jobs.job_claim).
    return (
        ExportJob.objects.select_related("project").get(id=job_id) if job_claim(ExportJob, job_id) else None
    )


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Run a queued export to its file under MEDIA_ROOT/exports/; failures end on the row."""
    job = _claim(job_id)
    if job is None:
        log.info("export %s is not queued; nothing to do", job_id)
        return None
    log.info("export %s attempt %s running in process %s", job.id, job.attempts, os.getpid())
    try:
        options = export_options_clean(project=job.project, format=job.format, options=job.options)
        total, _boxes = export_totals(project=job.project, format=job.format, options=options)
        ExportJob.objects.filter(id=job.id).update(items_total=total)
        name = export_file_name(project=job.project, format=job.format, options=options, job_id=job.id)
        relative = f"exports/{job.id}/{name}"

        def progress(done: int) -> None:
            updated = ExportJob.objects.filter(id=job.id, status=JobStatus.RUNNING).update(
                items_done=done, updated_at=timezone.now()
            )
            if not updated:
                raise ExportCancelled

        with job_heartbeat(EXPORT_JOB, job.id):
            result = export_write(
                project=job.project,
                format=job.format,
                options=options,
                target=Path(settings.MEDIA_ROOT) / relative,
                progress=progress,
            )
    except ExportCancelled:
        # The sink removed its temporary file; the row already says cancelled (or is gone).
        log.info("export %s was cancelled while writing; stopped", job_id)
        _remove_empty_folder(Path(settings.MEDIA_ROOT) / f"exports/{job.id}")
        return ExportJob.objects.filter(id=job.id).first()
    except Exception as exc:
        log.exception("export %s failed", job_id)
        message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        ExportJob.objects.filter(id=job.id, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=message, finished_at=timezone.now(), updated_at=timezone.now()
        )
        return ExportJob.objects.filter(id=job.id).first()  # None once deleted with its project
    finished = ExportJob.objects.filter(id=job.id, status=JobStatus.RUNNING).update(
        status=JobStatus.SUCCEEDED,
        file=relative,
        items_done=total,
        box_count=result.boxes,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if not finished:
        # Cancelled or deleted while writing: the file has no row to point at it.
        (Path(settings.MEDIA_ROOT) / relative).unlink(missing_ok=True)
        _remove_empty_folder(Path(settings.MEDIA_ROOT) / f"exports/{job.id}")
        return ExportJob.objects.filter(id=job.id).first()
    job.refresh_from_db()
    return job


def _remove_empty_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # absent, or holds something else
        folder.rmdir()


@transaction.atomic
def export_job_cancel(*, job: ExportJob) -> ExportJob:
    """Cancel a queued or running export; a finished one is left as it is (409)."""
    cancelled = ExportJob.objects.filter(id=job.id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now()
    )
    if not cancelled:
        raise ConflictError(f"This export has already {job.status}.")
    job.refresh_from_db()
    return job


def export_job_path(*, job: ExportJob) -> Path:
    """The finished file on disk; ConflictError while the export is not (or no longer) available."""
    if job.status != JobStatus.SUCCEEDED or not job.file:
        raise ConflictError(f"This export is {job.status}; there is no file to download.")
    path = Path(settings.MEDIA_ROOT) / job.file
    if not path.is_file():
        raise ConflictError("The export file is gone; start a new export.")
    return path


# -- a dead worker's export (annotate.jobs) ----------------------------------------------------------


def _requeue_lost(job: ExportJob) -> None:
    ExportJob.objects.filter(id=job.id).update(
        status=JobStatus.QUEUED, heartbeat_at=None, items_done=0, updated_at=timezone.now()
    )
    # Runs before the task is sent again (on_commit keeps order): the dead attempt's temporary file.
    folder = Path(settings.MEDIA_ROOT) / f"exports/{job.id}"
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))


def _give_up_lost(job: ExportJob, message: str) -> None:
    ExportJob.objects.filter(id=job.id).update(
        status=JobStatus.FAILED, error=message, file="", finished_at=timezone.now(), updated_at=timezone.now()
    )
    # The dead attempt's temporary file was never renamed into place; its folder holds nothing else.
    folder = Path(settings.MEDIA_ROOT) / f"exports/{job.id}"
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))


EXPORT_JOB = job_kind_register(
    JobKind(
        label="export",
        model=ExportJob,
        running=JobStatus.RUNNING,
        task="annotate.export_run",
        queue="cpu",
        max_attempts=lambda: settings.ANNOTATE_JOB_MAX_ATTEMPTS,
        requeue=_requeue_lost,
        give_up=_give_up_lost,
    )
)
