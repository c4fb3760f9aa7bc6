"""MOTChallenge ground truth, one folder per clip, written and read back.

Out, per clip: ``<clip-slug>-<id>/gt/gt.txt`` with MOT16/17 lines ``frame,id,x,y,w,h,1,class,visibility``
(1-based frames and classes; class n is line n of ``gt/labels.txt``, the way Datumaro and CVAT read
and write MOT; visibility 0.5 for an occluded box, else 1), ``seqinfo.ini`` (name, imDir, frameRate,
seqLength, imWidth, imHeight, imExt), and ``gt/id_classes.json`` (MOT id -> class name, read first by
this platform). Ids: every (track, class) pair gets the next id, every box without a track a fresh
one, numbered from 1 per clip in order of appearance.

In: ``gt.txt`` or ``det.txt`` with 6, 7 or 10 columns (``frame,id,x,y,w,h[,conf,x,y,z]``) or 8/9
columns (``frame,id,x,y,w,h,consider,class[,visibility]``, MOT16/17). Classes: id_classes.json by MOT
id, else the class column by name through ``labels.txt`` (beside gt.txt or in gt/), else the
MOTChallenge class names (1 pedestrian ... 12 reflection) when there is a class column; a file with no
class at all takes the one project class (or the one asked for). Rows whose consider flag is 0 are
skipped and counted; visibility below 1 marks the box occluded. A MOT id of -1 means "no track".
Confidence (column 7 of 6/7/10-column files): -1 is no score; a ``det.txt`` is a detector's output and
imports as predictions; scores outside 0..1 (a detector's own scale) are rescaled linearly over the
file to 0..1, keeping their order, and the import's notes say so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath
from typing import IO

from annotate.exchange.labels import FrameRef, LabelItem, ParsedLabels
from annotate.exchange.names import slugify
from annotate.exchange.rows import BoxRow, ClipInfo
from annotate.exchange.sinks import Sink
from annotate.exchange.sources import Source

SIDECAR = "id_classes.json"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def clip_folder(clip: ClipInfo) -> str:
    return f"{slugify(clip.name)[:60] or 'clip'}-{clip.id}"


# MOTChallenge's own class ids (MOT16/17 ground truth), used when a file has no labels.txt.
MOT_CLASSES = (
    "pedestrian",
    "person_on_vehicle",
    "car",
    "bicycle",
    "motorbike",
    "non_mot_vehicle",
    "static_person",
    "distractor",
    "occluder",
    "occluder_on_ground",
    "occluder_full",
    "reflection",
)


def _seqinfo(clip: ClipInfo) -> str:
    # A sampled clip is described as its source: frame numbers are the source's (see ClipInfo).
    fps = clip.source_fps or clip.fps or 0
    return (
        "[Sequence]\n"
        f"name={clip_folder(clip)}\n"
        "imDir=img1\n"
        f"frameRate={_num(fps)}\n"
        f"seqLength={clip.number_count}\n"
        f"imWidth={clip.width}\n"
        f"imHeight={clip.height}\n"
        "imExt=.jpg\n"
    )


def write_mot(
    sink: Sink,
    *,
    classes: list[tuple[int, str]],
    clips: dict[int, ClipInfo],
    boxes: Iterable[BoxRow],
    progress: Callable[[int], None],
) -> tuple[int, int]:
    """Write one folder per clip from ``boxes`` (ordered by clip, then frame); returns (frames of
    the clips, boxes)."""
    names = dict(classes)
    class_column = {index: position + 1 for position, (index, _name) in enumerate(classes)}
    labels_txt = "".join(f"{name}\n" for _index, name in classes).encode()
    stream = iter(boxes)
    pending: BoxRow | None = next(stream, None)
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
                visibility = "0.5" if box.occluded else "1"
                handle.write(
                    f"{clip.number(box.frame_index) + 1},{mot_id},"
                    f"{_num(box.x)},{_num(box.y)},{_num(box.w)},{_num(box.h)},"
                    f"1,{class_column[box.class_index]},{visibility}\n"
                )
                count += 1
                if count % 1000 == 0:
                    progress(count)
                pending = next(stream, None)
        sink.write_bytes(f"{folder}/gt/{SIDECAR}", json.dumps(id_classes, ensure_ascii=False).encode())
        sink.write_bytes(f"{folder}/gt/labels.txt", labels_txt)
    if pending is not None:
        raise RuntimeError("box stream is not ordered by clip; export aborted")
    progress(count)
    return sum(c.frame_count for c in clips.values()), count


# -- reading -----------------------------------------------------------------------------------------


def _sequence_file(source: Source, parsed: ParsedLabels) -> str | None:
    texts = [
        n for n in source.names() if n.lower().endswith(".txt") and PurePosixPath(n).name != "labels.txt"
    ]
    for wanted in ("gt.txt", "det.txt"):
        found = [n for n in texts if PurePosixPath(n).name == wanted]
        if found:
            texts = found
            break
    if len(texts) != 1:
        what = "no gt.txt" if not texts else f"{len(texts)} sequences ({', '.join(sorted(texts)[:5])})"
        parsed.errors.append(f"expected one MOT sequence, found {what}; import one clip at a time")
        return None
    return texts[0]


def _beside(source: Source, gt: str, name: str) -> str | None:
    folder = PurePosixPath(gt).parent
    for candidate in (folder / name, folder.parent / name, folder / "gt" / name):
        text = str(candidate).removeprefix("./")
        if text in source.names():
            return text
    return None


def _read_text(source: Source, name: str, parsed: ParsedLabels) -> str | None:
    try:
        return source.read(name).decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed.errors.append(f"{name}: not UTF-8 text")
        return None


def parse_mot(source: Source) -> ParsedLabels:
    parsed = ParsedLabels()
    gt = _sequence_file(source, parsed)
    if gt is None:
        return parsed
    id_classes: dict[str, str] = {}
    sidecar = _beside(source, gt, SIDECAR)
    if sidecar is not None:
        try:
            loaded = json.loads(source.read(sidecar))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            parsed.errors.append(f"{sidecar}: not valid JSON ({exc})")
            return parsed
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            parsed.errors.append(f"{sidecar}: must map MOT ids to class names")
            return parsed
        id_classes = loaded
    labels_name = _beside(source, gt, "labels.txt")
    class_names: tuple[str, ...] | None = None
    if labels_name is not None:
        labels_text = _read_text(source, labels_name, parsed)
        if labels_text is None:
            return parsed
        class_names = tuple(line.strip() for line in labels_text.splitlines() if line.strip())
    text = _read_text(source, gt, parsed)
    if text is None:
        return parsed
    _parse_lines(text, PurePosixPath(gt).name, id_classes, class_names, parsed)
    if PurePosixPath(gt).name == "det.txt":
        parsed.predictions = True  # a detector's output: pending predictions for people to review
    _rescale_scores(parsed)
    return parsed


def _rescale_scores(parsed: ParsedLabels) -> None:
    """Detector scores on their own scale (DPM margins such as -0.3 or 35.2) become 0..1, linearly over
    the file: ``(score - lowest) / (highest - lowest)``. The order of the scores, all a threshold needs,
    is kept; a file whose scores are all within 0..1 is left as it is."""
    scores = [i.score for i in parsed.items if i.score is not None]
    if not scores or all(0 <= s <= 1 for s in scores):
        return
    low, high = min(scores), max(scores)
    if high == low:
        for item in parsed.items:
            item.score = None
        parsed.notes.append(
            f"every score in the file is {low:g}, outside 0..1 and telling nothing apart: "
            f"{len(scores)} boxes imported without a score"
        )
        return
    for item in parsed.items:
        if item.score is not None:
            item.score = (item.score - low) / (high - low)
    parsed.notes.append(
        f"the file's scores run from {low:g} to {high:g}, not 0..1 (a detector's own scale): "
        f"{len(scores)} scores rescaled linearly to 0..1 ((score - {low:g}) / {high - low:g}), "
        "keeping their order"
    )


def _parse_lines(
    text: str,
    file_name: str,
    id_classes: dict[str, str],
    class_names: tuple[str, ...] | None,
    parsed: ParsedLabels,
) -> None:
    seen: dict[tuple[int, int], int] = {}
    frames: set[int] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{file_name} line {number}"
        fields = [f.strip() for f in line.replace(" ", "").split(",")]
        if len(fields) < 6:
            parsed.errors.append(f"{where}: expected 'frame,id,x,y,w,h,...', got {line.strip()[:80]!r}")
            continue
        mot17 = len(fields) in (8, 9)
        try:
            frame, mot_id = int(fields[0]), int(float(fields[1]))
            x, y, w, h = (float(v) for v in fields[2:6])
            conf = float(fields[6]) if len(fields) > 6 else None
            klass = int(float(fields[7])) if mot17 else None
            visibility = float(fields[8]) if len(fields) == 9 else None
        except (ValueError, OverflowError):
            parsed.errors.append(f"{where}: not numbers: {line.strip()[:80]!r}")
            continue
        if frame < 1:
            parsed.errors.append(f"{where}: frame {frame} (MOT frames start at 1)")
            continue
        if not all(math.isfinite(v) for v in (x, y, w, h)):
            parsed.errors.append(f"{where}: coordinates must be finite numbers")
            continue
        frames.add(frame)
        if mot17 and conf == 0:
            parsed.skip("MOT rows marked ignore (consider flag 0)")
            continue
        if mot_id >= 0:
            first = seen.setdefault((frame, mot_id), number)
            if first != number:
                parsed.errors.append(
                    f"{where}: id {mot_id} appears twice on frame {frame} (also line {first})"
                )
                continue
        label: str | int | None = id_classes.get(str(mot_id))
        if label is None and klass is not None and klass not in (-1, 0):
            names = class_names if class_names is not None else MOT_CLASSES
            if not 1 <= klass <= len(names):
                source_of_names = "labels.txt" if class_names is not None else "the MOTChallenge classes"
                parsed.errors.append(
                    f"{where}: class {klass} is not in {source_of_names} (1-{len(names)}); "
                    "add a labels.txt with one class name a line"
                )
                continue
            label = names[klass - 1]
        # -1 is MOT's "no score" (ground truth files); a detector's own scores may be any number.
        if not mot17 and conf is not None and math.isfinite(conf) and conf != -1:
            score: float | None = conf
        elif not mot17 and conf is not None and conf != -1:
            parsed.errors.append(f"{where}: confidence must be a finite number (or -1 for none)")
            continue
        else:
            score = None
        parsed.items.append(
            LabelItem(
                where=f"{where} (id {mot_id})",
                label=label,
                x=x,
                y=y,
                w=w,
                h=h,
                frame_index=frame - 1,
                track=str(mot_id) if mot_id >= 0 else None,
                score=score,
                occluded=visibility is not None and math.isfinite(visibility) and visibility < 1,
            )
        )
    boxed = {i.frame_index for i in parsed.items}
    parsed.empty_frames.extend(FrameRef(index=f - 1) for f in sorted(frames) if f - 1 not in boxed)
