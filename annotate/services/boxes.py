"""Human writes to boxes: add, edit and delete, with optimistic concurrency on ``Box.version``.

Every write here is a person's action on a frame, so each one marks the frame touched (model
predictions are never written onto a touched frame). Correction events for label-efficiency
accounting belong inside these functions, next to ``_touch_frame``, so no API path can skip them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotate.errors import NotFoundError, ServiceError, StaleVersionError
from annotate.models import Box, BoxSource, Frame, LabelClass, ReviewState, Track, Video
from annotate.services.corrections import (
    correction_on_box_added,
    correction_on_box_deleted,
    correction_on_box_edited,
)
from annotate.services.frames import frame_settle

UPDATABLE_FIELDS = frozenset({"x", "y", "w", "h", "label_class_id", "track_id", "occluded", "outside"})
_EPSILON = 1e-6  # float slack at the right/bottom edge


def _load(box_id: int) -> Box | None:
    return (
        Box.objects.select_related("frame__video")
        .annotate(frame_index=F("frame__index"))
        .filter(id=box_id)
        .first()
    )


def _check_geometry(video: Video, *, x: float, y: float, w: float, h: float) -> None:
    if w <= 0 or h <= 0:
        raise ServiceError("Box width and height must be positive.", field="w" if w <= 0 else "h")
    if x < 0 or y < 0:
        raise ServiceError("Box must start inside the frame (x, y >= 0).", field="x" if x < 0 else "y")
    if video.width is not None and x + w > video.width + _EPSILON:
        raise ServiceError(f"Box extends past the right edge of the frame ({video.width} px).", field="w")
    if video.height is not None and y + h > video.height + _EPSILON:
        raise ServiceError(f"Box extends past the bottom edge of the frame ({video.height} px).", field="h")


def _check_class(video: Video, label_class_id: int) -> None:
    if not LabelClass.objects.filter(id=label_class_id, project_id=video.project_id).exists():
        raise ServiceError("No such class in this project.", field="label_class")


def _check_track(video: Video, track_id: int | None) -> None:
    if track_id is not None and not Track.objects.filter(id=track_id, video=video).exists():
        raise ServiceError("No such track in this video.", field="track")


def _touch_frame(frame_id: int, user: User | None = None) -> None:
    """Record the first human touch of the frame (later touches keep the first time), and settle its
    finished mark: a frame with every box decided is finished (annotate.services.frames)."""
    Frame.objects.filter(id=frame_id, touched_at__isnull=True).update(touched_at=timezone.now())
    frame_settle(frame_id=frame_id, user=user)


def _stale(box_id: int, version: int) -> Exception:
    current = _load(box_id)
    if current is None:
        return NotFoundError("No such box.")
    return StaleVersionError(
        f"Box {box_id} is at version {current.version}, not {version}: reload it and retry.", current=current
    )


@transaction.atomic
def box_create(
    *,
    video: Video,
    frame_index: int,
    x: float,
    y: float,
    w: float,
    h: float,
    label_class_id: int,
    track_id: int | None = None,
    user: User | None = None,
    seconds: float | None = None,
) -> Box:
    """A box a person drew: source human, review state accepted, version 1.

    ``seconds``: the person's time on this action as the client measured it (for the correction
    event; None lets the analytics estimate it from the gap since their previous action)."""
    frame = Frame.objects.filter(video=video, index=frame_index).only("id").first()
    if frame is None:
        raise ServiceError(f"Video {video.id} has no frame {frame_index}.", field="frame_index")
    _check_geometry(video, x=x, y=y, w=w, h=h)
    _check_class(video, label_class_id)
    _check_track(video, track_id)
    box = Box.objects.create(
        frame=frame,
        x=x,
        y=y,
        w=w,
        h=h,
        label_class_id=label_class_id,
        track_id=track_id,
        source=BoxSource.HUMAN,
        review_state=ReviewState.ACCEPTED,
        created_by=user,
        updated_by=user,
    )
    _touch_frame(frame.id, user)
    created = _load(box.id)
    assert created is not None
    correction_on_box_added(box=created, user=user, seconds=seconds)
    return created


@transaction.atomic
def box_update(
    *, box_id: int, version: int, user: User | None, seconds: float | None = None, **changes: Any
) -> Box:
    """Apply ``changes`` (x, y, w, h, label_class_id, track_id) if the box is still at ``version``.

    The write is a conditional UPDATE ... WHERE version = N, so of two concurrent edits of the same
    version exactly one wins; the other gets StaleVersionError carrying the box as it is now.
    An edited model prediction becomes review state ``edited``; human boxes stay ``accepted``.
    """
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ServiceError(f"Cannot change: {', '.join(sorted(unknown))}.")
    box = _load(box_id)
    if box is None:
        raise NotFoundError("No such box.")
    if box.version != version:
        raise _stale(box_id, version)
    if not changes:
        return box
    review_state = ReviewState.EDITED if box.source == BoxSource.MODEL else None
    updated = box_write(box=box, version=version, user=user, changes=changes, review_state=review_state)
    correction_on_box_edited(before=box, after=updated, user=user, seconds=seconds)
    return updated


def box_write(
    *, box: Box, version: int, user: User | None, changes: dict[str, Any], review_state: str | None
) -> Box:
    """Check and apply ``changes`` (and ``review_state`` when given) if the box is still at
    ``version``; no correction event. Runs inside the caller's transaction."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ServiceError(f"Cannot change: {', '.join(sorted(unknown))}.")
    video = box.frame.video
    geometry = {name: float(changes.get(name, getattr(box, name))) for name in ("x", "y", "w", "h")}
    _check_geometry(video, **geometry)
    if "label_class_id" in changes:
        _check_class(video, changes["label_class_id"])
    if "track_id" in changes:
        _check_track(video, changes["track_id"])

    values: dict[str, Any] = {
        **changes,
        "version": F("version") + 1,
        "updated_by": user,
        "updated_at": timezone.now(),
    }
    if review_state is not None:
        values["review_state"] = review_state
    if not Box.objects.filter(id=box.id, version=version).update(**values):
        raise _stale(box.id, version)
    _touch_frame(box.frame_id, user)
    updated = _load(box.id)
    assert updated is not None
    return updated


