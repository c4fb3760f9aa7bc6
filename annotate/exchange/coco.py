"""COCO detection JSON, streamed out and read back as a stream.

Out: ``images`` (file_name, width, height, frame_index: the frame's number in the clip's source,
video_id), ``annotations`` (bbox [x, y, w, h]
in pixels, area, iscrowd 0, category_id, track_id, source, generation and, for model boxes, score;
``attributes`` with track_id, occluded and keyframe, where CVAT and Datumaro read them),
``categories`` (id = class index + 1). The document is written piece by piece from the frame and
box streams it is given.

In: a COCO instances document (any key order; parsed as a stream with ijson's C backend in three
passes, so memory follows the boxes, not the file), or a COCO results list
``[{image_id, category_id, bbox, score}]`` as a detector writes it against this platform's own
COCO export (image_id = its image id, category_id = its category id), which imports as
predictions. Tracks: ``attributes.track_id`` (CVAT, Datumaro) or a top-level ``track_id``.
Frames: see annotate.exchange.matching (file_name, then frame_index or frame_id).
``images[].width/height`` is the size the boxes were drawn on; boxes are rescaled to the clip's
frames when it differs (a clip ingested with a maximum width).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import ijson

from annotate.exchange.labels import FrameRef, LabelItem, ParsedLabels
from annotate.exchange.rows import BoxRow, ClipInfo, FrameRow, frame_file_name

Progress = Callable[[int], None]


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def annotation_json(box: BoxRow) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": box.id,
        "image_id": box.frame_id,
        "category_id": box.class_index + 1,
        "bbox": [box.x, box.y, box.w, box.h],
        "area": box.w * box.h,
        "segmentation": [],  # boxes only; present because CVAT and Datumaro expect the field
        "iscrowd": 0,
        "track_id": box.track_id,
        "source": box.source,
        "generation": box.generation,
        # Where CVAT and Datumaro read a track and its flags; every stored box is a keyframe (CVAT
        # must not re-interpolate it).
        "attributes": {
            "occluded": box.occluded,
            "keyframe": True,
            **({"track_id": box.track_id} if box.track_id is not None else {}),
        },
    }
    if box.score is not None:
        item["score"] = box.score
    return item


def write_coco(
    out: IO[str],
    *,
    project_id: int,
    project_name: str,
    classes: list[tuple[int, str]],
    clips: dict[int, ClipInfo],
    frames: Iterable[FrameRow],
    boxes: Iterable[BoxRow],
    progress: Progress,
    on_image: Callable[[str, str], None] | None = None,
) -> tuple[int, int]:
    """Write the document; returns (images, boxes). ``frames`` and ``boxes`` are read once each, in
    turn, so both may be streams. ``on_image(file_name, media_path)`` is told of every image, for
    writers that ship the pictures too."""
    done = 0
    out.write('{"info":')
    out.write(_dump({"description": project_name, "project_id": project_id, "format": "annotate coco v1"}))
    out.write(',"licenses":[],"categories":')
    out.write(_dump([{"id": index + 1, "name": name, "supercategory": ""} for index, name in classes]))
    out.write(',"videos":')
    out.write(
        _dump(
            [
                {"id": c.id, "name": c.name, "width": c.width, "height": c.height, "fps": c.fps}
                for c in clips.values()
            ]
        )
    )
    out.write(',"images":[')
    images = 0
    for frame in frames:
        clip = clips[frame.video_id]
        file_name = frame_file_name(frame)
        image = {
            "id": frame.id,
            "file_name": file_name,
            "width": clip.width,
            "height": clip.height,
            "frame_index": clip.number(frame.frame_index),
            "video_id": frame.video_id,
        }
        out.write(("," if images else "") + "\n" + _dump(image))
        if on_image is not None:
            on_image(file_name, frame.image)
        images += 1
        done += 1
        if done % 500 == 0:
            progress(done)
    out.write('],"annotations":[')
    written = 0
    for box in boxes:
        out.write(("," if written else "") + "\n" + _dump(annotation_json(box)))
        written += 1
        done += 1
        if done % 500 == 0:
            progress(done)
    out.write("]}\n")
    progress(done)
    return images, written


# -- reading -----------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


Opener = Callable[[], IO[bytes]]


def _opener(source: Opener | IO[bytes]) -> Opener:
    if callable(source):
        return source
    stream = source

    def rewind() -> IO[bytes]:
        stream.seek(0)
        return stream

    return rewind


def _items(opener: Opener, prefix: str) -> Iterator[Any]:
    """Elements under ``prefix``, built by ijson's C backend one at a time (a pass over the file)."""
    stream = opener()
    yield from ijson.items(stream, prefix, use_float=True)


def _top_level(opener: Opener) -> str:
    for _prefix, event, _value in ijson.parse(opener()):
        return str(event)
    return ""


