"""Deleting clips and projects together with their stored media (frame images, uploads, work dirs).

Rows go in the transaction; files go only after it commits, so a rollback never leaves rows that
point at deleted images.

Exports (``MEDIA_ROOT/exports/<job id>/``, zips that may carry every frame image): deleting a
project removes all its exports; deleting a clip removes that clip's own exports. A project-wide
export is a snapshot of the whole project that others may still need, so it is kept when one clip
goes: a finished one stays downloadable as it was made (it still holds the deleted clip's boxes and
pictures; delete it too if that matters), and a queued or running one is cancelled with a message
naming the clip, since it could no longer be a consistent snapshot. Deleted rows take their folders
with them, so no job points at a missing file, and a running export whose row is gone or cancelled
stops at its next progress report.
"""

from __future__ import annotations

import logging
import shutil
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotate.models import Box, ExportJob, JobStatus, Project, Track, Video

log = logging.getLogger(__name__)


def _remove_tree(media_relative: str) -> None:
    try:
        shutil.rmtree(Path(default_storage.path(media_relative)), ignore_errors=True)
    except NotImplementedError:
        log.warning("storage has no local paths; %s is left to the storage's lifecycle rules", media_relative)


def _remove_video_files(video_id: int, source_file: str) -> None:
    _remove_tree(f"frames/{video_id}")
    if source_file:  # an upload still waiting for ingest
        _remove_tree(str(Path(source_file).parent))
    shutil.rmtree(Path(settings.ANNOTATE_WORK_DIR) / f"video-{video_id}", ignore_errors=True)


def _delete_rows(videos: list[Video]) -> None:
    # Boxes and tracks protect their label classes; remove them first so cascades can run.
    Box.objects.filter(frame__video__in=videos).delete()
    Track.objects.filter(video__in=videos).delete()
    for video in videos:
        transaction.on_commit(partial(_remove_video_files, video.id, video.source_file))


def _delete_exports(exports: QuerySet[ExportJob]) -> None:
    # The folder, not just ``file``: a running job's temporary file lies there too.
    for job_id in exports.values_list("id", flat=True):
        transaction.on_commit(partial(_remove_tree, f"exports/{job_id}"))
    exports.delete()


@transaction.atomic
def video_delete(*, video: Video) -> None:
    """Delete a clip with its frames, boxes, tracks, generations, stored files and its own exports;
    project-wide exports in progress are cancelled, finished ones kept."""
    # Lock the row first: an ingest finishing at this moment commits its frames before the cascade
    # collects them (or, locked out, finds the clip gone and removes what it wrote).
    Video.objects.select_for_update().filter(pk=video.pk).first()
    _delete_exports(ExportJob.objects.filter(project_id=video.project_id, video=video))
    ExportJob.objects.filter(
        project_id=video.project_id, video__isnull=True, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(
        status=JobStatus.CANCELLED,
        error=(
            f"Cancelled: the clip {video.name!r} was deleted while this export was being made; "
            "start it again."
        ),
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    _delete_rows([video])
    video.delete()


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete a project with everything in it, including the stored files of its clips and exports."""
    _delete_exports(ExportJob.objects.filter(project=project))
    _delete_rows(list(Video.objects.select_for_update().filter(project=project).only("id", "source_file")))
    project.delete()
