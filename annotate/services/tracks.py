"""Tracks: one object followed across the frames of a clip."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from annotate.errors import ConflictError, ServiceError
from annotate.models import Box, BoxSource, LabelClass, Track, Video


def _check_class(video: Video, label_class_id: int) -> None:
    if not LabelClass.objects.filter(id=label_class_id, project_id=video.project_id).exists():
        raise ServiceError("No such class in this project.", field="label_class")


@transaction.atomic
def track_create(
    *,
    video: Video,
    label_class_id: int,
    external_id: str = "",
    source: str = BoxSource.HUMAN,
    user: User | None = None,
) -> Track:
    """A new track of the clip. ``user`` is the person creating it (kept for auditing hooks)."""
    _check_class(video, label_class_id)
    if source not in BoxSource.values:
        raise ServiceError(f"Source must be one of: {', '.join(BoxSource.values)}.", field="source")
    return Track.objects.create(
        video=video, label_class_id=label_class_id, external_id=external_id, source=source
    )


@transaction.atomic
def track_update(*, track: Track, label_class_id: int | None = None, external_id: str | None = None) -> Track:
    """Relabel or rename a track. Its boxes keep their own classes; relabel those through boxes."""
    fields: list[str] = []
    if label_class_id is not None:
        _check_class(track.video, label_class_id)
        track.label_class_id = label_class_id
        fields.append("label_class")
    if external_id is not None:
        track.external_id = external_id
        fields.append("external_id")
    if fields:
        track.save(update_fields=[*fields, "updated_at"])
    return track


@transaction.atomic
def track_delete(*, track: Track) -> None:
    """Delete a track; its boxes stay, unlinked (Box.track is SET_NULL)."""
    track.delete()


def _moved(boxes: QuerySet[Box], user: User | None, **values: Any) -> list[int]:
    """Apply ``values`` to the boxes (a person's write: version + 1, so copies read before are stale);
    the frames they are on."""
    frame_ids = sorted(set(boxes.values_list("frame_id", flat=True)))
    boxes.update(**values, version=F("version") + 1, updated_by=user, updated_at=timezone.now())
    return frame_ids


@transaction.atomic
def track_merge(*, track: Track, into: Track, user: User | None = None) -> Track:
    """Move every box of ``track`` onto ``into`` and delete ``track``: one object followed under one id.

    Refused when both tracks have a box on the same frame (one object is boxed once per frame)."""
    if track.video_id != into.video_id:
        raise ServiceError("Only tracks of the same clip can be merged.", field="into")
    if track.id == into.id:
        raise ServiceError("A track cannot be merged into itself.", field="into")
    both = sorted(
        set(Box.objects.filter(track=track).values_list("frame__index", flat=True))
        & set(Box.objects.filter(track=into).values_list("frame__index", flat=True))
    )
    if both:
        shown = ", ".join(str(i) for i in both[:5]) + (" …" if len(both) > 5 else "")
        raise ConflictError(
            f"Objects #{track.id} and #{into.id} are both boxed on frame {shown}: "
            "delete one of those boxes, then merge."
        )
    _moved(Box.objects.filter(track=track).select_for_update(), user, track=into)
    track.delete()
    return into


@transaction.atomic
def track_split(*, track: Track, frame_index: int, user: User | None = None) -> Track:
    """Boxes of ``track`` on frame ``frame_index`` and later go to a new track of the same class: where a
    tracker swapped two objects, the id is cut there. The new track is returned."""
    later = Box.objects.filter(track=track, frame__index__gte=frame_index)
    if not later.exists() or not Box.objects.filter(track=track, frame__index__lt=frame_index).exists():
        raise ServiceError(
            f"Object #{track.id} has no boxes on both sides of frame {frame_index}: nothing to split.",
            field="frame_index",
        )
    new = Track.objects.create(video=track.video, label_class=track.label_class, source=track.source)
    _moved(later.select_for_update(), user, track=new)
    return new
