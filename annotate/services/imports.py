"""Label imports into one clip: COCO, YOLO (folder or zip) or MOT, as human labels or predictions.

All or nothing: the file is parsed and every item checked (frame, class, box inside the picture,
positive size, no duplicates) before a single row is written; any problem fails the import with the
full list of per-item problems. Then classes (with ``create_classes``), tracks and boxes are written
in one transaction.

* Frames: see annotate.exchange.labels (integer index, stored picture name, or trailing digits).
* Classes: by name (YOLO via data.yaml names; MOT via gt/id_classes.json or the MOT16 class column
  as class index + 1); unknown names fail unless ``create_classes``.
* Human boxes mark their frames touched, so later model predictions never overwrite them. Imported
  predictions are pending boxes without a generation; frames a person already touched or reviewed,
  or that carry a confirmed box, are skipped (counted in ``skipped_frames``), by the same rule as the
  micro-model's own predictions (``engine_adapter.frames_open_to_predictions``).
* Existing boxes stay; imported tracks are new tracks whose ``external_id`` is the file's track id.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotate import engine_adapter
from annotate.errors import ServiceError
from annotate.exchange import coco, mot, yolo
from annotate.exchange.labels import LabelItem, ParsedLabels, frame_index_from_name
from annotate.exchange.rows import ExportFilter, export_clips
from annotate.exchange.sources import DirSource, FileSource, Source, ZipSource
from annotate.exchange.zipsafe import UnsafeArchiveError, open_checked
from annotate.models import (
    Box,
    BoxSource,
    ExportFormat,
    Frame,
    LabelClass,
    ReviewState,
    Track,
    Video,
    VideoStatus,
)
from annotate.services.projects import label_class_create

MAX_LISTED_ERRORS = 200
# Rounding slack at the picture's edges (a YOLO file keeps 6 decimals of a fraction).
EDGE_TOLERANCE_PX = 0.01


class LabelImportError(ServiceError):
    """The import was refused as a whole; ``errors`` lists every problem found."""

    code = "import_invalid"

    def __init__(self, errors: list[str]) -> None:
        shown = errors[:MAX_LISTED_ERRORS]
        if len(errors) > len(shown):
            shown.append(f"... and {len(errors) - len(shown)} more problems")
        count = len(errors)
        self.summary = f"Nothing was imported: {count} problem{'s' if count != 1 else ''} found."
        super().__init__(f"{self.summary} {shown[0]}")
        self.errors = shown

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code, "errors": self.errors}


@dataclass
class ImportResult:
    video: int
    boxes: int
    frames: int
    tracks: int
    classes_created: list[str]
    skipped_frames: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "boxes": self.boxes,
            "frames": self.frames,
            "tracks": self.tracks,
            "classes_created": self.classes_created,
            "skipped_frames": self.skipped_frames,
        }


@dataclass
class _Checked:
    frame_index: int
    label: str  # class name
    x: float
    y: float
    w: float
    h: float
    track: str | None
    score: float | None


@contextmanager
def _open_source(path: Path, name: str | None) -> Iterator[Source]:
    if path.is_dir():
        yield DirSource(path)
        return
    if zipfile.is_zipfile(path):
        try:
            archive = open_checked(path)
        except UnsafeArchiveError as exc:
            raise LabelImportError([f"zip refused: {p}" for p in exc.problems]) from exc
        except zipfile.BadZipFile as exc:
            raise LabelImportError([f"not a readable zip file ({exc})"]) from exc
        with archive:
            yield ZipSource(archive)
        return
    yield FileSource(path, name)


def _parse(source: Source, format: str) -> ParsedLabels:
    if format == ExportFormat.COCO:
        documents = sorted(
            (n for n in source.names() if n.lower().endswith(".json")), key=lambda n: (n.count("/"), n)
        )
        if len(source.names()) == 1 and not documents:
            documents = source.names()
        if not documents:
            return ParsedLabels(errors=["no COCO .json file found"])
        if len(documents) > 1 and documents[0].count("/") == documents[1].count("/"):
            return ParsedLabels(errors=[f"several COCO files found ({', '.join(documents[:5])}); send one"])
        return coco.parse_coco(source.read(documents[0]), source_name=PurePosixPath(documents[0]).name)
    if format == ExportFormat.YOLO:
        return yolo.parse_yolo(source)
    if format == ExportFormat.MOT:
        return mot.parse_mot(source)
    raise ServiceError(f"Format must be one of: {', '.join(ExportFormat.values)}.", field="format")


def _bounds_problem(
    item: LabelItem, x: float, y: float, w: float, h: float, width: int, height: int
) -> str | None:
    shown = "[" + ", ".join(f"{v:g}" for v in (item.x, item.y, item.w, item.h)) + "]"
    box = f"{item.where}: bbox {shown}"
    if item.normalized:
        box += " (normalised)"
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        return f"{box} is not finite"
    if w <= 0 or h <= 0:
        return f"{box} has no area (width and height must be positive)"
    if x < -EDGE_TOLERANCE_PX:
        return f"{box} extends past the left edge"
    if y < -EDGE_TOLERANCE_PX:
        return f"{box} extends past the top edge"
    if x + w > width + EDGE_TOLERANCE_PX:
        return f"{box} extends past the right edge (width {width})"
    if y + h > height + EDGE_TOLERANCE_PX:
        return f"{box} extends past the bottom edge (height {height})"
    return None


def _check(
    parsed: ParsedLabels, *, video: Video, create_classes: bool
) -> tuple[list[_Checked], list[str], list[str]]:
    """Items matched to frames and classes; returns (items, problems, class names to create)."""
    errors = list(parsed.errors)
    if len(parsed.clip_keys) > 1:
        errors.append(
            f"the file holds labels of {len(parsed.clip_keys)} clips "
            f"(ids {', '.join(sorted(parsed.clip_keys))}); "
            "import one clip at a time (export it with video=ID)"
        )
    frames = dict(Frame.objects.filter(video=video).values_list("index", "id"))
    stored = {
        PurePosixPath(image).name: index
        for index, image in Frame.objects.filter(video=video).values_list("index", "image")
    }
    clip = export_clips(project_id=video.project_id, flt=ExportFilter(video_id=video.id)).get(video.id)
    width, height = (clip.width, clip.height) if clip else (video.width or 0, video.height or 0)
    by_name = dict(LabelClass.objects.filter(project_id=video.project_id).values_list("name", "index"))
    by_index = {index: name for name, index in by_name.items()}
    span = f"frames 0-{max(frames)}" if frames else "no frames"
    to_create: list[str] = []
    checked: list[_Checked] = []
    seen_tracks: dict[tuple[int, str], str] = {}
    for item in parsed.items:
        if isinstance(item.frame, int):
            index: int | None = item.frame
            what = f"frame {item.frame}"
        else:
            index = frame_index_from_name(item.frame, stored)
            what = f"image {item.frame!r}" + (f" (frame {index})" if index is not None else "")
        if index is None or index not in frames:
            errors.append(f"{item.where}: {what} matches no frame of clip {video.name!r} ({span})")
            continue
        label = item.label
        if isinstance(label, int):
            if label not in by_index:
                errors.append(f"{item.where}: class index {label} is not a class of this project")
                continue
            label = by_index[label]
        elif label is None:
            if len(by_name) != 1:
                errors.append(f"{item.where}: no class given (add gt/{mot.SIDECAR} or a class column)")
                continue
            label = next(iter(by_name))
        elif label not in by_name:
            if not create_classes:
                errors.append(f"{item.where}: unknown class {label!r} (allow create_classes to add it)")
                continue
            if label not in to_create:
                to_create.append(label)
        scale_x, scale_y = (width, height) if item.normalized else (1, 1)
        x, y, w, h = item.x * scale_x, item.y * scale_y, item.w * scale_x, item.h * scale_y
        problem = _bounds_problem(item, x, y, w, h, width, height)
        if problem:
            errors.append(problem)
            continue
        if item.track is not None:
            first = seen_tracks.setdefault((index, item.track), item.where)
            if first != item.where:
                errors.append(
                    f"{item.where}: track {item.track} appears twice on frame {index} (also {first})"
                )
                continue
        if item.score is not None and not (math.isfinite(item.score) and 0 <= item.score <= 1):
            errors.append(f"{item.where}: score {item.score!r} must be between 0 and 1")
            continue
        # Snap the rounding slack at the edges inside the picture.
        x, y = max(0.0, x), max(0.0, y)
        w, h = min(w, width - x), min(h, height - y)
        checked.append(_Checked(index, label, x, y, w, h, item.track, item.score))
    return checked, errors, to_create


def _load(path: Path, *, format: str, name: str | None) -> ParsedLabels:
    try:
        with _open_source(path, name) as source:
            return _parse(source, format)
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, LabelImportError):
            raise
        raise LabelImportError([f"cannot read the file: {exc}"]) from exc


def labels_import(
    *,
    video: Video,
    path: Path,
    format: str,
    as_predictions: bool = False,
    create_classes: bool = False,
    name: str | None = None,
    created_by: User | None = None,
) -> ImportResult:
    """Import a label file, zip or folder at ``path`` into ``video`` (``name``: the uploaded file's
    original name, for single files). Raises LabelImportError with every problem; writes nothing then."""
    if format not in ExportFormat.values:
        raise ServiceError(f"Format must be one of: {', '.join(ExportFormat.values)}.", field="format")
    if video.status != VideoStatus.READY:
        raise ServiceError(f"Clip {video.name!r} is {video.status}; labels can be imported once it is ready.")
    parsed = _load(path, format=format, name=name)
    items, errors, to_create = _check(parsed, video=video, create_classes=create_classes)
    if errors:
        raise LabelImportError(errors)
    if not items:
        raise LabelImportError(["the file holds no boxes"])
    return _write(
        video=video, items=items, to_create=to_create, as_predictions=as_predictions, created_by=created_by
    )


@transaction.atomic
def _write(
    *,
    video: Video,
    items: list[_Checked],
    to_create: list[str],
    as_predictions: bool,
    created_by: User | None,
) -> ImportResult:
    for label in to_create:
        label_class_create(project=video.project, name=label)
    classes = {c.name: c for c in LabelClass.objects.filter(project_id=video.project_id)}
    # Lock the clip's frames: a concurrent edit cannot touch a frame between the check and the write.
    frames = {
        f.index: f
        for f in Frame.objects.select_for_update().filter(video=video).only("id", "index", "touched_at")
    }
    skipped: set[int] = set()
    if as_predictions:
        # Under the frame locks: the same rule as the micro-model's own pre-labels.
        open_ids = set(engine_adapter.frames_open_to_predictions(video).values_list("id", flat=True))
        skipped = {i.frame_index for i in items if frames[i.frame_index].id not in open_ids}
        items = [i for i in items if i.frame_index not in skipped]
    source = BoxSource.MODEL if as_predictions else BoxSource.HUMAN
    tracks: dict[str, Track] = {}
    for item in items:
        if item.track is not None and item.track not in tracks:
            tracks[item.track] = Track(
                video=video, label_class=classes[item.label], external_id=item.track[:100], source=source
            )
    Track.objects.bulk_create(tracks.values())
    boxes = [
        Box(
            frame=frames[i.frame_index],
            track=tracks[i.track] if i.track is not None else None,
            label_class=classes[i.label],
            x=i.x,
            y=i.y,
            w=i.w,
            h=i.h,
            source=source,
            score=i.score if as_predictions else None,
            review_state=ReviewState.PENDING if as_predictions else ReviewState.ACCEPTED,
            created_by=created_by,
            updated_by=created_by,
        )
        for i in items
    ]
    Box.objects.bulk_create(boxes, batch_size=2000)
    frame_ids = {frames[i.frame_index].id for i in items}
    if not as_predictions:
        Frame.objects.filter(id__in=frame_ids, touched_at__isnull=True).update(touched_at=timezone.now())
    return ImportResult(
        video=video.id,
        boxes=len(boxes),
        frames=len(frame_ids),
        tracks=len(tracks),
        classes_created=to_create,
        skipped_frames=len(skipped),
    )
