"""Export and import endpoints: job JSON, the worker's run, download, membership and 400s."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotate.models import Box, ExportJob, ImportJob
from annotate.services.exports import export_job_run
from annotate.services.import_jobs import import_job_run
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_export_job_runs_and_its_file_downloads(
    api_client, project, make_video, django_capture_on_commit_callbacks
):
    video, _ = make_video(project, frames=3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(
            f"/api/projects/{project.id}/exports/", {"format": "mot", "video": video.id}, format="json"
        )
    assert response.status_code == 202, response.json()
    job = response.json()
    assert job["status"] == "queued" and job["download_url"] is None and len(callbacks) == 1

    export_job_run(job_id=job["id"])  # what the worker does when the task arrives

    detail = api_client.get(f"/api/exports/{job['id']}/").json()
    assert detail["status"] == "succeeded", detail
    assert detail["box_count"] == 6 and detail["items_done"] == detail["items_total"] == 6
    assert detail["download_url"].endswith(f"/api/exports/{job['id']}/download")
    download = api_client.get(f"/api/exports/{job['id']}/download")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        assert any(name.endswith("gt/gt.txt") for name in archive.namelist())
    listed = api_client.get(f"/api/projects/{project.id}/exports/").json()
    assert [j["id"] for j in listed] == [job["id"]]
    assert export_job_run(job_id=job["id"]) is None  # a finished job is never run again


def test_bad_export_options_are_400(api_client, project):
    response = api_client.post(f"/api/projects/{project.id}/exports/", {"format": "tfrecord"}, format="json")
    assert response.status_code == 400
    response = api_client.post(f"/api/projects/{project.id}/exports/", {"format": "coco", "video": 999999})
    assert response.status_code == 400 and "video" in response.json()
    assert not ExportJob.objects.exists()


def test_a_job_not_finished_has_no_download(api_client, project):
    job = ExportJob.objects.create(project=project, format="coco")
    assert api_client.get(f"/api/exports/{job.id}/download").status_code == 409


def test_non_members_get_404_everywhere(project, make_video):
    video, _ = make_video(project, frames=1, labeled=False)
    job = ExportJob.objects.create(project=project, format="coco")
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get(f"/api/projects/{project.id}/exports/").status_code == 404
    assert stranger.post(f"/api/projects/{project.id}/exports/", {"format": "coco"}).status_code == 404
    assert stranger.get(f"/api/exports/{job.id}/").status_code == 404
    assert stranger.get(f"/api/exports/{job.id}/download").status_code == 404
    upload = SimpleUploadedFile("gt.txt", b"1,1,1,1,5,5,1,-1,-1,-1\n")
    response = stranger.post(f"/api/videos/{video.id}/imports/", {"file": upload, "format": "mot"})
    assert response.status_code == 404 and not Box.objects.exists()


def _import(api_client, video, captured, **fields):
    with captured(execute=False):
        response = api_client.post(f"/api/videos/{video.id}/imports/", fields, format="multipart")
    assert response.status_code == 202, response.json()
    job = response.json()
    assert job["status"] == "queued" and job["video"] == video.id
    import_job_run(job_id=job["id"])
    return api_client.get(f"/api/imports/{job['id']}/").json()


def test_an_import_is_a_job_that_writes_labels_or_lists_every_problem(
    api_client, project, make_video, django_capture_on_commit_callbacks
):
    video, _ = make_video(project, frames=2, labeled=False)
    good = SimpleUploadedFile("gt.txt", b"1,1,1,1,5,5,-1\n2,1,2,2,5,5,-1\n")
    job = _import(
        api_client, video, django_capture_on_commit_callbacks, file=good, format="mot", default_class="square"
    )
    assert job["status"] == "succeeded", job
    assert (job["items_done"], job["items_total"]) == (2, 2)
    result = job["result"]
    assert (result["boxes"], result["frames"], result["tracks"], result["dry_run"]) == (2, 2, 1, False)
    assert not list((Path(settings.MEDIA_ROOT) / "imports").rglob("*.bin"))  # the upload is gone
    document = {
        "images": [{"id": 1, "frame_index": 0}],
        "categories": [{"id": 1, "name": "lorry"}],
        "annotations": [{"id": 17, "image_id": 1, "category_id": 1, "bbox": [3, 1, 40, 5]}],
    }
    bad = SimpleUploadedFile("labels.json", json.dumps(document).encode())
    job = _import(api_client, video, django_capture_on_commit_callbacks, file=bad, format="coco")
    assert job["status"] == "failed"
    assert job["error"] == "Nothing was imported: 1 problem found."
    assert job["problems"] == ["annotation 17: unknown class 'lorry' (allow create_classes to add it)"]
    assert Box.objects.filter(frame__video=video).count() == 2
    refused = api_client.post(
        f"/api/videos/{video.id}/imports/", {"file": SimpleUploadedFile("x.json", b"{}"), "format": "nope"}
    )
    assert refused.status_code == 400 and not ImportJob.objects.filter(status="queued").exists()


def test_a_dry_run_counts_boxes_and_frames_and_writes_nothing(
    api_client, project, make_video, django_capture_on_commit_callbacks
):
    video, _ = make_video(project, frames=3, labeled=False)
    upload = SimpleUploadedFile("gt.txt", b"1,1,1,1,5,5,-1\n2,1,2,2,5,5,-1\n2,2,2,2,500,5,-1\n")
    job = _import(
        api_client,
        video,
        django_capture_on_commit_callbacks,
        file=upload,
        format="mot",
        default_class="square",
        dry_run="true",
    )
    assert job["status"] == "succeeded" and job["dry_run"]
    assert (job["result"]["boxes"], job["result"]["frames"], job["result"]["clipped_boxes"]) == (3, 2, 1)
    assert not Box.objects.filter(frame__video=video).exists()
