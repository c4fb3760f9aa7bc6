"""Exports write the frames people finished unless asked otherwise (issue 13, defect 1)."""

from __future__ import annotations

import io
import zipfile

from django.utils import timezone

from annotate.models import Frame, ReviewState
from annotate.services.exports import export_job_run
from tests.factories import BoxFactory


def _finish(video, *indices: int) -> None:
    Frame.objects.filter(video=video, index__in=indices).update(reviewed_at=timezone.now())


def _export(api_client, project, django_capture_on_commit_callbacks, **options) -> zipfile.ZipFile:
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post(f"/api/projects/{project.id}/exports/", options, format="json")
    assert response.status_code == 202, response.json()
    export_job_run(job_id=response.json()["id"])
    job = api_client.get(f"/api/exports/{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job
    download = api_client.get(f"/api/exports/{job['id']}/download")
    return zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))


def _label_files(archive: zipfile.ZipFile) -> dict[str, bytes]:
    return {n: archive.read(n) for n in archive.namelist() if n.startswith("labels/") and n.endswith(".txt")}


def test_a_yolo_export_by_default_writes_no_empty_label_files_for_unfinished_frames(
    api_client, project, video, django_capture_on_commit_callbacks
):
    frames = {f.index: f for f in Frame.objects.filter(video=video)}
    BoxFactory(frame=frames[0])
    BoxFactory(frame=frames[3])
    _finish(video, 0, 3)  # frames 1, 2 and 4 show the same objects but nobody labeled them yet

    labels = _label_files(_export(api_client, project, django_capture_on_commit_callbacks, format="yolo"))

    assert len(labels) == 2, sorted(labels)
    assert all(content.strip() for content in labels.values())


def test_all_frames_is_a_choice_that_says_unlabeled_frames_are_negatives(
    api_client, project, video, django_capture_on_commit_callbacks
):
    BoxFactory(frame=Frame.objects.get(video=video, index=0))
    _finish(video, 0)

    labels = _label_files(
        _export(api_client, project, django_capture_on_commit_callbacks, format="yolo", frames="all")
    )

    assert len(labels) == 5
    assert sum(1 for content in labels.values() if not content.strip()) == 4


def test_pre_labels_above_a_score_bring_their_frames_along(
    api_client, project, video, django_capture_on_commit_callbacks
):
    frames = {f.index: f for f in Frame.objects.filter(video=video)}
    BoxFactory(frame=frames[0])
    _finish(video, 0)
    pending = {"source": "model", "review_state": ReviewState.PENDING}
    BoxFactory(frame=frames[2], score=0.9, **pending)
    BoxFactory(frame=frames[4], score=0.2, **pending)

    archive = _export(
        api_client,
        project,
        django_capture_on_commit_callbacks,
        format="yolo",
        frames="labeled",
        include_predictions=True,
        min_score=0.5,
    )

    names = sorted(n.rsplit("/", 1)[-1] for n in _label_files(archive))
    assert names == [f"v{video.id}_000000.txt", f"v{video.id}_000002.txt"]


def test_a_reviewed_only_mot_export_lists_its_frames_and_ships_their_pictures(
    api_client, project, video, django_capture_on_commit_callbacks
):
    frames = {f.index: f for f in Frame.objects.filter(video=video)}
    BoxFactory(frame=frames[1])
    BoxFactory(frame=frames[2])
    _finish(video, 1)

    archive = _export(
        api_client,
        project,
        django_capture_on_commit_callbacks,
        format="mot",
        video=video.id,
        with_images=True,
    )

    gt = next(n for n in archive.namelist() if n.endswith("gt/gt.txt"))
    listed = next(n for n in archive.namelist() if n.endswith("gt/frames.txt"))
    assert archive.read(gt).decode().splitlines()[0].startswith("2,")
    assert len(archive.read(gt).decode().splitlines()) == 1
    assert archive.read(listed).decode().split() == ["2"]
    assert [n.rsplit("/", 1)[-1] for n in archive.namelist() if "/img1/" in n] == ["000002.jpg"]


def test_an_unknown_frame_set_is_refused_with_the_choices(api_client, project):
    response = api_client.post(f"/api/projects/{project.id}/exports/", {"format": "coco", "frames": "some"})
    assert response.status_code == 400
    assert (
        "frames" in response.json()["errors"] if "errors" in response.json() else "frames" in response.json()
    )