@transaction.atomic
def box_delete(
    *, box_id: int, version: int | None = None, user: User | None = None, seconds: float | None = None
) -> None:
    """Delete the box; with ``version``, only if it is still at that version (else StaleVersionError)."""
    box = _load(box_id)
    if box is None:
        raise NotFoundError("No such box.")
    expected = box.version if version is None else version
    if not Box.objects.filter(id=box_id, version=expected).delete()[0]:
        raise _stale(box_id, expected)
    _touch_frame(box.frame_id, user)
    correction_on_box_deleted(box=box, user=user, seconds=seconds)


MAX_PROPAGATE = 500  # frames one propagation may fill; a longer object is propagated again from its end


@transaction.atomic
def box_propagate(*, box_id: int, frames: int, user: User | None = None) -> list[Box]:
    """Copy the box onto the next ``frames`` frames, on its track (a new track when it has none), as
    boxes a person drew ("propagate" in CVAT). A frame where the track is boxed already is skipped, so
    propagating twice never doubles a box. The copies are returned in frame order."""
    if not 1 <= frames <= MAX_PROPAGATE:
        raise ServiceError(f"Propagate 1 to {MAX_PROPAGATE} frames at a time.", field="frames")
    box = _load(box_id)
    if box is None:
        raise NotFoundError("No such box.")
    if box.review_state == ReviewState.PENDING:
        raise ServiceError("Accept or correct this pre-label before propagating it.")
    video = box.frame.video
    if box.track_id is None:
        track = Track.objects.create(video=video, label_class_id=box.label_class_id)
        box = box_write(
            box=box, version=box.version, user=user, changes={"track_id": track.id}, review_state=None
        )
    track_id = box.track_id
    assert track_id is not None
    index: int = box.frame.index
    last = min(index + frames, video.frame_count - 1)
    boxed = set(Box.objects.filter(track_id=track_id).values_list("frame__index", flat=True))
    return [
        box_create(
            video=video,
            frame_index=i,
            x=box.x,
            y=box.y,
            w=box.w,
            h=box.h,
            label_class_id=box.label_class_id,
            track_id=track_id,
            user=user,
        )
        for i in range(index + 1, last + 1)
        if i not in boxed
    ]
