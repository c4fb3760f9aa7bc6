"""COCO detection JSON, streamed out and read back.

Out: ``images`` (file_name, width, height, frame_index, video_id), ``annotations`` (bbox [x, y, w, h]
in pixels, area, iscrowd 0, category_id, track_id, source, generation and, for model boxes, score),
``categories`` (id = class index + 1). The document is written piece by piece from iterator queries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import IO, Any

from annotate.exchange.labels import LabelItem, ParsedLabels
from annotate.exchange.rows import (
    BoxRow,
    ClipInfo,
    ExportFilter,
    frame_file_name,
    iter_boxes,
    iter_frames,
)

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
        "iscrowd": 0,
        "track_id": box.track_id,
        "source": box.source,
        "generation": box.generation,
    }
    if box.score is not None:
        item["score"] = box.score
    return item


def write_coco(
    out: IO[str],
    *,
    project_id: int,
    project_name: str,
    flt: ExportFilter,
    classes: list[tuple[int, str]],
    clips: dict[int, ClipInfo],
    progress: Progress,
    on_image: Callable[[str, str], None] | None = None,
) -> tuple[int, int]:
    """Write the document; returns (images, boxes). ``on_image(file_name, media_path)`` is told of
    every image, for writers that ship the pictures too."""
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
    for frame in iter_frames(project_id=project_id, flt=flt):
        clip = clips[frame.video_id]
        file_name = frame_file_name(frame)
        image = {
            "id": frame.id,
            "file_name": file_name,
            "width": clip.width,
            "height": clip.height,
            "frame_index": frame.frame_index,
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
    boxes = 0
    for box in iter_boxes(project_id=project_id, flt=flt):
        out.write(("," if boxes else "") + "\n" + _dump(annotation_json(box)))
        boxes += 1
        done += 1
        if done % 500 == 0:
            progress(done)
    out.write("]}\n")
    progress(done)
    return images, boxes


# -- reading -----------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_coco(data: bytes, *, source_name: str = "COCO file") -> ParsedLabels:
    """Label items of a COCO document; structural problems become per-item errors."""
    parsed = ParsedLabels()
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        parsed.errors.append(f"{source_name}: not valid JSON ({exc})")
        return parsed
    if not isinstance(document, dict):
        parsed.errors.append(f"{source_name}: the top level must be an object")
        return parsed
    sections = {}
    for key in ("images", "annotations", "categories"):
        value = document.get(key)
        if not isinstance(value, list):
            parsed.errors.append(f"{source_name}: '{key}' must be a list")
        sections[key] = value if isinstance(value, list) else []
    if parsed.errors:
        return parsed

    categories: dict[int, str] = {}
    for n, category in enumerate(sections["categories"]):
        cid = category.get("id") if isinstance(category, dict) else None
        name = category.get("name") if isinstance(category, dict) else None
        if not isinstance(cid, int) or isinstance(cid, bool) or not isinstance(name, str) or not name:
            parsed.errors.append(f"category {n}: needs an integer 'id' and a non-empty 'name'")
        elif cid in categories:
            parsed.errors.append(f"category {cid}: duplicate id")
        else:
            categories[cid] = name

    images: dict[int, int | str] = {}
    for n, image in enumerate(sections["images"]):
        iid = image.get("id") if isinstance(image, dict) else None
        if not isinstance(iid, int) or isinstance(iid, bool):
            parsed.errors.append(f"image {n}: needs an integer 'id'")
            continue
        if iid in images:
            parsed.errors.append(f"image {iid}: duplicate id")
            continue
        assert isinstance(image, dict)
        index, name = image.get("frame_index"), image.get("file_name")
        if isinstance(index, int) and not isinstance(index, bool):
            images[iid] = index
        elif isinstance(name, str) and name:
            images[iid] = name
        else:
            parsed.errors.append(f"image {iid}: needs an integer 'frame_index' or a 'file_name'")
            continue
        video = image.get("video_id")
        if video is not None:
            parsed.clip_keys.add(str(video))

    seen_annotations: set[int] = set()
    for n, annotation in enumerate(sections["annotations"]):
        if not isinstance(annotation, dict):
            parsed.errors.append(f"annotation {n}: must be an object")
            continue
        aid = annotation.get("id", n)
        where = f"annotation {aid}"
        if not isinstance(aid, int) or isinstance(aid, bool):
            parsed.errors.append(f"annotation {n}: 'id' must be an integer")
            continue
        if aid in seen_annotations:
            parsed.errors.append(f"{where}: duplicate id")
            continue
        seen_annotations.add(aid)
        image_id = annotation.get("image_id")
        if image_id not in images:
            parsed.errors.append(f"{where}: unknown image_id {image_id!r}")
            continue
        category_id = annotation.get("category_id")
        if category_id not in categories:
            parsed.errors.append(f"{where}: unknown category_id {category_id!r}")
            continue
        bbox = annotation.get("bbox")
        values = [_number(v) for v in bbox] if isinstance(bbox, list) else []
        if len(values) != 4 or any(v is None or not math.isfinite(v) for v in values):
            parsed.errors.append(f"{where}: bbox must be 4 finite numbers [x, y, w, h], got {bbox!r}")
            continue
        score = annotation.get("score")
        if score is not None and (_number(score) is None or not math.isfinite(float(score))):
            parsed.errors.append(f"{where}: score must be a number, got {score!r}")
            continue
        track = annotation.get("track_id")
        if track is not None and not isinstance(track, int | str):
            parsed.errors.append(f"{where}: track_id must be an integer or a string")
            continue
        x, y, w, h = (float(v) for v in values if v is not None)
        parsed.items.append(
            LabelItem(
                where=where,
                frame=images[image_id],
                label=categories[category_id],
                x=x,
                y=y,
                w=w,
                h=h,
                track=None if track is None else str(track),
                score=None if score is None else float(score),
            )
        )
    return parsed
