from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotate.models import Video, VideoStatus
from tests.factories import BoxFactory, VideoFactory, make_frames

pytestmark = pytest.mark.django_db

VIDEO_KEYS = {
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
    for frame in (frames[0], frames[2]):
        frame.touched_at = frame.video.created_at
        frame.save()
    VideoFactory()  # another project's clip

    response = api_client.get(f"/api/projects/{project.id}/videos/")

    assert response.status_code == 200
    [body] = response.json()
    assert set(body) == VIDEO_KEYS
    assert body["counts"] == {
        "frames": 5,
        "labeled_frames": 2,
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
    assert response.status_code == 400
    assert "limit" in response.json()["detail"]


def test_a_manager_deletes_a_clip_with_its_frame_images(
    api_client, video, settings, django_capture_on_commit_callbacks
):
    images = [settings.MEDIA_ROOT / f.image for f in video.frames.all()]
    BoxFactory(frame=video.frames.first())

    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.delete(f"/api/videos/{video.id}/").status_code == 204

    assert not Video.objects.filter(id=video.id).exists()
    assert not any(image.exists() for image in images)


def test_an_annotator_may_upload_but_not_delete_a_clip(annotator_client, project, video):
    upload = SimpleUploadedFile("a.mp4", bytes(64))
    assert annotator_client.post(f"/api/projects/{project.id}/videos/", {"file": upload}).status_code == 202
    assert annotator_client.delete(f"/api/videos/{video.id}/").status_code == 403
    assert Video.objects.filter(id=video.id).exists()


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
