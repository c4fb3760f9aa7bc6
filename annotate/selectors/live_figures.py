"""How good a generation's pre-labels were, judged by what people then did with them.

A generation proposed boxes on frames nobody had touched. Once people finished one of those frames
(accepted, edited, deleted, added), its boxes now are the truth for that frame; the proposal is
scored against them at IoU >= 0.5 with the same class: recall (how many of the final boxes the
proposal had found) and precision (how many proposed boxes were right). Both for the engine's
pre-labels (detector and tracker fused) and for the detector alone.

Only frames whose first human action came after this generation finished, and before a later
generation replaced its pre-labels, count: on other frames people corrected somebody else's boxes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q

from annotate.models import Box, Frame, Generation, JobStatus, ReviewState
from micromodels.metrics import match
from micromodels.types import Box as EngineBox

MIN_IOU = 0.5


def proposal_of(boxes: dict[int, tuple[EngineBox, ...]], frames: set[int]) -> dict[str, list[list[float]]]:
    """What to store on the generation: ``{"<frame>": [[x, y, w, h, class index], ...]}``."""
    return {
        str(index): [[b.x, b.y, b.w, b.h, float(b.label)] for b in frame_boxes]
        for index, frame_boxes in boxes.items()
        if index in frames
    }


def _engine_boxes(rows: list[list[float]]) -> list[EngineBox]:
    return [EngineBox(x=r[0], y=r[1], w=r[2], h=r[3], label=int(r[4])) for r in rows]


def _next_success(generation: Generation) -> datetime | None:
    return (
        Generation.objects.filter(
            video_id=generation.video_id, number__gt=generation.number, status=JobStatus.SUCCEEDED
        )
        .order_by("number")
        .values_list("finished_at", flat=True)
        .first()
    )


def _finished_frames(generation: Generation) -> dict[int, int]:
    """index -> frame id of the proposed frames people finished while this generation's boxes stood."""
    if generation.finished_at is None or not generation.proposed_boxes:
        return {}
    pending = Box.objects.filter(frame_id=OuterRef("pk"), review_state=ReviewState.PENDING)
    frames = Frame.objects.filter(
        video_id=generation.video_id, index__in=[int(i) for i in generation.proposed_boxes]
    ).filter(Q(reviewed_at__isnull=False) | (Q(touched_at__isnull=False) & ~Q(Exists(pending))))
    until = _next_success(generation)
    chosen: dict[int, int] = {}
    for frame_id, index, touched_at, reviewed_at in frames.values_list(
        "id", "index", "touched_at", "reviewed_at"
    ):
        first = min(t for t in (touched_at, reviewed_at) if t is not None)
        if first >= generation.finished_at and (until is None or first < until):
            chosen[index] = frame_id
    return chosen


def _score(proposed: dict[int, list[EngineBox]], truth: dict[int, list[EngineBox]]) -> dict[str, Any]:
    matched = sum(len(match(proposed.get(i, []), truth[i], min_iou=MIN_IOU)) for i in truth)
    n_proposed = sum(len(proposed.get(i, [])) for i in truth)
    n_truth = sum(len(boxes) for boxes in truth.values())
    return {
        "matched": matched,
        "proposed": n_proposed,
        "recall": round(matched / n_truth, 4) if n_truth else None,
        "precision": round(matched / n_proposed, 4) if n_proposed else None,
    }


def generation_live_figures(*, generation: Generation) -> dict[str, Any]:
    """Recall and precision of the engine and of the detector alone on the frames people finished."""
    frames = _finished_frames(generation)
    truth: dict[int, list[EngineBox]] = {index: [] for index in frames}
    rows = Box.objects.filter(frame_id__in=frames.values()).exclude(review_state=ReviewState.PENDING)
    for index, x, y, w, h, label in rows.values_list(
        "frame__index", "x", "y", "w", "h", "label_class__index"
    ):
        truth[index].append(EngineBox(x=x, y=y, w=w, h=h, label=label))
    engine = {i: _engine_boxes(generation.proposed_boxes.get(str(i), [])) for i in frames}
    figures: dict[str, Any] = {
        "frames": len(frames),
        "final_boxes": sum(len(b) for b in truth.values()),
        "min_iou": MIN_IOU,
        "engine": _score(engine, truth),
        "detector": None,
    }
    if generation.detector_boxes:
        detector = {i: _engine_boxes(generation.detector_boxes.get(str(i), [])) for i in frames}
        figures["detector"] = _score(detector, truth)
    return figures
