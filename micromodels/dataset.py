"""Labeled frames (and pseudo-labeled ones) -> an ultralytics YOLO dataset in a work folder.

Images are copied unchanged (ultralytics letterboxes them, so the aspect ratio is kept); labels are
normalised centre/size rows. The training list repeats each human-labeled frame so that one epoch on
a handful of frames is still a meaningful number of optimiser steps, with mosaic and colour/scale
augmentation (set in the trainer) turning the repeats into different pictures.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from micromodels.frames import read_frame
from micromodels.types import Box, Clip, LabeledFrame


@dataclass(frozen=True)
class Dataset:
    yaml_path: Path
    train_frames: tuple[int, ...]  # frame indices with a human label
    pseudo_frames: tuple[int, ...]  # frame indices with pseudo-labels only


def _label_rows(boxes: Sequence[Box], width: int, height: int) -> str:
    rows = []
    for b in boxes:
        x1, y1 = max(b.x, 0.0), max(b.y, 0.0)
        x2, y2 = min(b.x + b.w, float(width)), min(b.y + b.h, float(height))
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
        rows.append(f"{b.label} {cx:.6f} {cy:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}")
    return "\n".join(rows) + ("\n" if rows else "")


def build_dataset(
    clip: Clip,
    labeled: Sequence[LabeledFrame],
    out_dir: Path,
    *,
    pseudo: Sequence[LabeledFrame] = (),
    repeats: int = 8,
    pseudo_repeats: int = 1,
) -> Dataset:
    """Write images/, labels/, train.txt, val.txt and data.yaml under out_dir (replacing what was there)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    images, labels = out_dir / "images", out_dir / "labels"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    train_lines: list[str] = []
    val_lines: list[str] = []
    for frames, times, is_val in ((labeled, repeats, True), (pseudo, pseudo_repeats, False)):
        for frame in frames:
            source = Path(clip.frames[frame.index])
            read_frame(source)  # refuse an unreadable image here, with its path, not deep in ultralytics
            image = images / f"{frame.index:08d}{source.suffix.lower()}"
            shutil.copyfile(source, image)
            (labels / f"{frame.index:08d}.txt").write_text(_label_rows(frame.boxes, clip.width, clip.height))
            train_lines += [str(image)] * max(1, times)
            if is_val:
                val_lines.append(str(image))
    (out_dir / "train.txt").write_text("\n".join(train_lines) + "\n")
    (out_dir / "val.txt").write_text("\n".join(val_lines or train_lines[:1]) + "\n")
    names = "\n".join(f"  {i}: {_yaml_quote(n)}" for i, n in enumerate(clip.class_names))
    yaml_path = out_dir / "data.yaml"
    yaml_path.write_text(
        f"path: {out_dir}\ntrain: {out_dir / 'train.txt'}\nval: {out_dir / 'val.txt'}\nnames:\n{names}\n"
    )
    return Dataset(
        yaml_path=yaml_path,
        train_frames=tuple(f.index for f in labeled),
        pseudo_frames=tuple(f.index for f in pseudo),
    )


def _yaml_quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
