"""Ground-truth readers for the replay benchmark: OTB, VOT, MOT text files and the fixtures' truth.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2

from micromodels.errors import EngineError
from micromodels.types import Box, Clip

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def load_frames(frames_dir: Path, class_names: tuple[str, ...]) -> Clip:
    frames = tuple(sorted(p for p in frames_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
    if not frames:
        raise EngineError(f"no frame images in {frames_dir}")
    first = cv2.imread(str(frames[0]))
    if first is None:
        raise EngineError(f"cannot read {frames[0]}")
    height, width = first.shape[:2]
    return Clip(frames=frames, class_names=class_names, width=int(width), height=int(height))


def _numbers(line: str) -> list[float]:
    return [float(v) for v in re.split(r"[\s,;]+", line.strip()) if v]


def read_truth(path: Path, fmt: str, n_frames: int) -> tuple[dict[int, tuple[Box, ...]], tuple[str, ...]]:
    """Boxes per 0-based frame index and the class names."""
    truth: dict[int, list[Box]] = {i: [] for i in range(n_frames)}
    names: tuple[str, ...] = ("object",)
    if fmt in ("otb", "vot"):
        rows = [line for line in path.read_text().splitlines() if line.strip()]
        for i, line in enumerate(rows[:n_frames]):
            v = _numbers(line)
            if fmt == "otb":
                x, y, w, h = v[:4]
                x, y = x - 1, y - 1  # OTB is 1-based
            else:
                xs, ys = v[0:8:2], v[1:8:2]
                x, y, w, h = min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
            if w > 0 and h > 0 and all(map(lambda t: t == t, (x, y, w, h))):
                truth[i].append(Box(x, y, w, h, 0, 1.0, 1, "human"))
    elif fmt == "mot":
        classes: set[int] = set()
        parsed = []
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            v = _numbers(line)
            cls = int(v[7]) if len(v) > 7 else 1
            classes.add(cls)
            parsed.append((int(v[0]) - 1, int(v[1]), v[2], v[3], v[4], v[5], cls))
        ordered = sorted(classes)
        names = tuple(f"class{c}" for c in ordered)
        for frame, tid, x, y, w, h, cls in parsed:
            if 0 <= frame < n_frames:
                truth[frame].append(Box(x, y, w, h, ordered.index(cls), 1.0, tid, "human"))
    elif fmt == "json":
        data = json.loads(path.read_text())
        names = tuple(data["classes"])
        for frame in data["frames"]:
            for b in frame["boxes"]:
                label = names.index(b["label"]) if isinstance(b["label"], str) else int(b["label"])
                truth[int(frame["index"])].append(
                    Box(b["x"], b["y"], b["w"], b["h"], label, 1.0, b.get("track_id"), "human")
                )
    else:
        raise EngineError(f"unknown truth format {fmt!r} (otb, vot, mot, json)")
    return {i: tuple(b) for i, b in truth.items()}, names
