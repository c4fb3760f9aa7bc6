"""Label imports into one clip, as human labels or predictions, all or nothing.

The file is parsed (annotate.exchange readers) and every item checked (frame, class, box, duplicates)
before a single row is written; any problem refuses the import with the full list of per-item
problems. Then classes (with ``create_classes``), tracks and boxes are written in one transaction.

* Frames: annotate.exchange.matching (original picture name first, then a rule the user can see).
* Classes by name; unknown names are refused unless ``create_classes``.
* Boxes past the picture's edge are clipped to it and counted; boxes entirely outside are dropped and
  counted. Pixel coordinates drawn on another size of the same picture (the file's image size) are
  rescaled to the clip's frames and counted.
* ``mode``: ``replace`` makes the file the truth for the frames it names (their boxes, or for
  predictions their pending predictions, are removed first); ``append`` adds beside them and refuses
  a file already imported into the clip unless ``allow_duplicate``.
* Human boxes mark their frames touched, so later model predictions never overwrite them. Imported
  predictions are pending boxes without a generation; frames a person already touched or reviewed,
  or that carry a confirmed box, are skipped (``skipped_frames``), by the same rule as the
  micro-model's own predictions (``engine_adapter.frames_open_to_predictions``).
"""

from __future__ import annotations

import hashlib
import math
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotate import engine_adapter
from annotate.errors import ServiceError
from annotate.exchange import coco, cvat, label_studio, mot, voc, yolo
from annotate.exchange.labels import FrameRef, LabelItem, ParsedLabels
from annotate.exchange.matching import ClipFrames, FrameMatcher
from annotate.exchange.rows import ExportFilter
from annotate.exchange.sources import (
    DirSource,
    FileSource,
    ImportLimits,
    ImportTooLarge,
    Source,
    ZipSource,
)
from annotate.exchange.zipsafe import UnsafeArchiveError, open_checked
from annotate.models import (
    Box,
    BoxSource,
    Frame,
    ImportFormat,
    ImportJob,
    ImportMode,
    JobStatus,
    LabelClass,
    ReviewState,
    Track,
    Video,
    VideoStatus,
)
from annotate.selectors.exports import export_clips
from annotate.services.frames import frames_settle_many
from annotate.services.projects import label_class_create

MAX_LISTED_ERRORS = 200
# Clipping less than this is rounding (a YOLO file keeps 6 decimals of a fraction), not counted.
EDGE_TOLERANCE_PX = 0.01
# Another picture size counts as the same picture scaled when the aspect ratios differ less than this.
ASPECT_TOLERANCE = 0.01
PROGRESS_EVERY = 5000
NOT_KEPT = "boxes on source frames the clip did not keep (it was sampled)"

Progress = Callable[[int, int], None]


class ImportCancelled(Exception):
    """The import's job row is no longer running (cancelled, deleted): stop, write nothing."""


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


@dataclass(frozen=True)
class ImportOptions:
    format: str
    as_predictions: bool = False
    create_classes: bool = False
    mode: str = ImportMode.APPEND
    first_frame: int | None = None  # 0 or 1: how numbers in file names count frames
    allow_duplicate: bool = False
    default_class: str | None = None  # for boxes the file gives no class (a 6/7-column MOT file)

    def check(self) -> None:
        if self.format not in ImportFormat.values:
            raise ServiceError(f"Format must be one of: {', '.join(ImportFormat.values)}.", field="format")
        if self.mode not in ImportMode.values:
            raise ServiceError("mode must be 'replace' or 'append'.", field="mode")
        if self.first_frame not in (None, 0, 1):
            raise ServiceError("first_frame must be 0 or 1.", field="first_frame")


@dataclass
class ImportResult:
    video: int
    boxes: int
    frames: int
    tracks: int
    classes_created: list[str]
    skipped_frames: int
    mode: str = ImportMode.APPEND
    replaced_boxes: int = 0
    clipped_boxes: int = 0  # boxes past an edge, cut to the picture
    dropped_boxes: int = 0  # boxes entirely outside the picture
    rescaled_boxes: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # rows the reader left out, by reason
    notes: list[str] = field(default_factory=list)  # how frames were matched, sizes rescaled
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Checked:
    frame_index: int
    label: str  # class name
    x: float
    y: float
    w: float
    h: float
    track: str | None
    score: float | None
    occluded: bool


