"""CVAT for video 1.1 and CVAT for images 1.1 XML: boxes in, boxes out.

In (streamed with defusedxml's iterparse: no entity expansion, memory per element):
* for images: ``<image id name width height>`` holding ``<box label occluded xtl ytl xbr ybr>``;
  the frame is the image ``name`` (then its ``id``), the picture size rescales when it differs;
* for video: ``<track id label>`` holding ``<box frame outside occluded keyframe ...>`` for every
  frame of the track (CVAT writes interpolated frames too); ``outside="1"`` ends the object's
  visibility and is no box. ``frame`` is CVAT's frame number: matched to a picture named
  ``frame_<6 digits>`` (CVAT's own frame names) first, else read as the frame number in the clip's
  source (annotate.exchange.matching: the clip's index unless it was sampled).
  ``meta/task/original_size`` is the size the boxes were drawn on.
Polygons, polylines, points, skeletons, ellipses, masks and tags are not boxes: skipped and counted.

Out: CVAT for video 1.1 (one ``<track>`` per platform track, one ``<box keyframe="1">`` per stored
box and an ``outside`` box after each run of frames, so CVAT does not stretch an object over gaps;
boxes without a track as one-box tracks), and CVAT for images 1.1 (one ``<image>`` per frame),
both readable by CVAT and Datumaro.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import IO, Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from annotate.exchange.labels import FrameRef, LabelItem, ParsedLabels
from annotate.exchange.rows import BoxRow, ClipInfo, FrameRow, frame_file_name

_NOT_BOXES = ("polygon", "polyline", "points", "skeleton", "ellipse", "mask", "cuboid", "tag")


def _float(element: Element, key: str) -> float:
    value = float(element.get(key, "nan"))
    if not math.isfinite(value):
        raise ValueError(f"{key} is not a finite number")
    return value


def _flag(element: Element, key: str) -> bool:
    return element.get(key, "0").strip().lower() in ("1", "true")


def _box(element: Element, where: str, parsed: ParsedLabels) -> tuple[float, float, float, float] | None:
    try:
        xtl, ytl, xbr, ybr = (_float(element, k) for k in ("xtl", "ytl", "xbr", "ybr"))
    except ValueError as exc:
        parsed.errors.append(f"{where}: {exc}")
        return None
    return xtl, ytl, xbr - xtl, ybr - ytl


def parse_cvat(stream: IO[bytes], *, source_name: str = "CVAT file") -> ParsedLabels:
    parsed = ParsedLabels()
    image: dict[str, Any] | None = None
    track: dict[str, Any] | None = None
    size: tuple[int, int] | None = None
    path: list[str] = []
    width = height = ""
    count = 0
    try:
        for event, element in iterparse(stream, events=("start", "end")):
            tag = element.tag
            if event == "start":
                path.append(tag)
                if tag == "image" and len(path) == 2:
                    image = {"id": element.get("id"), "name": element.get("name"), "boxes": 0}
                    try:
                        w, h = int(element.get("width", "0")), int(element.get("height", "0"))
                        image["size"] = (w, h) if w > 0 and h > 0 else None
                    except ValueError:
                        image["size"] = None
                elif tag == "track" and len(path) == 2:
                    track = {"id": element.get("id"), "label": element.get("label")}
                continue
            path.pop()
            if tag == "width" and path[-2:] == ["task", "original_size"]:
                width = (element.text or "").strip()
            elif tag == "height" and path[-2:] == ["task", "original_size"]:
                height = (element.text or "").strip()
            elif tag == "original_size" and width.isdigit() and height.isdigit():
                size = (int(width), int(height))
            elif tag == "box" and image is not None and len(path) == 2:
                count += 1
                _image_box(element, image, count, parsed)
            elif tag == "box" and track is not None and len(path) == 2:
                count += 1
                _track_box(element, track, size, count, parsed)
            elif tag in _NOT_BOXES and len(path) == 2:
                parsed.skip(f"CVAT {tag} shapes (not boxes)")
            elif tag == "image" and len(path) == 1 and image is not None:
                if not image["boxes"]:
                    parsed.empty_frames.append(FrameRef(image["name"], _int(image["id"])))
                image = None
            elif tag == "track" and len(path) == 1:
                track = None
            if len(path) <= 2:
                element.clear()
    except (ParseError, DefusedXmlException) as exc:
        parsed.errors.append(f"{source_name}: not valid CVAT XML ({exc})")
    return parsed


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _image_box(element: Element, image: dict[str, Any], count: int, parsed: ParsedLabels) -> None:
    where = f"image {image['name']!r} box {image['boxes'] + 1}"
    box = _box(element, where, parsed)
    label = element.get("label")
    if box is None:
        return
    if not label:
        parsed.errors.append(f"{where}: no label")
        return
    image["boxes"] += 1
    parsed.items.append(
        LabelItem(
            where=where,
            label=label,
            x=box[0],
            y=box[1],
            w=box[2],
            h=box[3],
            frame_name=image["name"],
            frame_index=_int(image["id"]),
            occluded=_flag(element, "occluded"),
            image_size=image["size"],
        )
    )


def _track_box(
    element: Element, track: dict[str, Any], size: tuple[int, int] | None, count: int, parsed: ParsedLabels
) -> None:
    frame = _int(element.get("frame"))
    where = f"track {track['id']} frame {element.get('frame')}"
    if frame is None or frame < 0:
        parsed.errors.append(f"{where}: 'frame' must be a frame number")
        return
    if _flag(element, "outside"):
        parsed.skip("CVAT track frames marked outside (the object is out of view)")
        parsed.empty_frames.append(FrameRef(f"frame_{frame:06d}", frame))
        return
    box = _box(element, where, parsed)
    if box is None:
        return
    if not track["label"]:
        parsed.errors.append(f"{where}: the track has no label")
        return
    parsed.items.append(
        LabelItem(
            where=where,
            label=track["label"],
            x=box[0],
            y=box[1],
            w=box[2],
            h=box[3],
            frame_name=f"frame_{frame:06d}",
            frame_index=frame,
            track=f"cvat-{track['id']}",
            occluded=_flag(element, "occluded"),
            image_size=size,
        )
    )


# -- writing ---------------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:.2f}"


def write_cvat_video(
    out: IO[str],
    *,
    classes: list[tuple[int, str]],
    clip: ClipInfo,
    boxes: Iterable[BoxRow],
    progress: Callable[[int], None],
) -> int:
    """One clip's ``boxes`` (ordered by frame) as CVAT for video 1.1; returns the box count. Tracks
    are gathered per clip (a CVAT track lists its boxes together), so memory follows the clip's boxes."""
    names = dict(classes)
    tracks: dict[int | str, list[BoxRow]] = {}
    for box in boxes:
        key: int | str = box.track_id if box.track_id is not None else f"box{box.id}"
        tracks.setdefault(key, []).append(box)
    out.write('<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n')
    out.write(f"    <task>\n      <name>{_text(clip.name)}</name>\n      <size>{clip.frame_count}</size>\n")
    out.write(f"      <mode>interpolation</mode>\n      <start_frame>{clip.number(0)}</start_frame>\n")
    out.write(f"      <stop_frame>{max(clip.number_count - 1, 0)}</stop_frame>\n      <labels>\n")
    for _index, name in classes:
        out.write(
            f"        <label>\n          <name>{_text(name)}</name>\n"
            "          <type>rectangle</type>\n        </label>\n"
        )
    out.write("      </labels>\n      <original_size>\n")
    out.write(f"        <width>{clip.width}</width>\n        <height>{clip.height}</height>\n")
    out.write("      </original_size>\n    </task>\n  </meta>\n")
    count = 0
    for number, track in enumerate(tracks.values()):
        label = names[track[0].class_index]
        source = "manual" if track[0].source == "human" else "auto"
        out.write(f'  <track id="{number}" label={quoteattr(label)} source="{source}">\n')
        for position, box in enumerate(track):
            out.write(_box_line(box, clip, outside=False))
            count += 1
            following = track[position + 1] if position + 1 < len(track) else None
            gap = following is None or following.frame_index > box.frame_index + 1
            if gap and box.frame_index + 1 < clip.frame_count:
                # CVAT would stretch the object over a gap or to the end; an outside box stops it.
                out.write(_box_line(box._replace(frame_index=box.frame_index + 1), clip, outside=True))
        out.write("  </track>\n")
        if count % 1000 < len(track):
            progress(count)
    out.write("</annotations>\n")
    progress(count)
    return count


