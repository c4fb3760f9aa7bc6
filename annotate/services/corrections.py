"""Corrections: what people do with the model's pre-labels, recorded for label-efficiency accounting.

Four actions become ``CorrectionEvent`` rows: ``accept`` (a prediction kept unchanged; "accept all
on a frame" is one action with ``box_count`` = n), ``edit`` (a prediction moved, resized or
re-classed; with the IoU between the prediction and the result), ``delete`` (a false positive) and
``add`` (a box the model missed). The box services call the ``correction_on_*`` hooks inside their
own transactions, so no write path can skip them.

Automatic training counts *finished* frames (annotate.services.frames) and is checked only at a frame
boundary: when a person marks a frame done (accept-all) or leaves a frame they finished
(``frame_leave``). A box saved in the middle of a frame never starts a run, so the fixes a person is
still making on that frame are not missed by it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotate.errors import ConflictError, NotFoundError, ServiceError, StaleVersionError
from annotate.models import (
    ACTIVE_JOB_STATUSES,
    Box,
    BoxSource,
    CorrectionAction,
    CorrectionEvent,
    Frame,
    Generation,
    ReviewState,
    Video,
)
from annotate.permissions import Person, person
from annotate.selectors.frames import finished_frames_q, finished_since_last_generation
from annotate.services.frames import frame_settle, frames_settle_many
from annotate.services.generations import generation_start
from micromodels.metrics import iou

logger = logging.getLogger(__name__)


def correction_record(
    *,
    video_id: int,
    frame_index: int,
    action: str,
    user: Person,
    generation_id: int | None,
    box_id: int | None = None,
    box_count: int = 1,
    iou: float | None = None,
    seconds: float | None = None,
) -> CorrectionEvent:
    """One correction event (label-efficiency accounting)."""
    event = CorrectionEvent.objects.create(
        video_id=video_id,
        frame_index=frame_index,
        box_id=box_id,
        generation_id=generation_id,
        user=person(user),
        action=action,
        box_count=box_count,
        iou=iou,
        seconds=seconds,
    )
    return event


def _auto_train(video_id: int) -> None:
    # Never let the automatic start break the person's write, which is already committed.
    try:
        generation_auto_start(video_id=video_id)
    except Exception:
        logger.exception("automatic training check failed for video %s", video_id)


def generation_auto_start(*, video_id: int) -> Generation | None:
    """Start the next generation when the project trains automatically, nothing is running, and
    ``auto_train_after_frames`` frames were finished since the latest run started."""
    video = Video.objects.select_related("project").filter(id=video_id).first()
    if video is None or not video.project.auto_train:
        return None
    if Generation.objects.filter(video=video, status__in=ACTIVE_JOB_STATUSES).exists():
        return None
    if finished_since_last_generation(video) < video.project.auto_train_after_frames:
        return None
    generation, created = generation_start(video=video, automatic=True)
    return generation if created else None


def frame_leave(*, video: Video, frame_index: int) -> None:
    """The person moved on from the frame: if it is finished, check the automatic start (after commit).

    The frame boundary is the only place a run starts by itself, so it never cuts into a frame a
    person is still working on."""
    if Frame.objects.filter(video=video, index=frame_index).filter(finished_frames_q()).exists():
        video_id = video.id
        transaction.on_commit(lambda: _auto_train(video_id))


def _video_generation(video_id: int) -> int | None:
    return Video.objects.filter(id=video_id).values_list("active_generation_id", flat=True).first()


# -- hooks called by annotate.services.boxes --------------------------------------------------------


def correction_on_box_added(*, box: Box, user: Person, seconds: float | None = None) -> None:
    """A person drew a box: the model missed it (or there was no model yet)."""
    video_id = box.frame.video_id
    correction_record(
        video_id=video_id,
        frame_index=box.frame.index,
        action=CorrectionAction.ADD,
        user=user,
        generation_id=_video_generation(video_id),
        box_id=box.id,
        seconds=seconds,
    )


def correction_on_box_edited(*, before: Box, after: Box, user: Person, seconds: float | None = None) -> None:
    """A prediction corrected (only model boxes count: a person adjusting their own box is not a
    correction of the model). The IoU says how far off the prediction was."""
    if before.source != BoxSource.MODEL:
        return
    correction_record(
        video_id=before.frame.video_id,
        frame_index=before.frame.index,
        action=CorrectionAction.EDIT,
        user=user,
        generation_id=before.generation_id,
        box_id=before.id,
        iou=round(iou(before, after), 6),
        seconds=seconds,
    )


def correction_on_box_deleted(*, box: Box, user: Person, seconds: float | None = None) -> None:
    """A prediction deleted: a false positive."""
    if box.source != BoxSource.MODEL:
        return
    correction_record(
        video_id=box.frame.video_id,
        frame_index=box.frame.index,
        action=CorrectionAction.DELETE,
        user=user,
        generation_id=box.generation_id,
        box_id=box.id,
        seconds=seconds,
    )


# -- accepting predictions --------------------------------------------------------------------------


def _touch(frame_id: int) -> None:
    Frame.objects.filter(id=frame_id, touched_at__isnull=True).update(touched_at=timezone.now())


def _box_with_index(box_id: int) -> Box | None:
    return (
        Box.objects.select_related("frame").annotate(frame_index=F("frame__index")).filter(id=box_id).first()
    )


@transaction.atomic
def box_accept(*, box_id: int, version: int, user: Person, seconds: float | None = None) -> Box:
    """Keep a pending prediction unchanged: review state ``accepted``, version + 1, frame touched."""
    box = _box_with_index(box_id)
    if box is None:
        raise NotFoundError("No such box.")
    if box.version != version:
        raise StaleVersionError(
            f"Box {box_id} is at version {box.version}, not {version}: reload it and retry.", current=box
        )
    if box.source != BoxSource.MODEL or box.review_state != ReviewState.PENDING:
        raise ConflictError("Only a prediction nobody has reviewed yet can be accepted.")
    accepted = Box.objects.filter(id=box_id, version=version, review_state=ReviewState.PENDING).update(
        review_state=ReviewState.ACCEPTED,
        version=F("version") + 1,
        updated_by=person(user),
        updated_at=timezone.now(),
    )
    if not accepted:
        current = _box_with_index(box_id)
        if current is None:
            raise NotFoundError("No such box.")
        raise StaleVersionError(f"Box {box_id} changed meanwhile: reload it and retry.", current=current)
    _touch(box.frame_id)
    frame_settle(frame_id=box.frame_id, user=person(user))
    correction_record(
        video_id=box.frame.video_id,
        frame_index=box.frame.index,
        action=CorrectionAction.ACCEPT,
        user=user,
        generation_id=box.generation_id,
        box_id=box.id,
        seconds=seconds,
    )
    result = _box_with_index(box_id)
    assert result is not None
    return result


@dataclass(frozen=True)
class AcceptAll:
    """What accept-all did: the event (None when nothing was pending) and the boxes it accepted."""

    event_id: int | None
    boxes: Sequence[Box]


@transaction.atomic
def frame_accept_all(
    *, video: Video, frame_index: int, user: Person, seconds: float | None = None
) -> AcceptAll:
    """Mark the frame done: accept every pending prediction on it as one action, and mark it finished.

    Nothing pending is fine ("this frame is right as it is"): the frame is marked, no event. A frame
    boundary, so the automatic start is checked after commit.
    """
    frame = Frame.objects.filter(video=video, index=frame_index).first()
    if frame is None:
        raise NotFoundError(f"Video {video.id} has no frame {frame_index}.")
    # The boxes first, then the frame: the lock order of every write on boxes (see prelabels).
    pending = Box.objects.filter(frame=frame, source=BoxSource.MODEL, review_state=ReviewState.PENDING)
    rows = list(pending.select_for_update().values_list("id", "generation_id"))
    ids = [box_id for box_id, _ in rows]
    generations = sorted({generation for _, generation in rows}, key=lambda g: g or 0)
    count = Box.objects.filter(id__in=ids, review_state=ReviewState.PENDING).update(
        review_state=ReviewState.ACCEPTED,
        version=F("version") + 1,
        updated_by=person(user),
        updated_at=timezone.now(),
    )
    now = timezone.now()
    Frame.objects.filter(id=frame.id, touched_at__isnull=True).update(touched_at=now)
    Frame.objects.filter(id=frame.id).update(reviewed_at=now, reviewed_by=person(user))
    transaction.on_commit(lambda: _auto_train(video.id))
    event = None
    if count:
        event = correction_record(
            video_id=video.id,
            frame_index=frame_index,
            action=CorrectionAction.ACCEPT,
            user=user,
            generation_id=generations[0] if len(generations) == 1 else _video_generation(video.id),
            box_count=count,
            seconds=seconds,
        )
    boxes = list(Box.objects.filter(id__in=ids).annotate(frame_index=F("frame__index")).order_by("id"))
    return AcceptAll(event_id=event.id if event else None, boxes=boxes)


@dataclass(frozen=True)
class BulkAccept:
    accepted: int  # predictions accepted
    frames: int  # frames they were on
    finished: int  # frames that became finished by it


@transaction.atomic
def prelabels_accept_above(
    *, video: Video, min_score: float, frame_start: int, frame_end: int, user: Person
) -> BulkAccept:
    """Accept every pending prediction scoring at least ``min_score`` on frames ``frame_start`` to
    ``frame_end`` (the review pass's threshold): one ``accept`` event per frame, with its box count."""
    if frame_end < frame_start:
        raise ServiceError("The last frame must not be before the first.", field="frame_end")
    pending = Box.objects.filter(
        frame__video=video,
        frame__index__gte=frame_start,
        frame__index__lte=frame_end,
        source=BoxSource.MODEL,
        review_state=ReviewState.PENDING,
        score__gte=min_score,
    )
    rows = list(
        pending.select_for_update(of=("self",)).values_list("id", "frame_id", "frame__index", "generation_id")
    )
    if not rows:
        return BulkAccept(accepted=0, frames=0, finished=0)
    Box.objects.filter(id__in=[r[0] for r in rows]).update(
        review_state=ReviewState.ACCEPTED,
        version=F("version") + 1,
        updated_by=person(user),
        updated_at=timezone.now(),
    )
    per_frame: dict[tuple[int, int], list[int | None]] = {}
    for _box_id, frame_id, index, generation_id in rows:
        per_frame.setdefault((frame_id, index), []).append(generation_id)
    for (_frame_id, index), generations in sorted(per_frame.items(), key=lambda item: item[0][1]):
        distinct = set(generations)
        correction_record(
            video_id=video.id,
            frame_index=index,
            action=CorrectionAction.ACCEPT,
            user=user,
            generation_id=distinct.pop() if len(distinct) == 1 else _video_generation(video.id),
            box_count=len(generations),
        )
    frame_ids = {frame_id for frame_id, _ in per_frame}
    Frame.objects.filter(id__in=frame_ids, touched_at__isnull=True).update(touched_at=timezone.now())
    finished = frames_settle_many(frame_ids=frame_ids, user=person(user))
    video_id = video.id
    transaction.on_commit(lambda: _auto_train(video_id))
    return BulkAccept(accepted=len(rows), frames=len(frame_ids), finished=finished)
