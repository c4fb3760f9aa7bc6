"""What leaves an export: the frame and box rows of a project (or one clip), streamed in order.

Every writer reads through here, so the filter (which boxes count) and the order (clip, frame index,
box id) are the same in COCO, YOLO and MOT, and the box count of an export always equals
``export_boxes(...).count()`` for the same filter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Q, QuerySet

from annotate.models import Box, Frame, LabelClass, ReviewState, Video, VideoStatus

CHUNK = 2000


class FrameSet:
    """Which frames an export writes. Every written frame is a claim that its boxes are all the
    objects on it (a frame without boxes is a negative), so the default is the frames people finished.
    """

    REVIEWED = "reviewed"  # frames people finished (Frame.reviewed_at); the default
    LABELED = "labeled"  # finished frames plus any frame with at least one box that leaves
    ALL = "all"  # every frame; unlabeled ones become negatives

    CHOICES = (REVIEWED, LABELED, ALL)


@dataclass(frozen=True)
class ExportFilter:
    """Which boxes leave. By default human boxes and reviewed predictions (review_state != pending).

    ``min_score`` drops pending predictions scoring below it; boxes a person made or vouched for
    always pass. ``frames`` picks the frames written (see FrameSet).
    """

    video_id: int | None = None
    include_predictions: bool = False
    min_score: float | None = None
    frames: str = FrameSet.REVIEWED


class FrameRow(NamedTuple):
    id: int
    video_id: int
    frame_index: int
    image: str


class BoxRow(NamedTuple):
    id: int
    frame_id: int
    video_id: int
    frame_index: int
    class_index: int
    track_id: int | None
    x: float
    y: float
    w: float
    h: float
    source: str
    generation: int | None
    score: float | None
    occluded: bool = False  # track flags (CVAT/MOT): hidden behind something / left the view
    outside: bool = False


@dataclass(frozen=True)
class ClipInfo:
    id: int
    name: str
    width: int
    height: int
    fps: float | None
    frame_count: int
    # By index, the frame's number in the source (Frame.source_index); empty when they are the same.
    # Frame numbers in MOT, CVAT for video and COCO frame_index are written in this numbering, the
    # one imports read them in (annotate.exchange.matching).
    source_numbers: tuple[int, ...] = ()
    source_fps: float | None = None  # the source's rate, when the clip was sampled

    def number(self, index: int) -> int:
        """The frame number a file writes for the clip's frame ``index`` (0-based)."""
        if self.source_numbers and 0 <= index < len(self.source_numbers):
            return self.source_numbers[index]
        return index

    @property
    def number_count(self) -> int:
        """Frames of the source up to the last frame kept (the clip's frame count when unsampled)."""
        return self.number(self.frame_count - 1) + 1 if self.frame_count else 0


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
        frames = frames.filter(reviewed_at__isnull=False)
    elif flt.frames == FrameSet.LABELED:
        leaving = _passing(Box.objects.filter(frame_id=OuterRef("pk")), flt)
        frames = frames.filter(Q(reviewed_at__isnull=False) | Q(Exists(leaving)))
    return frames


def export_boxes(*, project_id: int, flt: ExportFilter) -> QuerySet[Box]:
    return _passing(Box.objects.filter(frame__in=export_frames(project_id=project_id, flt=flt)), flt)


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
    from django.core.files.storage import default_storage
    from PIL import Image

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
    """Every exported frame with its boxes: a merge of two ordered streams, one frame's boxes at a time."""
    boxes = iter_boxes(project_id=project_id, flt=flt)
    pending = next(boxes, None)
    for frame in iter_frames(project_id=project_id, flt=flt):
        on_frame: list[BoxRow] = []
        while pending is not None and pending.frame_id == frame.id:
            on_frame.append(pending)
            pending = next(boxes, None)
        yield frame, on_frame
    if pending is not None:
        raise RuntimeError("box and frame streams disagree on order; export aborted")


def frame_file_name(frame: FrameRow) -> str:
    """The exported name of a frame picture: ``v<clip id>_<index, 6 digits><stored suffix>``.

    Imports read the ``v<id>_<index>`` pattern back as the 0-based index, see annotate.exchange.matching.
    """
    suffix = PurePosixPath(frame.image).suffix.lower() or ".jpg"
    return f"v{frame.video_id}_{frame.frame_index:06d}{suffix}"
