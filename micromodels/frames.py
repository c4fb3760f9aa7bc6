"""Reading frames and checking the caller's input before any work starts."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from micromodels.errors import EngineError
from micromodels.types import Box, Clip, LabeledFrame

Image = NDArray[np.uint8]


# Decoded frames kept per process, least recently used dropped first. A generation reads each frame
# several times (pseudo-labeling passes, the detector, the tracker passes, suggestions) and the next
# generation of the same clip reads them again; keeping them skips the image decode. Bounded in bytes,
# so a long clip keeps only its most recent frames and memory does not grow with the clip.
DEFAULT_FRAME_CACHE_BYTES = 512 * 2**20


@dataclass
class FrameCacheStats:
    hits: int = 0
    misses: int = 0
    bytes: int = 0
    frames: int = 0
    limit: int = DEFAULT_FRAME_CACHE_BYTES


class _FrameCache:
    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._frames: OrderedDict[tuple[str, int, int], Image] = OrderedDict()
        self.stats = FrameCacheStats(limit=limit)

    def get(self, key: tuple[str, int, int]) -> Image | None:
        with self._lock:
            image = self._frames.get(key)
            if image is None:
                self.stats.misses += 1
                return None
            self._frames.move_to_end(key)
            self.stats.hits += 1
            return image

    def put(self, key: tuple[str, int, int], image: Image) -> None:
        if image.nbytes > self.stats.limit:
            return
        with self._lock:
            old = self._frames.pop(key, None)
            if old is not None:
                self.stats.bytes -= old.nbytes
            self._frames[key] = image
            self.stats.bytes += image.nbytes
            self._shrink()

    def _shrink(self) -> None:
        while self.stats.bytes > self.stats.limit and self._frames:
            _, dropped = self._frames.popitem(last=False)
            self.stats.bytes -= dropped.nbytes
        self.stats.frames = len(self._frames)

    def set_limit(self, limit: int) -> None:
        with self._lock:
            self.stats.limit = max(0, limit)
            self._shrink()

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self.stats = FrameCacheStats(limit=self.stats.limit)


_cache = _FrameCache(DEFAULT_FRAME_CACHE_BYTES)


def set_frame_cache_limit(limit_bytes: int) -> None:
    """How many bytes of decoded frames this process keeps (0: none); frames over it are dropped now."""
    _cache.set_limit(limit_bytes)


def frame_cache_stats() -> FrameCacheStats:
    """A snapshot of the process's frame cache: hits, misses, bytes and frames held, the limit."""
    s = _cache.stats
    return FrameCacheStats(s.hits, s.misses, s.bytes, s.frames, s.limit)


def clear_frame_cache() -> None:
    _cache.clear()


def _decode(path: Path) -> Image:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise EngineError(f"cannot read frame image {path}")
    return np.asarray(image, dtype=np.uint8)


def read_frame(path: Path) -> Image:
    """One frame as a BGR uint8 array (the caller's own copy); EngineError when it cannot be read.

    Served from the process's frame cache when the file is unchanged since it was decoded (same
    path, modification time and size); a rewritten file is decoded again.
    """
    if _cache.stats.limit <= 0:
        return _decode(path)
    try:
        stat = Path(path).stat()
    except OSError:
        raise EngineError(f"cannot read frame image {path}") from None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(key)
    if cached is not None:
        return cached.copy()
    image = _decode(path)
    _cache.put(key, image)
    return image.copy()


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