def write_cvat_images(
    out: IO[str],
    *,
    classes: list[tuple[int, str]],
    clips: dict[int, ClipInfo],
    frames: Iterable[tuple[FrameRow, list[BoxRow]]],
    progress: Callable[[int], None],
) -> tuple[int, int]:
    """CVAT for images 1.1: one ``<image>`` per frame (named as in the other exports), its boxes inside;
    returns (images, boxes). Streams frame by frame."""
    names = dict(classes)
    out.write('<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n')
    out.write("    <task>\n      <mode>annotation</mode>\n      <labels>\n")
    for _index, name in classes:
        out.write(f"        <label>\n          <name>{_text(name)}</name>\n")
        out.write("          <type>rectangle</type>\n        </label>\n")
    out.write("      </labels>\n    </task>\n  </meta>\n")
    images = boxes = 0
    for frame, frame_boxes in frames:
        clip = clips[frame.video_id]
        out.write(
            f'  <image id="{images}" name={quoteattr(frame_file_name(frame))} '
            f'width="{clip.width}" height="{clip.height}">\n'
        )
        for box in frame_boxes:
            out.write(
                f"    <box label={quoteattr(names[box.class_index])} source="
                f'"{"manual" if box.source == "human" else "auto"}" occluded="{int(box.occluded)}" '
                f'xtl="{_num(box.x)}" ytl="{_num(box.y)}" xbr="{_num(box.x + box.w)}" '
                f'ybr="{_num(box.y + box.h)}" z_order="0">\n    </box>\n'
            )
        out.write("  </image>\n")
        images += 1
        boxes += len(frame_boxes)
        if images % 100 == 0:
            progress(images + boxes)
    out.write("</annotations>\n")
    progress(images + boxes)
    return images, boxes


def _box_line(box: BoxRow, clip: ClipInfo, *, outside: bool) -> str:
    # Every stored box is a keyframe: CVAT must not re-interpolate boxes people or models placed.
    # ``frame`` is the source's frame number, as imports read it (ClipInfo.number).
    return (
        f'    <box frame="{clip.number(box.frame_index)}" outside="{int(outside)}" '
        f'occluded="{int(box.occluded)}" '
        f'keyframe="1" xtl="{_num(box.x)}" ytl="{_num(box.y)}" xbr="{_num(box.x + box.w)}" '
        f'ybr="{_num(box.y + box.h)}" z_order="0">\n    </box>\n'
    )


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