@dataclass
class _Plan:
    items: list[_Checked]
    to_create: list[str]
    covered: set[int]  # frame indices the file names (with or without boxes)
    counts: dict[str, int]
    notes: list[str]
    skipped: dict[str, int]
    not_kept: str | None = None  # the note on boxes skipped on source frames a sampled clip lacks


# -- reading ---------------------------------------------------------------------------------------


def _limits() -> ImportLimits:
    return ImportLimits(
        entries=settings.ANNOTATE_IMPORT_MAX_ENTRIES,
        uncompressed_bytes=settings.ANNOTATE_IMPORT_MAX_UNCOMPRESSED_BYTES,
        label_bytes=settings.ANNOTATE_IMPORT_MAX_LABEL_BYTES,
        zip_ratio=settings.ANNOTATE_IMPORT_MAX_ZIP_RATIO,
    )


@contextmanager
def _open_source(path: Path, name: str | None) -> Iterator[Source]:
    limits = _limits()
    if path.is_dir():
        yield DirSource(path, limits=limits)
        return
    if zipfile.is_zipfile(path):
        try:
            archive = open_checked(path, limits=limits)
        except UnsafeArchiveError as exc:
            raise LabelImportError([f"zip refused: {p}" for p in exc.problems]) from exc
        except zipfile.BadZipFile as exc:
            raise LabelImportError([f"not a readable zip file ({exc})"]) from exc
        with archive:
            yield ZipSource(archive, limits=limits)
        return
    # A gt.txt given by path brings the labels.txt / id_classes.json beside it.
    siblings = {} if name is not None else {p.name: p for p in _sidecars(path)}
    yield FileSource(path, name, siblings=siblings, limits=limits)


def _sidecars(path: Path) -> list[Path]:
    return [p for p in (path.parent / "labels.txt", path.parent / mot.SIDECAR) if p.is_file() and p != path]


def _one_document(source: Source, suffix: str, what: str) -> tuple[str | None, str | None]:
    documents = sorted(
        (n for n in source.names() if n.lower().endswith(suffix)), key=lambda n: (n.count("/"), n)
    )
    if len(source.names()) == 1 and not documents:
        documents = source.names()
    if not documents:
        return None, f"no {what} {suffix} file found"
    if len(documents) > 1 and documents[0].count("/") == documents[1].count("/"):
        return None, f"several {what} files found ({', '.join(documents[:5])}); send one"
    return documents[0], None


def _parse(source: Source, format: str) -> ParsedLabels:
    if format in (ImportFormat.COCO, ImportFormat.LABEL_STUDIO, ImportFormat.CVAT):
        suffix = ".xml" if format == ImportFormat.CVAT else ".json"
        document, problem = _one_document(source, suffix, format.replace("_", " ").upper())
        if document is None:
            return ParsedLabels(errors=[problem or "no file"])
        if format == ImportFormat.COCO:
            return _parse_coco(source, document)
        with source.open(document) as stream:
            if format == ImportFormat.CVAT:
                return cvat.parse_cvat(stream, source_name=PurePosixPath(document).name)
            return label_studio.parse_label_studio(stream, source_name=PurePosixPath(document).name)
    if format == ImportFormat.YOLO:
        return yolo.parse_yolo(source)
    if format == ImportFormat.MOT:
        return mot.parse_mot(source)
    if format == ImportFormat.VOC:
        return voc.parse_voc(source)
    raise ServiceError(f"Format must be one of: {', '.join(ImportFormat.values)}.", field="format")


def _parse_coco(source: Source, document: str) -> ParsedLabels:
    streams: list[IO[bytes]] = []

    def opener() -> IO[bytes]:
        if streams:
            streams[-1].close()
        streams.append(source.open(document))
        return streams[-1]

    try:
        return coco.parse_coco(opener, source_name=PurePosixPath(document).name)
    finally:
        if streams:
            streams[-1].close()


