from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from annotate.models import Video, VideoStatus
from tests.factories import BoxFactory, VideoFactory, make_frames

pytestmark = pytest.mark.django_db

VIDEO_KEYS = {
    "eta_seconds",
    "id",
    "project",
    "name",
    "source",
    "status",
    "error",
    "fps",
    "frame_count",
    "width",
    "height",
    "frames_done",
    "frames_total",
    "progress",
    "active_generation",
    "counts",
    "created_at",
}


def test_the_video_list_shows_the_projects_clips_with_label_counts(api_client, project, video):
    frames = list(video.frames.order_by("index"))
    BoxFactory(frame=frames[0])
    BoxFactory(frame=frames[1], source="model", review_state="pending", score=0.9)
    BoxFactory(frame=frames[2], source="model", review_state="edited", score=0.8)
    for frame in (frames[0], frames[2]):  # finished: every box on them decided
        frame.touched_at = frame.reviewed_at = frame.video.created_at
        frame.save()
    VideoFactory()  # another project's clip

    response = api_client.get(f"/api/projects/{project.id}/videos/")

    assert response.status_code == 200
    [body] = response.json()
    assert set(body) == VIDEO_KEYS
    assert body["counts"] == {
        "frames": 5,
        "labeled_frames": 2,
        "finished_frames": 2,
        "prelabeled_frames": 1,
        "accepted_boxes": 2,
        "boxes": 3,
    }
    assert body["progress"] == 1.0


def test_a_video_being_ingested_reports_its_progress(api_client, project):
    clip = VideoFactory(project=project, status=VideoStatus.INGESTING, frames_done=25, frames_total=100)
    body = api_client.get(f"/api/videos/{clip.id}/").json()
    assert (body["status"], body["progress"]) == ("ingesting", 0.25)
    assert body["counts"]["frames"] == 0


def test_uploading_a_clip_queues_it_and_answers_202(api_client, project):
    upload = SimpleUploadedFile(
        "my clip.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(200), content_type="video/mp4"
    )

    response = api_client.post(
        f"/api/projects/{project.id}/videos/", {"file": upload, "sample_fps": "5", "max_width": "320"}
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["name"], body["project"]) == ("queued", "my clip.mp4", project.id)
    video = Video.objects.get(id=body["id"])
    assert (video.sample_fps, video.max_width) == (5.0, 320)


def test_an_upload_without_a_file_or_with_bad_sampling_is_refused(api_client, project):
    url = f"/api/projects/{project.id}/videos/"
    assert api_client.post(url, {"name": "x"}).status_code == 400
    upload = SimpleUploadedFile("c.mp4", b"data")
    assert api_client.post(url, {"file": upload, "sample_fps": "-1"}).status_code == 400
    assert not Video.objects.exists()


def test_an_upload_over_the_size_limit_is_refused_with_a_message(api_client, project, settings):
    settings.ANNOTATE_MAX_UPLOAD_BYTES = 10
    upload = SimpleUploadedFile("big.mp4", bytes(100))
    response = api_client.post(f"/api/projects/{project.id}/videos/", {"file": upload})
    assert response.status_code == 413
    assert response.json()["detail"] == "The file is larger than the 10 bytes upload limit."


@pytest.fixture
def upload_temp_dir(settings, tmp_path: Path) -> Path:
    """Uploads go to a temporary file here (not to memory), as a large clip would."""
    folder = tmp_path / "upload-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100
    return folder


@pytest.fixture
def temp_files_made(monkeypatch) -> list[Path]:
    """The temporary upload files Django's handler opened during the request."""
    made: list[Path] = []
    new_file = TemporaryFileUploadHandler.new_file

    def recording_new_file(self, *args, **kwargs):
        new_file(self, *args, **kwargs)
        made.append(Path(self.file.temporary_file_path()))

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", recording_new_file)
    return made


def test_an_upload_over_the_limit_is_stopped_while_it_streams_and_leaves_no_temporary_file(
    api_client, project, settings, upload_temp_dir, temp_files_made
):
    settings.ANNOTATE_MAX_UPLOAD_BYTES = 1000
    upload = SimpleUploadedFile("big.mp4", bytes(5 * 1024), content_type="video/mp4")

    response = api_client.post(f"/api/projects/{project.id}/videos/", {"file": upload, "name": "big"})

    assert response.status_code == 413, response.content
    assert response.json()["detail"] == "The file is larger than the 1000 bytes upload limit."
    assert len(temp_files_made) == 1  # it had started streaming to disk
    assert not temp_files_made[0].exists()
    assert list(upload_temp_dir.iterdir()) == []
    assert not Video.objects.exists()
    assert not default_storage.exists("uploads")


