"""Tracks (object identities across frames) of a clip."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from annotate.errors import NotFoundError
from annotate.models import Track, Video


def track_list(*, video: Video) -> QuerySet[Track]:
    return Track.objects.filter(video=video).order_by("id")


def track_get_for_user(*, user: User, track_id: int) -> Track:
    track = (
        Track.objects.filter(id=track_id, video__project__memberships__user_id=user.pk)
        .select_related("video")
        .first()
    )
    if track is None:
        raise NotFoundError("No such track.")
    return track