def _load(path: Path, *, format: str, name: str | None) -> ParsedLabels:
    try:
        with _open_source(path, name) as source:
            return _parse(source, format)
    except LabelImportError:
        raise
    except ImportTooLarge as exc:
        raise LabelImportError([f"refused: {exc}"]) from exc
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, RuntimeError) as exc:
        raise LabelImportError([f"cannot read the file: {exc}"]) from exc


def file_sha256(path: Path) -> str:
    """Of a file's bytes; of a folder, of its files' names and bytes in name order."""
    digest = hashlib.sha256()
    files = (
        sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()) if path.is_dir() else [path]
    )
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
    return digest.hexdigest()


# -- checking --------------------------------------------------------------------------------------


def _clip_frames(video: Video) -> ClipFrames:
    rows = list(
        Frame.objects.filter(video=video)
        .order_by("index")
        .values_list("id", "index", "original_name", "source_index")
    )
    size = max((r[1] for r in rows), default=-1) + 1
    names = [""] * size
    numbers = list(range(size))
    for _pk, index, original, source_index in rows:
        names[index] = original
        if source_index is not None:
            numbers[index] = source_index
    return ClipFrames(
        name=video.name,
        count=len(rows),
        original_names=names,
        pks={r[0]: r[1] for r in rows},
        source_numbers=numbers,
    )


def _size_factor(
    item: LabelItem, width: int, height: int, notes: dict[tuple[int, int], int]
) -> tuple[float, float] | str:
    if item.normalized:
        return float(width), float(height)
    if item.image_size is None or item.image_size == (width, height):
        return 1.0, 1.0
    iw, ih = item.image_size
    if abs(iw / ih - width / height) > ASPECT_TOLERANCE * (width / height):
        return (
            f"{item.where}: the file's picture is {iw}x{ih} but the clip's frames are {width}x{height}, "
            "not the same picture scaled; import into the clip made from these pictures"
        )
    notes[(iw, ih)] = notes.get((iw, ih), 0) + 1
    return width / iw, height / ih


