"""MOTChallenge ground truth, one folder per clip, written and read back.

Out, per clip: ``<clip-slug>-<id>/gt/gt.txt`` with ``frame,id,x,y,w,h,conf,-1,-1,-1`` lines (1-based
frames; conf is the model score, or 1), ``seqinfo.ini``, and ``gt/id_classes.json`` mapping each MOT
id to its class name, since the 10-column line has no class. Ids: every (track, class) pair gets the
next id, every box without a track a fresh one, numbered from 1 per clip in order of appearance.

In: 10-column lines as above, or 9-column MOT16/17 ground truth ``frame,id,x,y,w,h,conf,class,vis``
whose class is read as the project class at index class-1. A MOT id of -1 means "no track".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import IO

from django.utils.text import slugify

from annotate.exchange.labels import LabelItem, ParsedLabels
from annotate.exchange.rows import BoxRow, ClipInfo, ExportFilter, iter_boxes
from annotate.exchange.sinks import Sink
from annotate.exchange.sources import Source

SIDECAR = "id_classes.json"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def clip_folder(clip: ClipInfo) -> str:
    return f"{slugify(clip.name)[:60] or 'clip'}-{clip.id}"


def _seqinfo(clip: ClipInfo) -> str:
    fps = clip.fps or 0
    return (
        "[Sequence]\n"
        f"name={clip_folder(clip)}\n"
        f"frameRate={_num(fps)}\n"
        f"seqLength={clip.frame_count}\n"
        f"imWidth={clip.width}\n"
        f"imHeight={clip.height}\n"
    )


def write_mot(
    sink: Sink,
    *,
    project_id: int,
    flt: ExportFilter,
    classes: list[tuple[int, str]],
    clips: dict[int, ClipInfo],
    progress: Callable[[int], None],
) -> tuple[int, int]:
    """Write one folder per clip; returns (frames of the clips, boxes)."""
    names = dict(classes)
    boxes = iter_boxes(project_id=project_id, flt=flt)
    pending: BoxRow | None = next(boxes, None)
    count = 0
    for clip_id in sorted(clips):
        clip = clips[clip_id]
        folder = clip_folder(clip)
        sink.write_bytes(f"{folder}/seqinfo.ini", _seqinfo(clip).encode())
        ids: dict[tuple[int, int], int] = {}
        id_classes: dict[str, str] = {}
        next_id = 1
        handle: IO[str]
        with sink.text(f"{folder}/gt/gt.txt") as handle:
            while pending is not None and pending.video_id == clip_id:
                box = pending
                if box.track_id is not None and (box.track_id, box.class_index) in ids:
                    mot_id = ids[(box.track_id, box.class_index)]
                else:
                    mot_id = next_id
                    next_id += 1
                    id_classes[str(mot_id)] = names[box.class_index]
                    if box.track_id is not None:
                        ids[(box.track_id, box.class_index)] = mot_id
                conf = 1 if box.score is None else box.score
                handle.write(
                    f"{box.frame_index + 1},{mot_id},{_num(box.x)},{_num(box.y)},{_num(box.w)},{_num(box.h)},"
                    f"{_num(conf)},-1,-1,-1\n"
                )
                count += 1
                if count % 1000 == 0:
                    progress(count)
                pending = next(boxes, None)
        sink.write_bytes(f"{folder}/gt/{SIDECAR}", json.dumps(id_classes, ensure_ascii=False).encode())
    if pending is not None:
        raise RuntimeError("box stream is not ordered by clip; export aborted")
    progress(count)
    return sum(c.frame_count for c in clips.values()), count


# -- reading -----------------------------------------------------------------------------------------


def parse_mot(source: Source) -> ParsedLabels:
    parsed = ParsedLabels()
    texts = [n for n in source.names() if n.endswith(".txt")]
    gts = [n for n in texts if PurePosixPath(n).name == "gt.txt"] or texts
    if len(gts) != 1:
        what = "no gt.txt" if not gts else f"{len(gts)} sequences ({', '.join(sorted(gts)[:5])})"
        parsed.errors.append(f"expected one MOT sequence, found {what}; import one clip at a time")
        return parsed
    gt = gts[0]
    sidecar_name = str(PurePosixPath(gt).parent / SIDECAR).removeprefix("./")
    id_classes: dict[str, str] = {}
    if sidecar_name in source.names():
        try:
            loaded = json.loads(source.read(sidecar_name))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            parsed.errors.append(f"{sidecar_name}: not valid JSON ({exc})")
            return parsed
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            parsed.errors.append(f"{sidecar_name}: must map MOT ids to class names")
            return parsed
        id_classes = loaded
    try:
        text = source.read(gt).decode("utf-8")
    except UnicodeDecodeError:
        parsed.errors.append(f"{gt}: not UTF-8 text")
        return parsed
    seen: dict[tuple[int, int], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{PurePosixPath(gt).name} line {number}"
        fields = [f.strip() for f in line.replace(" ", "").split(",")]
        if len(fields) < 6:
            parsed.errors.append(f"{where}: expected 'frame,id,x,y,w,h,...', got {line.strip()!r}")
            continue
        try:
            frame, mot_id = int(fields[0]), int(float(fields[1]))
            x, y, w, h = (float(v) for v in fields[2:6])
            conf = float(fields[6]) if len(fields) > 6 else None
            klass = int(float(fields[7])) if len(fields) == 9 else None
        except (ValueError, OverflowError):  # OverflowError: int() of inf or 1e400
            parsed.errors.append(f"{where}: not numbers: {line.strip()!r}")
            continue
        if frame < 1:
            parsed.errors.append(f"{where}: frame {frame} (MOT frames start at 1)")
            continue
        if not all(math.isfinite(v) for v in (x, y, w, h)):
            parsed.errors.append(f"{where}: coordinates must be finite numbers")
            continue
        if mot_id >= 0:
            first = seen.setdefault((frame, mot_id), number)
            if first != number:
                parsed.errors.append(
                    f"{where}: id {mot_id} appears twice on frame {frame} (also line {first})"
                )
                continue
        label: str | int | None = id_classes.get(str(mot_id))
        if label is None and klass is not None and klass > 0:
            label = klass - 1
        parsed.items.append(
            LabelItem(
                where=f"{where} (id {mot_id})",
                frame=frame - 1,
                label=label,
                x=x,
                y=y,
                w=w,
                h=h,
                track=str(mot_id) if mot_id >= 0 else None,
                score=conf if conf is not None and math.isfinite(conf) and 0 <= conf <= 1 else None,
            )
        )
    return parsed
