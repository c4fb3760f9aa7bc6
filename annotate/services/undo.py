"""Undo of a person's own box actions, so the correction log holds what they finally did.

Each undo takes back one action and removes the correction event that action recorded (never records
a new one): undoing the deletion of a prediction brings the prediction back with its provenance,
undoing an accept or an edit returns the prediction to its previous review state. An undo only
applies to the caller's own event; anything else is a conflict (HTTP 409).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotate.errors import ConflictError, NotFoundError, ServiceError, StaleVersionError
from annotate.models import (
    Box,
    BoxSource,
    CorrectionAction,
    CorrectionEvent,
    Frame,
    Generation,
    ReviewState,
    Track,
    Video,
)
from annotate.permissions import Person, person
from annotate.services.boxes import (
    _check_class,
    _check_geometry,
    _load,
    _stale,
    _touch_frame,
    box_write,
)
from annotate.services.frames import frame_settle


def _own_event(*, user: Person, video_id: int, action: str, box_id: int | None) -> CorrectionEvent | None:
    """The caller's latest event of ``action`` on the box: the one an undo takes back."""
    actor = person(user)
    if actor is None:
        return None
    return (
        CorrectionEvent.objects.select_for_update()
        .filter(video_id=video_id, user=actor, action=action, box_id=box_id)
        .order_by("-id")
        .first()
    )


def _current(box_id: int, version: int) -> Box:
    box = _load(box_id)
    if box is None:
        raise NotFoundError("No such box.")
    if box.version != version:
        raise _stale(box_id, version)
    return box


@transaction.atomic
def box_restore(
    *,
    video: Video,
    user: Person,
    box_id: int,
    frame_index: int,
    x: float,
    y: float,
    w: float,
    h: float,
    label_class_id: int,
    track_id: int | None = None,
    score: float | None = None,
    version: int = 1,
    review_state: str = ReviewState.PENDING,
) -> Box:
    """Undo the deletion of a box, under its old id, from the snapshot the client kept.

    A prediction comes back only if the caller's own ``delete`` event for it exists: with source
    model, that event's generation, the score, the track if it still exists, and the event removed.
    A human box comes back if the caller drew it (their ``add`` event, which stays: the box exists
    again). The version is one past the snapshot's, so copies from before the deletion are stale.
    """
    frame = Frame.objects.select_for_update().filter(video=video, index=frame_index).first()
    if frame is None:
        raise ServiceError(f"Video {video.id} has no frame {frame_index}.", field="frame_index")
    deleted = _own_event(user=user, video_id=video.id, action=CorrectionAction.DELETE, box_id=box_id)
    drawn = (
        None
        if deleted
        else _own_event(user=user, video_id=video.id, action=CorrectionAction.ADD, box_id=box_id)
    )
    event = deleted or drawn
    if event is None or event.frame_index != frame_index:
        raise ConflictError("There is no deletion of yours to undo for this box.")
    # Only now: asked first, "exists" would tell anyone whether a box id is in use in another project.
    if Box.objects.filter(id=box_id).exists():
        raise ConflictError(f"Box {box_id} exists: there is no deletion to undo.")
    _check_geometry(video, x=x, y=y, w=w, h=h)
    _check_class(video, label_class_id)
    if track_id is not None and not Track.objects.filter(id=track_id, video=video).exists():
        track_id = None
    fields: dict[str, Any] = {"source": BoxSource.HUMAN, "review_state": ReviewState.ACCEPTED, "score": None}
    if deleted:
        generation_id = deleted.generation_id
        if generation_id is None or not Generation.objects.filter(id=generation_id, video=video).exists():
            raise ConflictError("The generation that predicted this box is gone: it cannot come back.")
        repredicted = Box.objects.filter(frame=frame, source=BoxSource.MODEL).exclude(
            generation_id=generation_id
        )
        if repredicted.exists():
            raise ConflictError("This frame was predicted again since: the old prediction cannot come back.")
        fields = {"source": BoxSource.MODEL, "generation_id": generation_id, "score": score}
        fields["review_state"] = review_state
        deleted.delete()
    actor = person(user)
    Box.objects.create(
        id=box_id,
        frame=frame,
        x=x,
        y=y,
        w=w,
        h=h,
        label_class_id=label_class_id,
        track_id=track_id,
        version=version + 1,
        created_by=actor,
        updated_by=actor,
        **fields,
    )
    _touch_frame(frame.id, person(user))
    restored = _load(box_id)
    assert restored is not None
    return restored


