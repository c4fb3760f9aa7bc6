"""Boxes of a clip by frame range."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import F, QuerySet

from annotate.errors import NotFoundError
from annotate.models import Box, Video


def box_list(*, video: Video, frame_start: int | None = None, frame_end: int | None = None) -> QuerySet[Box]:
    """Boxes on frames [frame_start, frame_end] (inclusive, optional), each with ``frame_index``."""
    qs = Box.objects.filter(frame__video=video)
    if frame_start is not None:
        qs = qs.filter(frame__index__gte=frame_start)
    if frame_end is not None:
        qs = qs.filter(frame__index__lte=frame_end)
    return qs.annotate(frame_index=F("frame__index")).order_by("frame__index", "id")


def box_get_for_user(*, user: User, box_id: int) -> Box:
    box = (
        Box.objects.filter(id=box_id, frame__video__project__memberships__user_id=user.pk)
        .annotate(frame_index=F("frame__index"))
        .first()
    )
    if box is None:
        raise NotFoundError("No such box.")
    return box