def _fit(
    x: float, y: float, w: float, h: float, width: int, height: int
) -> tuple[float, float, float, float] | None:
    """The box cut to the picture, or None when nothing of it is inside."""
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(float(width), x + w), min(float(height), y + h)
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def _check(parsed: ParsedLabels, *, video: Video, options: ImportOptions) -> tuple[_Plan, list[str]]:
    """Items matched to frames and classes; returns (plan, problems)."""
    errors = list(parsed.errors)
    if len(parsed.clip_keys) > 1:
        errors.append(
            f"the file holds labels of {len(parsed.clip_keys)} clips "
            f"(ids {', '.join(sorted(parsed.clip_keys))}); "
            "import one clip at a time (export it with video=ID)"
        )
    clip_frames = _clip_frames(video)
    matcher = FrameMatcher(clip_frames, parsed.frame_refs(), options.first_frame)
    if matcher.problem:
        return _Plan([], [], set(), {}, [], {}), [*errors, matcher.problem]
    clip = export_clips(project_id=video.project_id, flt=ExportFilter(video_id=video.id)).get(video.id)
    width, height = (clip.width, clip.height) if clip else (video.width or 0, video.height or 0)
    by_name = dict(LabelClass.objects.filter(project_id=video.project_id).values_list("name", "index"))
    by_index = {index: name for name, index in by_name.items()}
    if options.default_class is not None and options.default_class not in by_name:
        errors.append(f"default class {options.default_class!r} is not a class of this project")
    span = f"frames 0-{clip_frames.count - 1}" if clip_frames.count else "no frames"
    if clip_frames.sampled:
        span = f"source frame numbers 0-{clip_frames.number_span - 1}, {clip_frames.count} of them kept"
    to_create: list[str] = []
    checked: list[_Checked] = []
    counts = {"clipped": 0, "dropped": 0, "rescaled": 0}
    sizes: dict[tuple[int, int], int] = {}
    seen_tracks: dict[tuple[int, str], str] = {}
    covered: set[int] = set()
    scaled_down = bool(video.max_width) and video.width == video.max_width
    oversized = 0
    for ref in parsed.empty_frames:
        index = matcher.resolve(ref).index
        if index is not None and 0 <= index < clip_frames.count:
            covered.add(index)
    not_kept: set[int] = set()  # source frame numbers the sampled clip did not keep
    skipped = dict(parsed.skipped)
    for item in parsed.items:
        match = matcher.resolve(FrameRef(item.frame_name, item.frame_index, item.frame_pk))
        index, what = match.index, match.what
        if match.not_kept:
            skipped[NOT_KEPT] = skipped.get(NOT_KEPT, 0) + 1
            not_kept.add(match.number if match.number is not None else -1)
            continue
        if index is None or not 0 <= index < clip_frames.count:
            if match.problem:
                errors.append(f"{item.where}: {what}")
            else:
                errors.append(f"{item.where}: {what} matches no frame of clip {video.name!r} ({span})")
            continue
        label = item.label
        if isinstance(label, int):
            if label not in by_index:
                errors.append(f"{item.where}: class index {label} is not a class of this project")
                continue
            label = by_index[label]
        elif label is None:
            if options.default_class is not None:
                label = options.default_class
            elif len(by_name) == 1:
                label = next(iter(by_name))
            else:
                errors.append(
                    f"{item.where}: the file gives no class; add a labels.txt (MOT) or name the class "
                    "for every box (default_class)"
                )
                continue
        elif label not in by_name:
            if not options.create_classes:
                errors.append(f"{item.where}: unknown class {label!r} (allow create_classes to add it)")
                continue
            if label not in to_create:
                to_create.append(label)
        factor = _size_factor(item, width, height, sizes)
        if isinstance(factor, str):
            errors.append(factor)
            continue
        if factor != (1.0, 1.0) and not item.normalized:
            counts["rescaled"] += 1
        sx, sy = factor
        x, y, w, h = item.x * sx, item.y * sy, item.w * sx, item.h * sy
        shown = "[" + ", ".join(f"{v:g}" for v in (item.x, item.y, item.w, item.h)) + "]"
        if not all(math.isfinite(v) for v in (x, y, w, h)):
            errors.append(f"{item.where}: bbox {shown} is not finite")
            continue
        if w <= 0 or h <= 0:
            errors.append(f"{item.where}: bbox {shown} has no area (width and height must be positive)")
            continue
        if item.score is not None and options.as_predictions and not 0 <= item.score <= 1:
            errors.append(f"{item.where}: score {item.score:g} is outside 0..1")
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
        covered.add(index)
        if (
            scaled_down
            and item.image_size is None
            and not item.normalized
            and (x + w > width * 1.05 or y + h > height * 1.05)
        ):
            oversized += 1
        fitted = _fit(x, y, w, h, width, height)
        if fitted is None:
            counts["dropped"] += 1
            continue
        if any(abs(a - b) > EDGE_TOLERANCE_PX for a, b in zip(fitted, (x, y, w, h), strict=True)):
            counts["clipped"] += 1
        checked.append(_Checked(index, label, *fitted, item.track, item.score, item.occluded))
    if oversized:
        errors.append(
            f"{oversized} boxes reach past the frames of clip {video.name!r}, which was scaled down to "
            f"{width}x{height} at ingest (max width {video.max_width}); the file gives no picture size to "
            "rescale from: give images[].width/height (COCO), or import into a clip ingested at full size"
        )
    notes = [n for n in (matcher.numbering, matcher.rule) if n]
    not_kept_note = None
    if not_kept:
        not_kept_note = (
            f"{skipped[NOT_KEPT]} boxes on {len(not_kept)} source frames that clip {video.name!r} "
            "did not keep "
            f"(sampled at {video.sample_fps:g} fps) were skipped, not moved to a neighbouring frame; import "
            "into a clip ingested without --fps to keep them"
            if video.sample_fps
            else f"{skipped[NOT_KEPT]} boxes on {len(not_kept)} source frames that clip {video.name!r} does "
            "not hold were skipped, not moved to a neighbouring frame"
        )
        notes.append(not_kept_note)
    notes += [
        *parsed.notes,
        *[
            f"{n} boxes rescaled from the file's {iw}x{ih} pictures to the clip's {width}x{height}"
            for (iw, ih), n in sizes.items()
        ],
    ]
    return _Plan(checked, to_create, covered, counts, notes, skipped, not_kept_note), errors


