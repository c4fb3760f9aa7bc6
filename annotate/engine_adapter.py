"""The one adapter between database rows and the engine's plain data (``micromodels.types``).

Everything the engine sees of a clip is built here (frame paths, class names, the labeled frames and
their boxes, the run configuration from settings), and everything it returns is mapped back to
row values here. No other module converts in either direction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from annotate.models import Box, BoxSource, Frame, Generation, LabelClass, ReviewState, Video
from annotate.selectors.frames import finished_frames_of
from micromodels.checkpoints import verify_checkpoint
from micromodels.config import PrelabelConfig, TrainConfig
from micromodels.errors import EngineError
from micromodels.types import Box as EngineBox
from micromodels.types import Checkpoint, Clip, LabeledFrame

FROM_SCRATCH = "from scratch"
# A box on a labeled frame is ground truth unless it is a prediction nobody has looked at yet.
_CONFIRMED = Q(source=BoxSource.HUMAN) | Q(review_state__in=[ReviewState.ACCEPTED, ReviewState.EDITED])
_MIN_SIDE = 1.0  # pixels; a prediction thinner than this after clipping to the frame is dropped


def labeled_frames_of(video: Video) -> QuerySet[Frame]:
    """Frames the model trains on: the finished frames (annotate.selectors.frames, the one definition).

    Every object on such a frame is taken as boxed, so a finished frame without boxes is a negative. A
    frame half reviewed (one prediction accepted, another still pending) is not finished: training on
    it would teach the detector that the unreviewed object is background.
    """
    return finished_frames_of(video)


def frames_open_to_predictions(video: Video) -> QuerySet[Frame]:
    """Frames that may receive model predictions (pre-labels or imported ones): untouched, never
    reviewed (a frame reviewed as empty is a deliberate negative) and with no confirmed box (human,
    accepted or edited). The caller locks them (``select_for_update``) where it writes."""
    confirmed = Box.objects.filter(frame=OuterRef("pk")).filter(_CONFIRMED)
    return (
        Frame.objects.filter(video=video, touched_at__isnull=True, reviewed_at__isnull=True)
        .exclude(Exists(confirmed))
        .order_by("index")
    )


def tracks_the_engine_saw(video: Video, keys: Iterable[int]) -> set[int]:
    """Which engine track keys are this video's own tracks: those on confirmed boxes of finished
    frames, the ids ``labeled_frames`` hands the engine, which keeps them on the boxes it follows.
    Any other key is a track the engine made up (its ids start above the ones it was given)."""
    return set(
        Box.objects.filter(frame__in=labeled_frames_of(video), track_id__in=list(keys))
        .filter(_CONFIRMED)
        .values_list("track_id", flat=True)
    )


def class_names(video: Video) -> tuple[str, ...]:
    """Class names indexed by ``LabelClass.index``; a gap left by a deleted class gets a placeholder."""
    classes = dict(LabelClass.objects.filter(project_id=video.project_id).values_list("index", "name"))
    if not classes:
        return ()
    return tuple(classes.get(i, f"unused-{i}") for i in range(max(classes) + 1))


def clip_for_video(video: Video) -> Clip:
    if not video.width or not video.height:
        raise ValueError(f"Video {video.id} has no frame size yet; is it ingested?")
    media = Path(settings.MEDIA_ROOT)
    images = Frame.objects.filter(video=video).order_by("index").values_list("image", flat=True)
    return Clip(
        frames=tuple(media / image for image in images),
        class_names=class_names(video),
        width=video.width,
        height=video.height,
    )


def labeled_frames(video: Video) -> tuple[LabeledFrame, ...]:
    """Every labeled frame with its confirmed boxes (human, accepted and edited)."""
    frames = list(labeled_frames_of(video).values_list("id", "index"))
    class_index = dict(LabelClass.objects.filter(project_id=video.project_id).values_list("id", "index"))
    boxes: dict[int, list[EngineBox]] = {frame_id: [] for frame_id, _ in frames}
    rows = (
        Box.objects.filter(frame_id__in=boxes.keys())
        .filter(_CONFIRMED)
        .order_by("frame_id", "id")
        .values_list("frame_id", "x", "y", "w", "h", "label_class_id", "track_id")
    )
    for frame_id, x, y, w, h, label_class_id, track_id in rows:
        boxes[frame_id].append(
            EngineBox(
                x=x, y=y, w=w, h=h, label=class_index[label_class_id], track_id=track_id, source="human"
            )
        )
    return tuple(LabeledFrame(index=index, boxes=tuple(boxes[frame_id])) for frame_id, index in frames)


def base_weights_for(video: Video) -> str | None:
    """Where the next generation starts: the active generation's checkpoint (it already knows this
    scene, so a short run goes further), else the project's weights file, else the platform default;
    None (from scratch) when none of them is there."""
    if video.active_generation_id is not None:
        active = Generation.objects.filter(id=video.active_generation_id).first()
        if active is not None and active.checkpoint_path:
            try:
                return str(verify_checkpoint(checkpoint_of(active)))
            except EngineError:
                pass  # moved or damaged: fall back to the base weights
    if video.project.train_from_scratch:
        return None
    candidate = video.project.base_weights or settings.ANNOTATE_BASE_WEIGHTS
    return candidate if candidate and Path(candidate).is_file() else None


def train_config(video: Video) -> TrainConfig:
    return TrainConfig(
        base_weights=base_weights_for(video),
        epochs=settings.ANNOTATE_TRAIN_EPOCHS,
        clipnet_max_steps=settings.ANNOTATE_CLIPNET_MAX_STEPS,
        time_budget_seconds=float(video.project.train_time_budget or settings.ANNOTATE_TRAIN_TIME_BUDGET),
        imgsz=settings.ANNOTATE_TRAIN_IMGSZ,
        device=settings.ANNOTATE_TRAIN_DEVICE,
    )


def prelabel_config() -> PrelabelConfig:
    return PrelabelConfig(imgsz=settings.ANNOTATE_TRAIN_IMGSZ, device=settings.ANNOTATE_TRAIN_DEVICE)


def checkpoint_of(generation: Generation) -> Checkpoint:
    return Checkpoint(path=Path(generation.checkpoint_path), sha256=generation.checkpoint_sha256)


@dataclass(frozen=True)
class Prediction:
    """A model box as row values: where it goes, what it is, and which engine track it belongs to."""

    frame_index: int
    x: float
    y: float
    w: float
    h: float
    label_class_id: int
    score: float
    track_key: int | None


def predictions_from_engine(video: Video, boxes: Mapping[int, Iterable[EngineBox]]) -> list[Prediction]:
    """Engine boxes as row values, clipped to the frame; unknown classes and slivers are dropped."""
    class_ids = dict(LabelClass.objects.filter(project_id=video.project_id).values_list("index", "id"))
    width, height = float(video.width or 0), float(video.height or 0)
    out: list[Prediction] = []
    for frame_index, frame_boxes in boxes.items():
        for box in frame_boxes:
            label_class_id = class_ids.get(box.label)
            x0, y0 = max(0.0, box.x), max(0.0, box.y)
            x1, y1 = min(width, box.x + box.w), min(height, box.y + box.h)
            if label_class_id is None or x1 - x0 < _MIN_SIDE or y1 - y0 < _MIN_SIDE:
                continue
            out.append(
                Prediction(
                    frame_index=int(frame_index),
                    x=x0,
                    y=y0,
                    w=x1 - x0,
                    h=y1 - y0,
                    label_class_id=label_class_id,
                    score=float(box.score),
                    track_key=box.track_id,
                )
            )
    return out
