"""Plain data that crosses the boundary between the platform and the engine.

The Django side converts rows into these (in one adapter module) and stores what comes back; the
engine never sees a database row, and imports nothing from Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

BoxSourceName = Literal["human", "detector", "tracker", "interpolation", "fused"]


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in pixels of the frame image; (x, y) is the top-left corner."""

    x: float
    y: float
    w: float
    h: float
    label: int  # class index into the clip's class names
    score: float = 1.0
    track_id: int | None = None
    source: BoxSourceName = "human"


@dataclass(frozen=True)
class LabeledFrame:
    """A frame a person labeled: every object on it is boxed (an empty list means "nothing here")."""

    index: int
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class Clip:
    """A clip as the engine sees it: frame image paths in frame-index order, and class names."""

    frames: tuple[Path, ...]
    class_names: tuple[str, ...]
    width: int
    height: int


@dataclass(frozen=True)
class TrainProgress:
    epoch: int
    epochs_total: int
    losses: dict[str, float]
    elapsed_seconds: float
    eta_seconds: float | None


class ProgressCallback(Protocol):
    def __call__(self, progress: TrainProgress, /) -> None: ...


class StopCheck(Protocol):
    """Returns True when the caller wants the run to stop early (a cancel)."""

    def __call__(self) -> bool: ...


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    sha256: str


@dataclass(frozen=True)
class TrainResult:
    checkpoint: Checkpoint
    base_weights: str  # the path of the weights training started from, or "from scratch"
    device: str  # "cpu", "cuda:0", ...
    epochs: int  # epochs actually run
    seconds: float
    metrics: dict[str, float]
    loss_history: list[dict[str, float]] = field(default_factory=list)
    trained_frames: tuple[int, ...] = ()
    # Which model ran and from what, in words a manager reads (e.g. "YOLO11n from scratch").
    model: str = "yolo11n"


@dataclass(frozen=True)
class FrameSuggestion:
    frame_index: int
    reason: str  # human-readable, e.g. "detector and tracker disagree (IoU 0.31)"
    score: float  # higher = more worth labeling


@dataclass(frozen=True)
class PrelabelResult:
    """Pre-labels for every frame that was not labeled by a person, plus what to label next."""

    boxes: dict[int, tuple[Box, ...]]  # frame index -> fused boxes (only unlabeled frames)
    suggestions: tuple[FrameSuggestion, ...]
    seconds: float
    # What the detector alone found on the same frames (before fusion with the tracker), so the
    # platform can score the model by itself against what people then did.
    detector_boxes: dict[int, tuple[Box, ...]] = field(default_factory=dict)
