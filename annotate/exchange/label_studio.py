"""Label Studio JSON exports: image tasks with rectangle labels, video tasks with rectangle sequences.

In: the list of tasks Label Studio's "JSON" export writes (parsed as a stream). Per task the last
annotation that was not cancelled counts (a task without annotations is skipped, counted).

* Image tasks: ``result[]`` of ``type: rectanglelabels`` with ``value.x/y/width/height`` in percent of
  the picture; the frame is the task's picture (``data.image``, e.g. ``/data/upload/1/7d42caec-
  frame_0001.jpg``), matched by its name (annotate.exchange.matching strips the upload prefix).
* Video tasks: ``type: videorectangle`` with ``value.sequence[]`` keyframes (``frame`` counted from 1,
  ``enabled``, percent coordinates); as in Label Studio, an enabled keyframe lasts, linearly
  interpolated, until the next keyframe; each region is one track.
Rotated rectangles and other result types (polygons, keypoints, choices) are skipped and counted.
"""

from __future__ import annotations

import math
from typing import IO, Any

import ijson

from annotate.exchange.labels import FrameRef, LabelItem, ParsedLabels

_KEYS = ("x", "y", "width", "height")


def parse_label_studio(stream: IO[bytes], *, source_name: str = "Label Studio file") -> ParsedLabels:
    parsed = ParsedLabels()
    try:
        for n, task in enumerate(ijson.items(stream, "item", use_float=True)):
            _task(task, n, parsed)
    except ijson.JSONError as exc:
        parsed.errors.append(f"{source_name}: not valid JSON, or not a list of Label Studio tasks ({exc})")
    except UnicodeDecodeError as exc:
        parsed.errors.append(f"{source_name}: not UTF-8 JSON ({exc})")
    return parsed


def _numbers(value: dict[str, Any]) -> tuple[float, float, float, float] | None:
    raw = [value.get(k) for k in _KEYS]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in raw):
        return None
    x, y, w, h = (float(v) / 100 for v in raw)  # type: ignore[arg-type]
    return x, y, w, h


def _task(task: Any, n: int, parsed: ParsedLabels) -> None:
    if not isinstance(task, dict):
        parsed.errors.append(f"task {n}: must be an object")
        return
    tid = task.get("id", n)
    data: dict[str, Any] = task["data"] if isinstance(task.get("data"), dict) else {}
    picture = next((v for k, v in data.items() if k in ("image", "img") and isinstance(v, str)), None)
    annotations = [
        a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")
    ]
    if not annotations:
        parsed.skip("Label Studio tasks without an annotation")
        return
    results = annotations[-1].get("result") or []
    boxes = 0
    for number, result in enumerate(results if isinstance(results, list) else [], start=1):
        where = f"task {tid} result {number}"
        kind = result.get("type") if isinstance(result, dict) else None
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, dict):
            parsed.errors.append(f"{where}: no 'value'")
            continue
        if kind == "rectanglelabels":
            boxes += _rectangle(value, where, picture, parsed)
        elif kind == "videorectangle":
            boxes += _sequence(value, where, str(result.get("id") or f"{tid}-{number}"), parsed)
        else:
            parsed.skip(f"Label Studio {kind} results (not boxes)")
    if not boxes and picture is not None:
        parsed.empty_frames.append(FrameRef(name=picture))


def _label(value: dict[str, Any], key: str) -> str | None:
    labels = value.get(key)
    return labels[0] if isinstance(labels, list) and labels and isinstance(labels[0], str) else None


def _rectangle(value: dict[str, Any], where: str, picture: str | None, parsed: ParsedLabels) -> int:
    if picture is None:
        parsed.errors.append(f"{where}: the task names no picture (data.image)")
        return 0
    box, label = _numbers(value), _label(value, "rectanglelabels")
    if box is None or label is None:
        parsed.errors.append(f"{where}: needs numbers x, y, width, height and one rectanglelabels name")
        return 0
    if value.get("rotation"):
        parsed.skip("Label Studio rotated rectangles (not axis-aligned boxes)")
        return 0
    parsed.items.append(
        LabelItem(
            where=where,
            label=label,
            x=box[0],
            y=box[1],
            w=box[2],
            h=box[3],
            frame_name=picture,
            normalized=True,
        )
    )
    return 1


def _sequence(value: dict[str, Any], where: str, region: str, parsed: ParsedLabels) -> int:
    label = _label(value, "labels")
    if label is None:
        parsed.errors.append(f"{where}: needs one 'labels' name")
        return 0
    keys: list[tuple[int, bool, tuple[float, float, float, float]]] = []
    for k in value.get("sequence") or []:
        frame, box = (k.get("frame"), _numbers(k)) if isinstance(k, dict) else (None, None)
        if not isinstance(frame, int) or isinstance(frame, bool) or frame < 1 or box is None:
            parsed.errors.append(f"{where}: every keyframe needs a frame (from 1) and x, y, width, height")
            return 0
        keys.append((frame, k.get("enabled", True) is not False, box))
    keys.sort(key=lambda k: k[0])
    count = 0
    for position, (frame, enabled, box) in enumerate(keys):
        if not enabled:
            parsed.empty_frames.append(FrameRef(index=frame - 1))
            continue
        following = keys[position + 1] if position + 1 < len(keys) else None
        end = following[0] if following is not None else frame + 1
        for f in range(frame, end):
            t = (f - frame) / (end - frame) if following is not None else 0.0
            target = following[2] if following is not None else box
            x, y, w, h = (a + (b - a) * t for a, b in zip(box, target, strict=True))
            parsed.items.append(
                LabelItem(
                    where=f"{where} frame {f}",
                    label=label,
                    x=x,
                    y=y,
                    w=w,
                    h=h,
                    frame_index=f - 1,
                    track=f"ls-{region}",
                    normalized=True,
                )
            )
            count += 1
    return count
