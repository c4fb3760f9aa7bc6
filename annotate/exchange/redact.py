"""A redacted video: every chosen box blurred or pixelated on its own frame, written as an mp4.

Pure: it takes decoded frames (BGR arrays, in frame-index order) with the boxes to hide on each and
writes one file; the export service feeds it from the clip's stored frames. Frame i of the output is
frame i of the clip, at the clip's stored frame rate, so a box hides exactly the pixels it covers on
the frame it belongs to.

The codec is MPEG-4 Part 2 (``mp4v``): the encoder the opencv-python wheels ship. H.264 (``avc1``)
needs an encoder those wheels do not include, so it is not offered.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

FOURCC = "mp4v"
STYLES = ("blur", "pixelate")
PROGRESS_EVERY = 10  # frames between two progress reports (each one a cancel check)


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float


def _pixels(rect: Rect, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Every pixel the box touches (a partly covered pixel is hidden too), inside the frame."""
    x0, y0 = max(0, math.floor(rect.x)), max(0, math.floor(rect.y))
    x1, y1 = min(width, math.ceil(rect.x + rect.w)), min(height, math.ceil(rect.y + rect.h))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def redact_frame(
    image: NDArray[np.uint8], rects: Iterable[Rect], *, style: str, block: int
) -> NDArray[np.uint8]:
    """A copy of the frame with each box's pixels hidden. ``pixelate``: blocks of ``block`` pixels
    (each the mean of what it covers); ``blur``: a Gaussian blur whose kernel is the box's shorter side,
    at least ``block``, so a small box is as unreadable as a big one."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}")
    out = image.copy()
    height, width = out.shape[:2]
    for rect in rects:
        area = _pixels(rect, width, height)
        if area is None:
            continue
        x0, y0, x1, y1 = area
        roi = out[y0:y1, x0:x1]
        h, w = roi.shape[:2]
        if style == "pixelate":
            small = cv2.resize(
                roi,
                (max(1, math.ceil(w / block)), max(1, math.ceil(h / block))),
                interpolation=cv2.INTER_AREA,
            )
            roi[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        else:
            kernel = max(block, min(w, h)) | 1
            roi[:] = cv2.GaussianBlur(roi, (kernel, kernel), 0, borderType=cv2.BORDER_REPLICATE)
    return out


def write_redacted(
    frames: Iterable[tuple[NDArray[np.uint8], list[Rect]]],
    target: Path,
    *,
    fps: float,
    width: int,
    height: int,
    style: str,
    block: int,
    progress: Callable[[int], None],
) -> int:
    """Encode the redacted frames to ``target`` (an ``.mp4`` path); the number of frames written.
    ``progress`` gets the frames done every PROGRESS_EVERY frames and at the end; whatever it raises
    (a cancel) stops the writer, and the caller removes the partial file."""
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError("the clip has no frame rate")
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*FOURCC), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV could not open an {FOURCC} video writer for {target.name}")
    done = 0
    try:
        for image, rects in frames:
            if image.shape[:2] != (height, width):
                raise ValueError(
                    f"frame {done} is {image.shape[1]}x{image.shape[0]}, the clip is {width}x{height}"
                )
            writer.write(redact_frame(image, rects, style=style, block=block))
            done += 1
            if done % PROGRESS_EVERY == 0:
                progress(done)
    finally:
        writer.release()
    progress(done)
    return done
