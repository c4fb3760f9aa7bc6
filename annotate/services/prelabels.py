"""Writing a generation's pre-labels and switching the clip to it, in one transaction.

Pre-labels never overwrite people. The frames are locked (``SELECT ... FOR UPDATE``; on SQLite the
IMMEDIATE transaction serialises writers) and re-read inside the transaction, so a frame a person
touched between inference and this write gets no predictions: the late prediction is discarded, not
merged. The previous generation's predictions nobody looked at (review state ``pending``, frame
untouched) are replaced; everything a person accepted, edited or drew stays as it is.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from annotate import engine_adapter
from annotate.jobs import Superseded, job_transition
from annotate.models import (
    Box,
    BoxSource,
    Frame,
    Generation,
    JobStatus,
    ReviewState,
    Track,
    Video,
)
from annotate.selectors.live_figures import generation_live_figures, proposal_of
from annotate.services.suggestions import suggestions_replace
from micromodels.types import PrelabelResult


def _store_proposal(generation: Generation, result: PrelabelResult, frames: set[int]) -> None:
    # Kept apart from the Box rows, which people then change: the live figures score the proposal.
    generation.proposed_boxes = proposal_of(result.boxes, frames)
    generation.detector_boxes = proposal_of(result.detector_boxes, frames)
    generation.save(update_fields=["proposed_boxes", "detector_boxes"])


def _score_replaced(generation_id: int | None) -> None:
    """The generation being replaced: people's corrections of its pre-labels are complete now."""
    replaced = Generation.objects.filter(id=generation_id).first() if generation_id else None
    if replaced is not None:
        replaced.live_figures = generation_live_figures(generation=replaced)
        replaced.save(update_fields=["live_figures"])


def _untouched(frames: list[tuple[int, int, bool]]) -> dict[int, int]:
    return {index: frame_id for frame_id, index, touched in frames if not touched}


@transaction.atomic
def prelabels_commit(
    *,
    generation_id: int,
    attempt: int,
    result: PrelabelResult,
    prelabel_seconds: float,
    timings: dict[str, float | int] | None = None,
) -> Generation:
    """Write the predictions, store the suggestions, mark the run succeeded and make it the clip's
    active generation, or (if the attempt lost the row, or a cancel came in) write nothing.

    ``timings`` (where the run's time went) is stored as ``metrics["timings"]`` with ``commit_s``
    added: the seconds from here to marking the run succeeded (locks, deletes, inserts, suggestions).
    """
    commit_started = time.monotonic()
    video_id = Generation.objects.values_list("video_id", flat=True).get(id=generation_id)
    # NO KEY UPDATE locks: they exclude writers of these rows but not the foreign-key checks of
    # people's inserts (deferred to their commit), which FOR UPDATE would turn into deadlocks.
    video = Video.objects.select_for_update(no_key=True).get(id=video_id)
    generation = Generation.objects.select_for_update(no_key=True).get(id=generation_id)
    if generation.status != JobStatus.RUNNING or generation.attempts != attempt:
        raise Superseded
    if generation.cancel_requested:
        return job_transition(generation, JobStatus.CANCELLED)

    # Boxes, then frames: the order in which every human write locks them (the box it changes,
    # then the frame it touches), so a person's edit and this commit queue up instead of deadlocking.
    list(
        Box.objects.select_for_update(of=("self",))
        .filter(frame__video=video, source=BoxSource.MODEL, review_state=ReviewState.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )
    frames = [
        (frame_id, index, touched_at is not None or reviewed_at is not None)
        for frame_id, index, touched_at, reviewed_at in Frame.objects.select_for_update(no_key=True)
        .filter(video=video)
        .order_by("index")
        .values_list("id", "index", "touched_at", "reviewed_at")
    ]
    untouched = _untouched(frames)
    # Re-read under those locks: a frame with any confirmed box (an imported human label, say) is
    # labeled even if untouched. The same rule decides which frames imported predictions may land on.
    open_ids = set(engine_adapter.frames_open_to_predictions(video).values_list("id", flat=True))
    writable = {index: frame_id for index, frame_id in untouched.items() if frame_id in open_ids}

    # Replace the earlier generations' unreviewed predictions on frames nobody touched.
    Box.objects.filter(
        frame_id__in=untouched.values(), source=BoxSource.MODEL, review_state=ReviewState.PENDING
    ).delete()

    predictions = engine_adapter.predictions_from_engine(
        video, {index: boxes for index, boxes in result.boxes.items() if index in writable}
    )
    labels_by_track: dict[int, Counter[int]] = defaultdict(Counter)
    for prediction in predictions:
        if prediction.track_key is not None:
            labels_by_track[prediction.track_key][prediction.label_class_id] += 1
    # A prediction that follows a person's track stays on it (the same object keeps its id across
    # generations); the engine's own new tracks become model tracks of this generation.
    continued = engine_adapter.tracks_the_engine_saw(video, labels_by_track)
    keys = sorted(set(labels_by_track) - continued)
    tracks = Track.objects.bulk_create(
        Track(
            video=video,
            label_class_id=labels_by_track[key].most_common(1)[0][0],
            external_id=f"g{generation.number}-{key}",
            source=BoxSource.MODEL,
            generation=generation,
        )
        for key in keys
    )
    track_ids = {key: track.id for key, track in zip(keys, tracks, strict=True)} | {k: k for k in continued}
    Box.objects.bulk_create(
        Box(
            frame_id=writable[p.frame_index],
            track_id=None if p.track_key is None else track_ids[p.track_key],
            label_class_id=p.label_class_id,
            x=p.x,
            y=p.y,
            w=p.w,
            h=p.h,
            source=BoxSource.MODEL,
            generation=generation,
            score=p.score,
            review_state=ReviewState.PENDING,
        )
        for p in predictions
    )
    Track.objects.filter(video=video, source=BoxSource.MODEL).annotate(n=Count("boxes")).filter(n=0).delete()

    suggestions_replace(video=video, generation=generation, suggestions=result.suggestions)
    _store_proposal(generation, result, set(writable))
    prelabeled_frames = len({p.frame_index for p in predictions})
    generation = job_transition(
        generation,
        JobStatus.SUCCEEDED,
        prelabel_seconds=prelabel_seconds,
        metrics={
            **generation.metrics,
            "predicted_boxes": len(predictions),
            "prelabeled_frames": prelabeled_frames,
            "skipped_labeled_frames": len(frames) - len(writable),
            **(
                {"timings": {**timings, "commit_s": round(time.monotonic() - commit_started, 3)}}
                if timings is not None
                else {}
            ),
        },
    )
    _score_replaced(video.active_generation_id)
    video.active_generation = generation
    video.updated_at = timezone.now()
    video.save(update_fields=["active_generation", "updated_at"])
    return generation
