"""YOLO detection datasets in the Ultralytics layout, written and read back.

Out: ``images/<split>/<name>``, ``labels/<split>/<stem>.txt`` (one ``class cx cy w h`` line per box,
normalised, 6 decimals; an empty file for a frame without boxes) and ``data.yaml``. Class ids are the
positions of the project's classes in index order, so they stay contiguous if a class was deleted.
``data.yaml`` names no absolute ``path``: Ultralytics resolves train/val against the file's own
folder, so the dataset can be moved or unzipped anywhere. Splits are drawn by clip (default: no
clip's frames leak across splits) or by frame, from a seeded hash of the ids, so the same seed
always gives the same split whatever the row order.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from annotate.exchange.labels import FrameRef, LabelItem, ParsedLabels
from annotate.exchange.rows import BoxRow, ClipInfo, FrameRow, frame_file_name
from annotate.exchange.sinks import Sink
from annotate.exchange.sources import Source

SPLITS = ("train", "val", "test")
SPLIT_BY = ("clip", "frame")


@dataclass(frozen=True)
class SplitOptions:
    """How a YOLO export splits frames; the names are the export options' (services.exports.ExportOptions)."""

    by: str = "clip"  # "split" of the export options
    val_fraction: float = 0.2
    test_fraction: float = 0.0
    seed: int = 0


