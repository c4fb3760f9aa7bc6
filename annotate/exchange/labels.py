"""Plain label items read from a file, before they are matched to a clip's frames and classes.

Readers (coco, yolo, mot, cvat, label_studio, voc) turn a file into ``ParsedLabels``; they know nothing
of the database. How a frame reference becomes a frame of the clip is annotate.exchange.matching.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class LabelItem:
    where: str  # how an error names it: "annotation 17", "labels/train/v3_000002.txt line 2"
    label: str | int | None  # class name, a project class index, or None (MOT ids without a class)
    x: float
    y: float
    w: float
    h: float
    # The frame: a picture name to match, an explicit 0-based index the file gives (COCO
    # frame_index/frame_id, CVAT frame, MOT frame - 1), or a frame id of the platform's own COCO export.
    frame_name: str | None = None
    frame_index: int | None = None
    frame_pk: int | None = None
    track: str | None = None
    score: float | None = None
    occluded: bool = False
    # YOLO, Label Studio: x, y, w, h are fractions of the frame size (x, y still the top-left corner).
    normalized: bool = False
    # The picture size the file's pixel coordinates refer to (COCO images[].width/height, VOC size).
    image_size: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class FrameRef:
    """A frame the file names, with or without boxes: the frames a replace import is the truth for."""

    name: str | None = None
    index: int | None = None
    pk: int | None = None


@dataclass
class ParsedLabels:
    items: list[LabelItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Clip ids named in the file (COCO video_id, the v<id>_ prefix): one import is one clip.
    clip_keys: set[str] = field(default_factory=set)
    # Frames the file names that hold no box (YOLO empty label files, COCO images without annotations).
    empty_frames: list[FrameRef] = field(default_factory=list)
    # What the reader left out on purpose, by reason ("MOT rows marked ignore": 12), for the report.
    skipped: dict[str, int] = field(default_factory=dict)
    # What the reader did that the user should know (scores rescaled), for the report.
    notes: list[str] = field(default_factory=list)
    # The file is detector output (a COCO results list): it imports as predictions.
    predictions: bool = False

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def frame_refs(self) -> list[FrameRef]:
        refs = [FrameRef(i.frame_name, i.frame_index, i.frame_pk) for i in self.items]
        return refs + self.empty_frames