# -- the import ------------------------------------------------------------------------------------


def labels_import(
    *,
    video: Video,
    path: Path,
    format: str,
    as_predictions: bool = False,
    create_classes: bool = False,
    mode: str = ImportMode.APPEND,
    first_frame: int | None = None,
    allow_duplicate: bool = False,
    default_class: str | None = None,
    name: str | None = None,
    sha256: str | None = None,
    dry_run: bool = False,
    created_by: User | None = None,
    job: ImportJob | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a label file, zip or folder at ``path`` into ``video`` (``name``: the uploaded file's
    original name, for single files). Raises LabelImportError with every problem; writes nothing then.
    ``dry_run`` checks everything and returns what would be written, writing nothing. The options
    are ImportOptions' fields."""
    options = ImportOptions(
        format=format,
        as_predictions=as_predictions,
        create_classes=create_classes,
        mode=mode,
        first_frame=first_frame,
        allow_duplicate=allow_duplicate,
        default_class=default_class,
    )
    options.check()
    report: Progress = progress or (lambda _done, _total: None)
    if video.status != VideoStatus.READY:
        raise ServiceError(f"Clip {video.name!r} is {video.status}; labels can be imported once it is ready.")
    parsed = _load(path, format=options.format, name=name)
    if parsed.predictions and not options.as_predictions:
        options = ImportOptions(**{**asdict(options), "as_predictions": True})
    report(0, len(parsed.items))
    plan, errors = _check(parsed, video=video, options=options)
    if errors:
        raise LabelImportError(errors)
    if not plan.items and not (options.mode == ImportMode.REPLACE and plan.covered):
        dropped = plan.counts.get("dropped", 0)
        if plan.not_kept:
            raise LabelImportError([f"the file holds no boxes on the clip's frames: {plan.not_kept}"])
        raise LabelImportError(
            [
                f"the file holds no boxes inside the clip's frames ({dropped} entirely outside)"
                if dropped
                else "the file holds no boxes"
            ]
        )
    if sha256 is None:
        sha256 = file_sha256(path)
    if options.mode == ImportMode.APPEND and not options.allow_duplicate:
        earlier = (
            ImportJob.objects.filter(video=video, sha256=sha256, status=JobStatus.SUCCEEDED, dry_run=False)
            .exclude(id=job.id if job else 0)
            .first()
        )
        if earlier is not None:
            raise LabelImportError(
                [
                    f"this file was already imported into clip {video.name!r} (import {earlier.id}, "
                    f"{earlier.finished_at:%Y-%m-%d %H:%M} UTC); appending it again would double every box: "
                    "use mode=replace, or allow_duplicate to append anyway"
                ]
            )
    if dry_run:
        return _preview(video=video, plan=plan, options=options)
    return _write(
        video=video,
        plan=plan,
        options=options,
        created_by=created_by,
        sha256=sha256,
        job=job,
        name=name,
        path=path,
        report=report,
    )


def _result(video: Video, plan: _Plan, options: ImportOptions, **counts: Any) -> ImportResult:
    return ImportResult(
        video=video.id,
        classes_created=plan.to_create,
        mode=options.mode,
        clipped_boxes=plan.counts.get("clipped", 0),
        dropped_boxes=plan.counts.get("dropped", 0),
        rescaled_boxes=plan.counts.get("rescaled", 0),
        skipped=plan.skipped,
        notes=plan.notes,
        **counts,
    )


def _open_frames(video: Video, frames: dict[int, Frame]) -> set[int]:
    open_ids = set(engine_adapter.frames_open_to_predictions(video).values_list("id", flat=True))
    return {index for index, frame in frames.items() if frame.id in open_ids}


def _preview(*, video: Video, plan: _Plan, options: ImportOptions) -> ImportResult:
    items = plan.items
    skipped: set[int] = set()
    if options.as_predictions:
        frames = {f.index: f for f in Frame.objects.filter(video=video).only("id", "index")}
        open_frames = _open_frames(video, frames)
        skipped = {i.frame_index for i in items if i.frame_index not in open_frames}
        items = [i for i in items if i.frame_index not in skipped]
    replaced = _replaced(video, plan, options, skipped).count() if options.mode == ImportMode.REPLACE else 0
    return _result(
        video,
        plan,
        options,
        boxes=len(items),
        frames=len({i.frame_index for i in items}),
        tracks=len({i.track for i in items if i.track is not None}),
        skipped_frames=len(skipped),
        replaced_boxes=replaced,
        dry_run=True,
    )


def _replaced(video: Video, plan: _Plan, options: ImportOptions, skipped: set[int]) -> Any:
    boxes = Box.objects.filter(frame__video=video, frame__index__in=plan.covered - skipped)
    if options.as_predictions:
        boxes = boxes.filter(source=BoxSource.MODEL, review_state=ReviewState.PENDING)
    return boxes


@transaction.atomic
def _write(
    *,
    video: Video,
    plan: _Plan,
    options: ImportOptions,
    created_by: User | None,
    sha256: str,
    job: ImportJob | None,
    name: str | None,
    path: Path,
    report: Progress,
) -> ImportResult:
    for label in plan.to_create:
        label_class_create(project=video.project, name=label)
    classes = {c.name: c for c in LabelClass.objects.filter(project_id=video.project_id)}
    # Lock the clip's frames: a concurrent edit cannot touch a frame between the check and the write.
    frames = {
        f.index: f
        for f in Frame.objects.select_for_update().filter(video=video).only("id", "index", "touched_at")
    }
    items = plan.items
    skipped: set[int] = set()
    if options.as_predictions:
        # Under the frame locks: the same rule as the micro-model's own pre-labels.
        open_frames = _open_frames(video, frames)
        skipped = {i.frame_index for i in items if i.frame_index not in open_frames}
        items = [i for i in items if i.frame_index not in skipped]
    replaced = 0
    if options.mode == ImportMode.REPLACE:
        doomed = _replaced(video, plan, options, skipped)
        track_ids = set(doomed.exclude(track=None).values_list("track_id", flat=True))
        _total, deleted = doomed.delete()
        replaced = deleted.get(Box._meta.label, 0)
        Track.objects.filter(id__in=track_ids, boxes__isnull=True).delete()
    source = BoxSource.MODEL if options.as_predictions else BoxSource.HUMAN
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
            score=i.score if options.as_predictions else None,
            review_state=ReviewState.PENDING if options.as_predictions else ReviewState.ACCEPTED,
            occluded=i.occluded,
            created_by=created_by,
            updated_by=created_by,
        )
        for i in items
    ]
    for start in range(0, len(boxes), PROGRESS_EVERY):
        Box.objects.bulk_create(boxes[start : start + PROGRESS_EVERY], batch_size=2000)
        report(min(start + PROGRESS_EVERY, len(boxes)), len(boxes))
    frame_ids = {frames[i.frame_index].id for i in items}
    if not options.as_predictions:
        Frame.objects.filter(id__in=frame_ids, touched_at__isnull=True).update(touched_at=timezone.now())
        # Imported labels are decided boxes: their frames are finished (unless a prediction is pending).
        frames_settle_many(frame_ids=frame_ids, user=created_by)
    result = _result(
        video,
        plan,
        options,
        boxes=len(boxes),
        frames=len(frame_ids),
        tracks=len(tracks),
        skipped_frames=len(skipped),
        replaced_boxes=replaced,
    )
    if job is not None:
        # In the same transaction as the boxes: a cancel that lands first rolls the whole write back.
        mine = ImportJob.objects.filter(id=job.id, status=JobStatus.RUNNING, attempts=job.attempts)
        finished = mine.update(
            status=JobStatus.SUCCEEDED,
            result=result.as_dict(),
            items_done=len(boxes),
            items_total=len(boxes),
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not finished:
            raise ImportCancelled
    else:
        # An import run in-process (the CLI) is recorded too, so a second run of the file is recognised.
        ImportJob.objects.create(
            video=video,
            format=options.format,
            options=asdict(options),
            status=JobStatus.SUCCEEDED,
            file_name=(name or path.name)[:255],
            sha256=sha256,
            items_done=len(boxes),
            items_total=len(boxes),
            result=result.as_dict(),
            started_at=timezone.now(),
            finished_at=timezone.now(),
            created_by=created_by,
        )
    return result