def _unit(seed: int, *keys: int) -> float:
    digest = hashlib.sha256(":".join(str(k) for k in (seed, *keys)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def clip_splits(clip_ids: list[int], options: SplitOptions) -> dict[int, str]:
    """Whole clips to splits: round(n * fraction) clips each for val and test, at least one for val
    when there are two clips or more, and always at least one for train."""
    ordered = sorted(clip_ids, key=lambda cid: _unit(options.seed, cid))
    n = len(ordered)
    n_val = round(n * options.val_fraction)
    n_test = round(n * options.test_fraction)
    if options.val_fraction > 0 and n >= 2:
        n_val = max(1, n_val)
    while n and n_val + n_test >= n:
        if n_test:
            n_test -= 1
        else:
            n_val -= 1
    splits = {cid: "val" for cid in ordered[:n_val]}
    splits.update({cid: "test" for cid in ordered[n_val : n_val + n_test]})
    splits.update({cid: "train" for cid in ordered[n_val + n_test :]})
    return splits


def frame_split(video_id: int, index: int, options: SplitOptions) -> str:
    u = _unit(options.seed, video_id, index)
    if u < options.val_fraction:
        return "val"
    if u < options.val_fraction + options.test_fraction:
        return "test"
    return "train"


def label_line(class_id: int, x: float, y: float, w: float, h: float, width: int, height: int) -> str:
    cx, cy = (x + w / 2) / width, (y + h / 2) / height
    return f"{class_id} {cx:.6f} {cy:.6f} {w / width:.6f} {h / height:.6f}\n"


def write_yolo(
    sink: Sink,
    *,
    classes: list[tuple[int, str]],
    clips: dict[int, ClipInfo],
    frames: Iterable[tuple[FrameRow, list[BoxRow]]],
    split: SplitOptions,
    progress: Callable[[int], None],
    root: Path | None = None,
) -> tuple[int, int]:
    """Write the dataset from ``frames`` (each frame with its boxes, see rows.frames_with_boxes);
    returns (images, boxes). ``root`` is kept for callers and unused: data.yaml
    stays relative (a folder export that is moved keeps working)."""
    class_ids = {index: position for position, (index, _name) in enumerate(classes)}
    by_clip = clip_splits(sorted(clips), split) if split.by == "clip" else {}
    used: dict[str, int] = dict.fromkeys(SPLITS, 0)
    images = boxes = done = 0
    for frame, frame_boxes in frames:
        clip = clips[frame.video_id]
        name = by_clip[frame.video_id] if by_clip else frame_split(frame.video_id, frame.frame_index, split)
        file_name = frame_file_name(frame)
        sink.copy_media(f"images/{name}/{file_name}", frame.image)
        lines = "".join(
            label_line(class_ids[b.class_index], b.x, b.y, b.w, b.h, clip.width, clip.height)
            for b in frame_boxes
        )
        sink.write_bytes(f"labels/{name}/{PurePosixPath(file_name).stem}.txt", lines.encode())
        used[name] += 1
        images += 1
        boxes += len(frame_boxes)
        done += 1 + len(frame_boxes)
        if images % 100 == 0:
            progress(done)
    data: dict[str, Any] = {}
    data["train"] = "images/train"
    # Ultralytics needs a val set; with one clip split by clip, validate on train rather than fail.
    data["val"] = "images/val" if used["val"] else "images/train"
    if used["test"]:
        data["test"] = "images/test"
    data["nc"] = len(classes)
    data["names"] = {position: name for position, (_index, name) in enumerate(classes)}
    with sink.text("data.yaml") as handle:
        handle.write("# No 'path': readers resolve train/val against this file's folder.\n")
        yaml.safe_dump(data, handle, sort_keys=False, allow_unicode=True)
    progress(done)
    return images, boxes


# -- reading -----------------------------------------------------------------------------------------

# Darknet (CVAT's "YOLO 1.1"): obj.names + obj_<subset>_data/*.txt; Label Studio: classes.txt + labels/.
_NAME_FILES = ("obj.names", "classes.txt")
_LIST_FILES = frozenset({"train.txt", "val.txt", "valid.txt", "test.txt", "labels.txt", *_NAME_FILES})
_CLIP_PREFIX = re.compile(r"^v(\d+)_\d+$")


def _shallowest(names: list[str]) -> str | None:
    return min(names, key=lambda n: (n.count("/"), n)) if names else None


def _names_from_yaml(source: Source, name: str, parsed: ParsedLabels) -> dict[int, str]:
    try:
        data = yaml.safe_load(source.read(name))
    except yaml.YAMLError as exc:
        parsed.errors.append(f"{name}: not valid YAML ({str(exc)[:200]})")
        return {}
    except RecursionError:
        parsed.errors.append(f"{name}: nested too deeply to read; data.yaml needs only a names list")
        return {}
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, list) and all(isinstance(v, str) for v in names):
        return dict(enumerate(names))
    if isinstance(names, dict) and all(isinstance(k, int) and isinstance(v, str) for k, v in names.items()):
        return dict(names)
    parsed.errors.append(f"{name}: 'names' must be a list of class names or a mapping id: name")
    return {}


def _class_names(source: Source, parsed: ParsedLabels) -> dict[int, str] | None:
    all_names = source.names()
    yaml_file = _shallowest([n for n in all_names if PurePosixPath(n).suffix in (".yaml", ".yml")])
    if yaml_file is not None:
        return _names_from_yaml(source, yaml_file, parsed)
    names_file = _shallowest([n for n in all_names if PurePosixPath(n).name in _NAME_FILES])
    if names_file is None:
        return None
    try:
        text = source.read(names_file).decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed.errors.append(f"{names_file}: not UTF-8 text")
        return {}
    return {n: line.strip() for n, line in enumerate(v for v in text.splitlines() if v.strip())}


def _is_label_file(name: str) -> bool:
    path = PurePosixPath(name)
    if path.suffix != ".txt" or path.name in _LIST_FILES:
        return False
    return any(
        part == "labels" or (part.startswith("obj_") and part.endswith("_data")) for part in path.parts[:-1]
    )


def parse_yolo(source: Source) -> ParsedLabels:
    parsed = ParsedLabels()
    names = _class_names(source, parsed)
    if names is None:
        parsed.errors.append(
            "no class names: data.yaml (Ultralytics), obj.names (Darknet) or classes.txt (Label Studio)"
        )
        return parsed
    label_files = sorted(n for n in source.names() if _is_label_file(n))
    if not label_files:
        parsed.errors.append("no label files found under labels/ (or obj_<subset>_data/)")
    stems: dict[str, str] = {}
    for file_name in label_files:
        stem = PurePosixPath(file_name).stem
        if stem in stems:
            parsed.errors.append(f"{file_name}: the same frame as {stems[stem]}")
            continue
        stems[stem] = file_name
        match = _CLIP_PREFIX.match(stem)
        if match:
            parsed.clip_keys.add(match.group(1))
        try:
            text = source.read(file_name).decode("utf-8-sig")
        except UnicodeDecodeError:
            parsed.errors.append(f"{file_name}: not UTF-8 text")
            continue
        lines = [(n, line.split()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
        if not lines:
            parsed.empty_frames.append(FrameRef(name=file_name))
        for number, fields in lines:
            where = f"{file_name} line {number}"
            if len(fields) not in (5, 6):
                parsed.errors.append(
                    f"{where}: expected 'class cx cy w h [conf]' (a detection box), got {len(fields)} fields"
                )
                continue
            try:
                class_id = int(fields[0])
                cx, cy, w, h, *conf = (float(v) for v in fields[1:])
            except ValueError:
                parsed.errors.append(f"{where}: not numbers: {' '.join(fields)[:80]!r}")
                continue
            if class_id not in names:
                parsed.errors.append(f"{where}: class {class_id} is not in the class names")
                continue
            if not all(math.isfinite(v) for v in (cx, cy, w, h, *conf)):
                parsed.errors.append(f"{where}: coordinates must be finite numbers")
                continue
            parsed.items.append(
                LabelItem(
                    where=where,
                    label=names[class_id],
                    x=cx - w / 2,
                    y=cy - h / 2,
                    w=w,
                    h=h,
                    frame_name=file_name,
                    score=conf[0] if conf else None,
                    normalized=True,
                )
            )
    return parsed
