"""Frames of a clip: the range listing and the image lookup of the hot path."""

from __future__ import annotations

from typing import NamedTuple

from django.contrib.auth.models import User
from django.db.models import OuterRef, QuerySet

from annotate.errors import NotFoundError
from annotate.models import Box, BoxSource, Frame, Video
from annotate.selectors._counts import count_of


class FrameImage(NamedTuple):
    path: str  # media-relative
    sha256: str


def frame_list(*, video: Video, start: int | None = None, end: int | None = None) -> QuerySet[Frame]:
    """Frames with index in [start, end] (both inclusive, both optional), with box counts."""
    qs = Frame.objects.filter(video=video)
    if start is not None:
        qs = qs.filter(index__gte=start)
    if end is not None:
        qs = qs.filter(index__lte=end)
    return qs.order_by("index").annotate(
        human_boxes=count_of(Box.objects.filter(frame=OuterRef("pk"), source=BoxSource.HUMAN), "frame"),
        model_boxes=count_of(Box.objects.filter(frame=OuterRef("pk"), source=BoxSource.MODEL), "frame"),
    )


def frame_image_for_user(*, user: User, video_id: int, index: int) -> FrameImage:
    """Where frame ``index`` of the clip is stored: one query on (video, index) joined to membership."""
    row = (
        Frame.objects.filter(video_id=video_id, index=index, video__project__memberships__user_id=user.pk)
        .values_list("image", "sha256")
        .first()
    )
    if row is None:
        raise NotFoundError("No such frame.")
    return FrameImage(*row)
