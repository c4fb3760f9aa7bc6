"""Reads of export and import jobs, scoped to the caller's projects (non-members get 404)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from annotate.errors import NotFoundError
from annotate.models import ExportJob, ImportJob, Project, Video


def export_job_list(*, project: Project) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(project=project).order_by("-created_at", "-id")


def export_job_get_for_user(*, user: User, job_id: int) -> ExportJob:
    job = ExportJob.objects.filter(id=job_id, project__memberships__user_id=user.pk).first()
    if job is None:
        raise NotFoundError("No such export.")
    return job


def import_job_list(*, video: Video) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(video=video).order_by("-created_at", "-id")


def import_job_get_for_user(*, user: User, job_id: int) -> ImportJob:
    job = (
        ImportJob.objects.select_related("video")
        .filter(id=job_id, video__project__memberships__user_id=user.pk)
        .first()
    )
    if job is None:
        raise NotFoundError("No such import.")
    return job