@transaction.atomic
def box_undo_create(*, box_id: int, version: int, user: Person) -> None:
    """Undo drawing a box: delete it and remove the caller's ``add`` event (no delete is recorded)."""
    box = _current(box_id, version)
    event = _own_event(user=user, video_id=box.frame.video_id, action=CorrectionAction.ADD, box_id=box_id)
    if box.source != BoxSource.HUMAN or event is None:
        raise ConflictError("You did not draw this box: there is no drawing to undo.")
    if not Box.objects.filter(id=box_id, version=version).delete()[0]:
        raise _stale(box_id, version)
    event.delete()
    frame_settle(frame_id=box.frame_id, user=person(user), after_undo=True)


@transaction.atomic
def box_undo_edit(
    *, box_id: int, version: int, user: Person, review_state: str | None = None, **changes: Any
) -> Box:
    """Undo an edit: write back the earlier ``changes`` and, for a prediction, its earlier review
    state (default pending), removing the caller's latest ``edit`` event on it. A human box's edits
    record nothing, so undoing one is a plain write."""
    box = _current(box_id, version)
    actor = person(user)
    if box.source != BoxSource.MODEL:
        return box_write(box=box, version=version, user=actor, changes=changes, review_state=None)
    event = _own_event(user=user, video_id=box.frame.video_id, action=CorrectionAction.EDIT, box_id=box_id)
    if event is None:
        raise ConflictError("There is no edit of yours to undo on this prediction.")
    updated = box_write(
        box=box,
        version=version,
        user=actor,
        changes=changes,
        review_state=review_state or ReviewState.PENDING,
    )
    event.delete()
    return updated


@transaction.atomic
def box_unaccept(*, box_id: int, version: int, user: Person) -> Box:
    """Undo accepting a prediction: back to pending, version + 1, the ``accept`` event removed."""
    box = _current(box_id, version)
    event = _own_event(user=user, video_id=box.frame.video_id, action=CorrectionAction.ACCEPT, box_id=box_id)
    if box.source != BoxSource.MODEL or box.review_state != ReviewState.ACCEPTED or event is None:
        raise ConflictError("There is no accept of yours to undo on this box.")
    if not Box.objects.filter(id=box_id, version=version).update(
        review_state=ReviewState.PENDING,
        version=F("version") + 1,
        updated_by=person(user),
        updated_at=timezone.now(),
    ):
        raise _stale(box_id, version)
    event.delete()
    frame_settle(frame_id=box.frame_id, user=person(user), after_undo=True)
    result = _load(box_id)
    assert result is not None
    return result


@transaction.atomic
def frame_unaccept_all(
    *, video: Video, frame_index: int, user: Person, event_id: int, boxes: dict[int, int]
) -> list[Box]:
    """Undo accept-all: ``boxes`` (id -> version now) are exactly those its event accepted; they
    go back to pending, the event is removed, and the frame is no longer finished. The frame stays
    touched: a person did look at it."""
    actor = person(user)
    event = (
        CorrectionEvent.objects.select_for_update()
        .filter(
            id=event_id, video=video, frame_index=frame_index, action=CorrectionAction.ACCEPT, box_id=None
        )
        .first()
    )
    if event is None or actor is None or event.user_id != actor.id:
        raise ConflictError("There is no accept-all of yours to undo on this frame.")
    if len(boxes) != event.box_count:
        raise ConflictError(f"That accept-all accepted {event.box_count} boxes, not {len(boxes)}.")
    rows = {
        box.id: box
        for box in Box.objects.select_for_update().filter(
            id__in=boxes, frame__video=video, frame__index=frame_index
        )
    }
    for box_id, version in sorted(boxes.items()):
        box = rows.get(box_id)
        if box is None or box.source != BoxSource.MODEL or box.review_state != ReviewState.ACCEPTED:
            raise ConflictError(f"Box {box_id} is no longer an accepted prediction on this frame.")
        if box.version != version:
            current = _load(box_id)
            assert current is not None
            raise StaleVersionError(
                f"Box {box_id} is at version {box.version}, not {version}: reload it and retry.",
                current=current,
            )
    Box.objects.filter(id__in=boxes).update(
        review_state=ReviewState.PENDING,
        version=F("version") + 1,
        updated_by=actor,
        updated_at=timezone.now(),
    )
    event.delete()
    # The predictions are pending again, so the frame is not finished any more (services.frames).
    frame_id = Frame.objects.filter(video=video, index=frame_index).values_list("id", flat=True).get()
    frame_settle(frame_id=frame_id, user=actor, after_undo=True)
    return list(Box.objects.filter(id__in=boxes).annotate(frame_index=F("frame__index")).order_by("id"))