def parse_coco(source: Opener | IO[bytes], *, source_name: str = "COCO file") -> ParsedLabels:
    """Label items of a COCO document or results list; structural problems become per-item errors.

    ``source`` opens the file afresh (or is a seekable stream): categories, images and annotations are
    read in three passes, so the file's key order does not matter and no section is held whole; each
    annotation becomes a label item as it is read."""
    opener = _opener(source)
    parsed = ParsedLabels()
    images: dict[int, dict[str, Any]] = {}
    categories: dict[int, str] = {}
    try:
        kind = _top_level(opener)
        if kind not in ("start_map", "start_array"):
            parsed.errors.append(f"{source_name}: the top level must be an object or a results list")
            return parsed
        results = kind == "start_array"
        used: set[int] = set()
        seen: set[int] = set()
        if not results:
            for n, category in enumerate(_items(opener, "categories.item")):
                _read_category(category, n, categories, parsed)
            for n, image in enumerate(_items(opener, "images.item")):
                _read_image(image, n, images, parsed)
            if not images and not parsed.errors:
                parsed.errors.append(f"{source_name}: 'images' must be a non-empty list")
                return parsed
        for n, annotation in enumerate(_items(opener, "item" if results else "annotations.item")):
            item = _read_annotation(n, annotation, images, categories, parsed, seen, results=results)
            if item is not None:
                parsed.items.append(item)
                if not results:
                    used.add(annotation["image_id"])
    except ijson.JSONError as exc:
        parsed.errors.append(f"{source_name}: not valid JSON ({str(exc)[:300]})")
        return parsed
    except UnicodeDecodeError as exc:
        parsed.errors.append(f"{source_name}: not UTF-8 JSON ({exc})")
        return parsed
    parsed.predictions = results
    for iid, image in images.items():
        if iid not in used:
            parsed.empty_frames.append(FrameRef(image.get("name"), image.get("index")))
    return parsed


def _read_category(category: Any, n: int, categories: dict[int, str], parsed: ParsedLabels) -> None:
    cid = _integer(category.get("id")) if isinstance(category, dict) else None
    name = category.get("name") if isinstance(category, dict) else None
    if cid is None or not isinstance(name, str) or not name:
        parsed.errors.append(f"category {n}: needs an integer 'id' and a non-empty 'name'")
    elif cid in categories:
        parsed.errors.append(f"category {cid}: duplicate id")
    else:
        categories[cid] = name


def _read_image(image: Any, n: int, images: dict[int, dict[str, Any]], parsed: ParsedLabels) -> None:
    iid = _integer(image.get("id")) if isinstance(image, dict) else None
    if iid is None:
        parsed.errors.append(f"image {n}: needs an integer 'id'")
        return
    if iid in images:
        parsed.errors.append(f"image {iid}: duplicate id")
        return
    index = _integer(image.get("frame_index"))
    if index is None:
        index = _integer(image.get("frame_id"))
    name = image.get("file_name") if isinstance(image.get("file_name"), str) and image["file_name"] else None
    if index is None and name is None:
        parsed.errors.append(f"image {iid}: needs a 'file_name', or an integer 'frame_index' or 'frame_id'")
        return
    width, height = _integer(image.get("width")), _integer(image.get("height"))
    size = (width, height) if width and height and width > 0 and height > 0 else None
    images[iid] = {"name": name, "index": index, "size": size}
    video = image.get("video_id")
    if video is not None:
        parsed.clip_keys.add(str(video))


def _read_annotation(
    n: int,
    annotation: Any,
    images: dict[int, dict[str, Any]],
    categories: dict[int, str],
    parsed: ParsedLabels,
    seen: set[int],
    *,
    results: bool,
) -> LabelItem | None:
    if not isinstance(annotation, dict):
        parsed.errors.append(f"annotation {n}: must be an object")
        return None
    aid = annotation.get("id", n)
    where = f"annotation {aid}" if not results else f"result {n}"
    if not results:
        if _integer(aid) is None:
            parsed.errors.append(f"annotation {n}: 'id' must be an integer")
            return None
        if aid in seen:
            parsed.errors.append(f"{where}: duplicate id")
            return None
        seen.add(aid)
    if "bbox" not in annotation:
        parsed.skip("annotations without a bbox (captions, labels, panoptic segments)")
        return None
    image_id = annotation.get("image_id")
    if results:
        if _integer(image_id) is None:
            parsed.errors.append(f"{where}: image_id must be an integer, got {image_id!r}")
            return None
    elif image_id not in images:
        parsed.errors.append(f"{where}: unknown image_id {image_id!r}")
        return None
    category_id = annotation.get("category_id")
    if results:
        number = _integer(category_id)
        if number is None or number < 1:
            parsed.errors.append(
                f"{where}: category_id must be a category id of the export (class index + 1)"
            )
            return None
        label: str | int = number - 1
    elif category_id not in categories:
        parsed.errors.append(f"{where}: unknown category_id {category_id!r}")
        return None
    else:
        label = categories[category_id]
    bbox = annotation.get("bbox")
    values = [_number(v) for v in bbox] if isinstance(bbox, list) else []
    if len(values) != 4 or any(v is None or not math.isfinite(v) for v in values):
        parsed.errors.append(f"{where}: bbox must be 4 finite numbers [x, y, w, h], got {bbox!r}")
        return None
    score = annotation.get("score")
    if score is not None and (_number(score) is None or not math.isfinite(float(score))):
        parsed.errors.append(f"{where}: score must be a number, got {score!r}")
        return None
    attributes = annotation.get("attributes")
    attributes = attributes if isinstance(attributes, dict) else {}
    track = attributes.get("track_id", annotation.get("track_id"))
    if track is not None and (isinstance(track, bool) or not isinstance(track, int | str)):
        parsed.errors.append(f"{where}: track_id must be an integer or a string")
        return None
    x, y, w, h = (float(v) for v in values if v is not None)
    image: dict[str, Any] = {} if results else images[image_id]  # type: ignore[index]
    return LabelItem(
        where=where,
        label=label,
        x=x,
        y=y,
        w=w,
        h=h,
        frame_name=image.get("name"),
        frame_index=image.get("index"),
        frame_pk=image_id if results else None,
        track=None if track is None else str(track),
        score=None if score is None else float(score),
        occluded=attributes.get("occluded") is True,
        image_size=image.get("size"),
    )
