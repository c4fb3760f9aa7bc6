"""Reads of label import jobs, scoped to the caller's projects (non-members get 404)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from annotate.errors import NotFoundError
from annotate.models import ImportJob, Video


def import_job_list(*, video: Video) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(video=video).order_by("-created_at", "-id")


def import_job_get_for_user(*, user: User, job_id: int) -> ImportJob:
    """The import, when the user is a member of its clip's project; NotFoundError (404) otherwise."""
    job = (
        ImportJob.objects.select_related("video")
        .filter(id=job_id, video__project__memberships__user_id=user.pk)
        .first()
    )
    if job is None:
        raise NotFoundError("No such import.")
    return job
