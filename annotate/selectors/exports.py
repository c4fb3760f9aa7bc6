"""Export reads: the job rows, and the rows an export writes (a project's or one clip's frames,
boxes, classes and clips).

The filter (which boxes count, which frames are written) and the order (clip, frame index, box id)
live here once, so COCO, YOLO, MOT, CVAT and VOC write the same set; the writers in annotate.exchange
take the plain rows (annotate.exchange.rows) these functions yield and never read the database.
Frames and boxes are streamed in chunks (``iterator(chunk_size=CHUNK)``): memory stays bounded
however many boxes a project has.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db.models import Exists, OuterRef, Q, QuerySet
from PIL import Image

from annotate.errors import NotFoundError
from annotate.exchange.rows import BoxRow, ClipInfo, ExportFilter, FrameRow, FrameSet, frames_with_boxes
from annotate.models import Box, ExportJob, Frame, LabelClass, Project, ReviewState, Video, VideoStatus
from annotate.selectors.frames import finished_frames_q

CHUNK = 2000


def export_job_list(*, project: Project) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(project=project).order_by("-created_at", "-id")


def export_job_get_for_user(*, user: User, job_id: int) -> ExportJob:
    """The export, when the user is a member of its project; NotFoundError (404) otherwise."""
    job = ExportJob.objects.filter(id=job_id, project__memberships__user_id=user.pk).first()
    if job is None:
        raise NotFoundError("No such export.")
    return job


def export_videos(*, project_id: int, flt: ExportFilter) -> QuerySet[Video]:
    videos = Video.objects.filter(project_id=project_id, status=VideoStatus.READY)
    if flt.video_id is not None:
        videos = videos.filter(id=flt.video_id)
    return videos.order_by("id")


def _clip_frames(*, project_id: int, flt: ExportFilter) -> QuerySet[Frame]:
    frames = Frame.objects.filter(video__project_id=project_id, video__status=VideoStatus.READY)
    if flt.video_id is not None:
        frames = frames.filter(video_id=flt.video_id)
    return frames


def _passing(boxes: QuerySet[Box], flt: ExportFilter) -> QuerySet[Box]:
    pending = Q(review_state=ReviewState.PENDING)
    if not flt.include_predictions:
        return boxes.exclude(pending)
    if flt.min_score is not None:
        return boxes.exclude(pending & (Q(score__lt=flt.min_score) | Q(score__isnull=True)))
    return boxes


def export_frames(*, project_id: int, flt: ExportFilter) -> QuerySet[Frame]:
    frames = _clip_frames(project_id=project_id, flt=flt)
    if flt.frames == FrameSet.REVIEWED:
        frames = frames.filter(finished_frames_q())
    elif flt.frames == FrameSet.LABELED:
        leaving = _passing(Box.objects.filter(frame_id=OuterRef("pk")), flt)
        frames = frames.filter(finished_frames_q() | Q(Exists(leaving)))
    return frames


def export_boxes(*, project_id: int, flt: ExportFilter) -> QuerySet[Box]:
    return _passing(Box.objects.filter(frame__in=export_frames(project_id=project_id, flt=flt)), flt)


def export_redact_boxes(*, project_id: int, flt: ExportFilter, classes: tuple[str, ...]) -> QuerySet[Box]:
    """The boxes a redacted video hides: those of the chosen classes that pass the filter, except
    boxes of an object that has left the view (they mark where it was last, not where it is)."""
    boxes = export_boxes(project_id=project_id, flt=flt)
    return boxes.filter(label_class__name__in=classes, outside=False)


def export_classes(*, project_id: int) -> list[tuple[int, str]]:
    """(index, name) of the project's classes in index order."""
    return list(
        LabelClass.objects.filter(project_id=project_id).order_by("index").values_list("index", "name")
    )


def export_clips(*, project_id: int, flt: ExportFilter) -> dict[int, ClipInfo]:
    clips: dict[int, ClipInfo] = {}
    for video in export_videos(project_id=project_id, flt=flt):
        width, height = video.width, video.height
        if not width or not height:
            width, height = _size_from_first_frame(video)
        numbers, source_fps = _source_numbers(video)
        clips[video.id] = ClipInfo(
            video.id, video.name, width, height, video.fps, video.frame_count, numbers, source_fps
        )
    return clips


def _source_numbers(video: Video) -> tuple[tuple[int, ...], float | None]:
    rows = list(
        Frame.objects.filter(video=video).order_by("index").values_list("index", "source_index", "timestamp")
    )
    numbers = tuple(index if source is None else source for index, source, _t in rows)
    if numbers == tuple(range(len(numbers))):
        return (), None
    # The source's rate from the last frame kept: its number over its time.
    _index, source, timestamp = rows[-1]
    fps = round(source / timestamp, 3) if source and timestamp > 0 else None
    return numbers, fps


def _size_from_first_frame(video: Video) -> tuple[int, int]:
    frame = Frame.objects.filter(video=video).order_by("index").first()
    if frame is None:
        return 0, 0
    with default_storage.open(frame.image, "rb") as handle, Image.open(handle) as picture:
        return picture.size


def iter_frames(*, project_id: int, flt: ExportFilter) -> Iterator[FrameRow]:
    rows = (
        export_frames(project_id=project_id, flt=flt)
        .order_by("video_id", "index")
        .values_list("id", "video_id", "index", "image")
    )
    for row in rows.iterator(chunk_size=CHUNK):
        yield FrameRow(*row)


def iter_boxes(*, project_id: int, flt: ExportFilter) -> Iterator[BoxRow]:
    rows = (
        export_boxes(project_id=project_id, flt=flt)
        .order_by("frame__video_id", "frame__index", "id")
        .values_list(
            "id",
            "frame_id",
            "frame__video_id",
            "frame__index",
            "label_class__index",
            "track_id",
            "x",
            "y",
            "w",
            "h",
            "source",
            "generation__number",
            "score",
            "occluded",
            "outside",
        )
    )
    for row in rows.iterator(chunk_size=CHUNK):
        yield BoxRow(*row)


def iter_frames_with_boxes(*, project_id: int, flt: ExportFilter) -> Iterator[tuple[FrameRow, list[BoxRow]]]:
    """Every exported frame with its boxes, one frame's boxes at a time (see frames_with_boxes)."""
    return frames_with_boxes(
        iter_frames(project_id=project_id, flt=flt), iter_boxes(project_id=project_id, flt=flt)
    )
