"""Reading frames and checking the caller's input before any work starts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from micromodels.errors import EngineError
from micromodels.types import Box, Clip, LabeledFrame

Image = NDArray[np.uint8]


def read_frame(path: Path) -> Image:
    """One frame as a BGR uint8 array; EngineError when it cannot be read."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise EngineError(f"cannot read frame image {path}")
    return np.asarray(image, dtype=np.uint8)


def iter_frames(clip: Clip, indices: Sequence[int]) -> Iterator[tuple[int, Image]]:
    """Frames one at a time, in the order given: only one decoded frame is alive per step."""
    for index in indices:
        yield index, read_frame(clip.frames[index])


def check_clip(clip: Clip) -> None:
    if not clip.frames:
        raise EngineError("the clip has no frames")
    if not clip.class_names:
        raise EngineError("the clip has no class names")
    if clip.width <= 0 or clip.height <= 0:
        raise EngineError(f"bad frame size {clip.width}x{clip.height}")
    missing = [str(p) for p in clip.frames if not Path(p).is_file()]
    if missing:
        raise EngineError(f"{len(missing)} frame file(s) missing, first: {missing[0]}")


def check_box(box: Box, clip: Clip, where: str, tolerance: float = 1.0) -> None:
    if not 0 <= box.label < len(clip.class_names):
        raise EngineError(
            f"{where}: unknown label {box.label} (the clip has {len(clip.class_names)} classes)"
        )
    if not (box.w > 0 and box.h > 0):
        raise EngineError(f"{where}: box has no area ({box.w}x{box.h})")
    if (
        box.x < -tolerance
        or box.y < -tolerance
        or box.x + box.w > clip.width + tolerance
        or box.y + box.h > clip.height + tolerance
    ):
        raise EngineError(
            f"{where}: box ({box.x:.1f}, {box.y:.1f}, {box.w:.1f}x{box.h:.1f}) is outside the "
            f"{clip.width}x{clip.height} image"
        )


def check_labeled(clip: Clip, labeled: Sequence[LabeledFrame]) -> list[LabeledFrame]:
    """Validated labeled frames sorted by index (a frame may appear only once)."""
    seen: set[int] = set()
    for frame in labeled:
        if not 0 <= frame.index < len(clip.frames):
            raise EngineError(f"labeled frame {frame.index} is outside the clip (0..{len(clip.frames) - 1})")
        if frame.index in seen:
            raise EngineError(f"frame {frame.index} is labeled twice")
        seen.add(frame.index)
        for box in frame.boxes:
            check_box(box, clip, f"frame {frame.index}")
    return sorted(labeled, key=lambda f: f.index)


def clip_box(box: Box, width: int, height: int) -> Box:
    """The part of a box inside the image (boxes that leave the image entirely get a 1-pixel size)."""
    x1 = min(max(box.x, 0.0), width - 1.0)
    y1 = min(max(box.y, 0.0), height - 1.0)
    x2 = min(max(box.x + box.w, x1 + 1.0), float(width))
    y2 = min(max(box.y + box.h, y1 + 1.0), float(height))
    return Box(x1, y1, x2 - x1, y2 - y1, box.label, box.score, box.track_id, box.source)
