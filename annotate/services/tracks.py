"""Tracks: one object followed across the frames of a clip."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from annotate.errors import ServiceError
from annotate.models import BoxSource, LabelClass, Track, Video


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
