"""Pascal VOC detection: ``Annotations/<name>.xml`` per picture, boxes in, boxes out.

In: every ``.xml`` under an ``Annotations/`` folder (or every ``.xml`` when there is none); the frame
is ``<filename>`` (else the xml's own name), ``<size>`` the picture size the boxes were drawn on,
each ``<object>`` with ``<name>`` and ``<bndbox>`` (xmin, ymin, xmax, ymax in pixels, read as written,
the way Datumaro and CVAT do) one box; ``<occluded>1`` marks it occluded. Body ``<part>`` boxes are
not objects and are skipped.

Out: ``Annotations/<frame>.xml``, ``ImageSets/Main/default.txt`` and ``labelmap.txt`` (Datumaro's
VOC layout); with images, ``JPEGImages/``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from annotate.exchange.labels import FrameRef, LabelItem, ParsedLabels
from annotate.exchange.rows import BoxRow, ClipInfo, FrameRow, frame_file_name
from annotate.exchange.sinks import Sink
from annotate.exchange.sources import Source


def _text(element: Element | None, path: str) -> str | None:
    found = element.find(path) if element is not None else None
    return found.text.strip() if found is not None and found.text else None


def _files(source: Source) -> list[str]:
    xmls = sorted(n for n in source.names() if n.lower().endswith(".xml"))
    annotated = [n for n in xmls if "Annotations" in PurePosixPath(n).parts[:-1]]
    return annotated or xmls


def parse_voc(source: Source) -> ParsedLabels:
    parsed = ParsedLabels()
    files = _files(source)
    if not files:
        parsed.errors.append("no VOC Annotations/*.xml file found")
    for name in files:
        try:
            root = fromstring(source.read(name))
        except (ParseError, DefusedXmlException) as exc:
            parsed.errors.append(f"{name}: not valid XML ({exc})")
            continue
        if root.tag != "annotation":
            parsed.errors.append(f"{name}: not a VOC annotation (top element <{root.tag}>)")
            continue
        frame = _text(root, "filename") or PurePosixPath(name).stem
        size = None
        width, height = _text(root, "size/width"), _text(root, "size/height")
        if width and height and width.isdigit() and height.isdigit() and int(width) and int(height):
            size = (int(width), int(height))
        boxes = 0
        for number, obj in enumerate(root.findall("object"), start=1):
            where = f"{name} object {number}"
            label = _text(obj, "name")
            values = [_text(obj, f"bndbox/{k}") for k in ("xmin", "ymin", "xmax", "ymax")]
            if not label:
                parsed.errors.append(f"{where}: no <name>")
                continue
            try:
                xmin, ymin, xmax, ymax = (float(v) for v in values if v is not None)
            except ValueError:
                parsed.errors.append(f"{where}: bndbox must hold numbers, got {values!r}")
                continue
            if len([v for v in values if v is not None]) != 4 or not all(
                math.isfinite(v) for v in (xmin, ymin, xmax, ymax)
            ):
                parsed.errors.append(f"{where}: bndbox needs finite xmin, ymin, xmax, ymax")
                continue
            boxes += 1
            parsed.items.append(
                LabelItem(
                    where=where,
                    label=label,
                    x=xmin,
                    y=ymin,
                    w=xmax - xmin,
                    h=ymax - ymin,
                    frame_name=frame,
                    occluded=_text(obj, "occluded") == "1",
                    image_size=size,
                )
            )
        if not boxes:
            parsed.empty_frames.append(FrameRef(name=frame))
    return parsed


# -- writing ---------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def write_voc(
    sink: Sink,
    *,
    classes: list[tuple[int, str]],
    clips: dict[int, ClipInfo],
    frames: Iterable[tuple[FrameRow, list[BoxRow]]],
    progress: Callable[[int], None],
    with_images: bool = False,
) -> tuple[int, int]:
    """Write the dataset from ``frames`` (each frame with its boxes); returns (images, boxes)."""
    names = dict(classes)
    stems: list[str] = []
    images = boxes = 0
    for frame, frame_boxes in frames:
        clip = clips[frame.video_id]
        file_name = frame_file_name(frame)
        stem = PurePosixPath(file_name).stem
        parts = [
            "<annotation>\n",
            "  <folder>JPEGImages</folder>\n",
            f"  <filename>{_escape(file_name)}</filename>\n",
            f"  <size>\n    <width>{clip.width}</width>\n    <height>{clip.height}</height>\n"
            "    <depth>3</depth>\n  </size>\n",
            "  <segmented>0</segmented>\n",
        ]
        for box in frame_boxes:
            parts.append(
                f"  <object>\n    <name>{_escape(names[box.class_index])}</name>\n"
                "    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n"
                f"    <occluded>{int(box.occluded)}</occluded>\n    <difficult>0</difficult>\n"
                f"    <bndbox>\n      <xmin>{_num(box.x)}</xmin>\n      <ymin>{_num(box.y)}</ymin>\n"
                f"      <xmax>{_num(box.x + box.w)}</xmax>\n      <ymax>{_num(box.y + box.h)}</ymax>\n"
                "    </bndbox>\n  </object>\n"
            )
        parts.append("</annotation>\n")
        sink.write_bytes(f"Annotations/{stem}.xml", "".join(parts).encode())
        if with_images:
            sink.copy_media(f"JPEGImages/{file_name}", frame.image)
        stems.append(stem)
        images += 1
        boxes += len(frame_boxes)
        if images % 100 == 0:
            progress(images + boxes)
    sink.write_bytes("ImageSets/Main/default.txt", "".join(f"{s}\n" for s in stems).encode())
    labelmap = "# label:color_rgb:parts:actions\n" + "".join(f"{_escape(n)}:::\n" for _i, n in classes)
    sink.write_bytes("labelmap.txt", labelmap.encode())
    progress(images + boxes)
    return images, boxes
