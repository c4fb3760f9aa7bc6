"""Generations of a clip, for members of its project."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from annotate.errors import NotFoundError
from annotate.models import Generation, JobStatus, Video


def generation_list(*, video: Video) -> QuerySet[Generation]:
    """The clip's generations, newest first."""
    return (
        Generation.objects.filter(video=video)
        .select_related("video", "transferred_from__video")
        .order_by("-number")
    )


def project_models(*, project_id: int) -> QuerySet[Generation]:
    """The project's trained generations a new clip can start from (each clip's newest first)."""
    return (
        Generation.objects.filter(video__project_id=project_id, status=JobStatus.SUCCEEDED)
        .exclude(checkpoint_path="")
        .select_related("video")
        .order_by("video_id", "-number")
    )


def generation_get_for_user(*, user: User, generation_id: int) -> Generation:
    generation = (
        Generation.objects.filter(id=generation_id, video__project__memberships__user_id=user.pk)
        .select_related("video")
        .first()
    )
    if generation is None:
        raise NotFoundError("No such generation.")
    return generation
