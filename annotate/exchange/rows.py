"""What leaves an export, as plain rows: frames, boxes, clips and the filter that picks them.

No database here: annotate.selectors.exports reads these rows (streamed in order: clip, frame index,
box id) and the writers of annotate.exchange take them, so a writer runs on rows built by hand as
well as on a project's. The box count of an export always equals the selector's
``export_boxes(...).count()`` for the same filter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple


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


def frames_with_boxes(
    frames: Iterable[FrameRow], boxes: Iterable[BoxRow]
) -> Iterator[tuple[FrameRow, list[BoxRow]]]:
    """Every frame with its boxes: a merge of two streams in the same order (clip, frame index),
    one frame's boxes held at a time. A box whose frame is not in ``frames`` aborts the export."""
    stream = iter(boxes)
    pending = next(stream, None)
    for frame in frames:
        on_frame: list[BoxRow] = []
        while pending is not None and pending.frame_id == frame.id:
            on_frame.append(pending)
            pending = next(stream, None)
        yield frame, on_frame
    if pending is not None:
        raise RuntimeError("box and frame streams disagree on order; export aborted")


def frame_file_name(frame: FrameRow) -> str:
    """The exported name of a frame picture: ``v<clip id>_<index, 6 digits><stored suffix>``.

    Imports read the ``v<id>_<index>`` pattern back as the 0-based index, see annotate.exchange.matching.
    """
    suffix = PurePosixPath(frame.image).suffix.lower() or ".jpg"
    return f"v{frame.video_id}_{frame.frame_index:06d}{suffix}"