def test_a_request_announcing_a_body_over_the_limit_is_refused_before_it_is_read(
    api_client, project, settings, upload_temp_dir, temp_files_made
):
    settings.ANNOTATE_MAX_UPLOAD_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    upload = SimpleUploadedFile("huge.mp4", bytes(200 * 1024), content_type="video/mp4")

    response = api_client.post(f"/api/projects/{project.id}/videos/", {"file": upload})

    assert response.status_code == 413, response.content
    assert "larger than the 1000 bytes upload limit" in response.json()["detail"]
    assert temp_files_made == []  # refused on its Content-Length, before any file was opened
    assert list(upload_temp_dir.iterdir()) == []
    assert not Video.objects.exists()


def test_the_size_limit_is_stated_in_megabytes(api_client, project, settings, upload_temp_dir):
    settings.ANNOTATE_MAX_UPLOAD_BYTES = 1024 * 1024
    upload = SimpleUploadedFile("big.mp4", bytes(1024 * 1024 + 1), content_type="video/mp4")

    response = api_client.post(f"/api/projects/{project.id}/videos/", {"file": upload})

    assert response.status_code == 413
    assert response.json()["detail"] == "The file is larger than the 1 MB upload limit."
    assert list(upload_temp_dir.iterdir()) == []


def test_an_upload_at_the_limit_streams_to_disk_and_is_accepted(
    api_client, project, settings, upload_temp_dir
):
    settings.ANNOTATE_MAX_UPLOAD_BYTES = 5 * 1024
    upload = SimpleUploadedFile("fits.mp4", bytes(5 * 1024), content_type="video/mp4")

    response = api_client.post(f"/api/projects/{project.id}/videos/", {"file": upload})

    assert response.status_code == 202, response.content
    video = Video.objects.get()
    assert default_storage.size(video.source_file) == 5 * 1024
    assert list(upload_temp_dir.iterdir()) == []


def test_an_upload_whose_ingest_cannot_be_queued_answers_and_ends_failed(
    api_client, project, broker_down, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("a.mp4", bytes(64), content_type="video/mp4")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/projects/{project.id}/videos/", {"file": upload})

    assert response.status_code == 202, response.content
    video = Video.objects.get()
    assert video.status == VideoStatus.FAILED
    assert video.error.startswith("Could not queue the ingest: Error 111")
    assert video.error.endswith("; is the broker running?")
    assert video.source_file == ""
    assert default_storage.listdir("uploads") == ([], [])


def test_a_manager_deletes_a_clip_with_its_frame_images(
    api_client, video, settings, django_capture_on_commit_callbacks
):
    images = [settings.MEDIA_ROOT / f.image for f in video.frames.all()]
    BoxFactory(frame=video.frames.first())

    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.delete(f"/api/videos/{video.id}/").status_code == 204

    assert not Video.objects.filter(id=video.id).exists()
    assert not any(image.exists() for image in images)


def test_an_annotator_may_neither_upload_nor_delete_a_clip(annotator_client, project, video):
    upload = SimpleUploadedFile("a.mp4", bytes(64))
    response = annotator_client.post(f"/api/projects/{project.id}/videos/", {"file": upload})
    assert response.status_code == 403
    assert "manager" in response.json()["detail"]
    assert annotator_client.delete(f"/api/videos/{video.id}/").status_code == 403
    assert list(Video.objects.all()) == [video]


def test_a_non_member_gets_404_for_videos(outsider_client, project, video):
    upload = SimpleUploadedFile("a.mp4", bytes(64))
    assert outsider_client.get(f"/api/projects/{project.id}/videos/").status_code == 404
    assert outsider_client.post(f"/api/projects/{project.id}/videos/", {"file": upload}).status_code == 404
    assert outsider_client.get(f"/api/videos/{video.id}/").status_code == 404
    assert outsider_client.delete(f"/api/videos/{video.id}/").status_code == 404
    assert Video.objects.count() == 1


def test_counts_are_per_clip(api_client, project, video):
    other = VideoFactory(project=project)
    make_frames(other, 2)
    counts = {
        v["id"]: v["counts"]["frames"] for v in api_client.get(f"/api/projects/{project.id}/videos/").json()
    }
    assert counts == {video.id: 5, other.id: 2}


def test_a_failed_clip_imported_from_the_server_is_retried_and_a_failed_upload_says_to_upload_again(
    api_client, project, import_root, django_capture_on_commit_callbacks
):
    source = import_root / "clip.mp4"
    source.write_bytes(b"not a video")
    imported = Video.objects.create(project=project, name="a", source=str(source), status="failed", error="x")
    uploaded = Video.objects.create(project=project, name="b", source="b.mp4", status="failed", error="x")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(f"/api/videos/{imported.id}/retry/")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert len(callbacks) == 1  # the ingest is sent once the retry commits

    refused = api_client.post(f"/api/videos/{uploaded.id}/retry/")
    assert refused.status_code == 409 and "upload it again" in refused.json()["detail"]
    assert api_client.post(f"/api/videos/{imported.id}/retry/").status_code == 409  # queued, not failed
