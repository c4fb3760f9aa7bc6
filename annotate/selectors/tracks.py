"""Tracks (object identities across frames) of a clip."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Count, Max, Min, QuerySet

from annotate.errors import NotFoundError
from annotate.models import Track, Video


def track_list(*, video: Video) -> QuerySet[Track]:
    """The clip's objects with ``first_frame``, ``last_frame`` (None without boxes) and ``box_count``."""
    return (
        Track.objects.filter(video=video)
        .annotate(
            first_frame=Min("boxes__frame__index"),
            last_frame=Max("boxes__frame__index"),
            box_count=Count("boxes"),
        )
        .order_by("id")
    )


def track_get_for_user(*, user: User, track_id: int) -> Track:
    track = (
        Track.objects.filter(id=track_id, video__project__memberships__user_id=user.pk)
        .select_related("video")
        .annotate(
            first_frame=Min("boxes__frame__index"),
            last_frame=Max("boxes__frame__index"),
            box_count=Count("boxes"),
        )
        .first()
    )
    if track is None:
        raise NotFoundError("No such track.")
    return track
