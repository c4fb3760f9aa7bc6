"""Plain label items read from a file, before they are matched to a clip's frames and classes.

Frame references are matched by one rule for every format:

* an integer is a 0-based frame index (COCO ``frame_index``, MOT frame number - 1);
* a file name is matched first against the stored picture names of the clip's frames, then by the
  trailing digits of its stem, read as the 0-based frame index: ``000123.jpg``, ``frame_123.png`` and
  the exported ``v7_000123.jpg`` all mean frame 123.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

_TRAILING_DIGITS = re.compile(r"(\d+)$")


@dataclass
class LabelItem:
    where: str  # how an error names it: "annotation 17", "labels/train/v3_000002.txt line 2"
    frame: int | str  # frame index, or a file name to match
    label: str | int | None  # class name, a project class index, or None (MOT ids without a class)
    x: float
    y: float
    w: float
    h: float
    track: str | None = None
    score: float | None = None
    # YOLO: x, y, w, h are fractions of the frame size (x, y still the top-left corner).
    normalized: bool = False


@dataclass
class ParsedLabels:
    items: list[LabelItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Clip ids named in the file (COCO video_id, the v<id>_ prefix): one import is one clip.
    clip_keys: set[str] = field(default_factory=set)
    # Files that had no boxes but name a frame (YOLO empty label files), for the frame count.
    empty_frames: list[int | str] = field(default_factory=list)


def frame_index_from_name(name: str, stored: dict[str, int]) -> int | None:
    """The frame a file name refers to, or None (see the module docstring for the rule)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    if base in stored:
        return stored[base]
    match = _TRAILING_DIGITS.search(PurePosixPath(base).stem)
    return int(match.group(1)) if match else None


_CLIP_PREFIX = re.compile(r"^v(\d+)_\d+$")


def clip_key_from_name(name: str) -> str | None:
    match = _CLIP_PREFIX.match(PurePosixPath(name.replace("\\", "/")).stem)
    return match.group(1) if match else None
