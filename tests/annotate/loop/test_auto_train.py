"""Automatic training counts finished frames and starts only at a frame boundary, never mid-frame."""

from __future__ import annotations

import pytest

from annotate.models import Generation, JobStatus
from tests.annotate.loop.helpers import clip, generation, prediction

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(project):
    video = clip(project, frames=8)
    active = generation(video, 1, JobStatus.SUCCEEDED)
    video.active_generation = active
    video.save()
    project.auto_train_after_frames = 2
    project.save()
    return video


def draw(api_client, video, index: int) -> None:
    box = {
        "frame_index": index,
        "x": 1,
        "y": 1,
        "w": 5,
        "h": 5,
        "label_class": video.project.classes.first().id,
    }
    assert api_client.post(f"/api/videos/{video.id}/boxes/", box, format="json").status_code == 201


def summary(api_client, video) -> dict:
    response = api_client.get(f"/api/videos/{video.id}/frames/summary/")
    assert response.status_code == 200, response.content
    return response.json()


def runs(video) -> list[int]:
    return list(Generation.objects.filter(video=video).order_by("number").values_list("number", flat=True))


def test_box_writes_never_start_a_run_and_leaving_a_finished_frame_does(
    api_client, video, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draw(api_client, video, 1)
        draw(api_client, video, 2)
        draw(api_client, video, 2)
    assert runs(video) == [1]  # two frames finished, but the labeler is still on frame 2
    assert summary(api_client, video)["frames_until_next_generation"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/videos/{video.id}/frames/2/leave/")
    assert response.status_code == 204
    assert runs(video) == [1, 2]
    counts = summary(api_client, video)
    assert (counts["finished"], counts["finished_since_last_generation"]) == (2, 0)
    assert counts["frames_until_next_generation"] == 2


def test_leaving_a_half_reviewed_frame_counts_nothing(api_client, video, django_capture_on_commit_callbacks):
    draw(api_client, video, 1)
    first = prediction(video, 3, video.active_generation)
    prediction(video, 3, video.active_generation)
    accepted = api_client.post(f"/api/boxes/{first.id}/accept/", {"version": 1}, format="json")
    assert accepted.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(f"/api/videos/{video.id}/frames/3/leave/")
        api_client.post(f"/api/videos/{video.id}/frames/1/leave/")
    assert runs(video) == [1]
    counts = summary(api_client, video)
    assert (counts["finished"], counts["prelabeled"], counts["frames_until_next_generation"]) == (1, 1, 1)


def test_marking_a_frame_done_is_a_frame_boundary(api_client, video, django_capture_on_commit_callbacks):
    draw(api_client, video, 1)
    prediction(video, 4, video.active_generation)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/videos/{video.id}/frames/4/accept-all/", {}, format="json")
    assert response.status_code == 200, response.content
    assert runs(video) == [1, 2]


def test_no_automatic_run_when_the_project_trains_by_hand(
    api_client, video, django_capture_on_commit_callbacks
):
    video.project.auto_train = False
    video.project.save()
    with django_capture_on_commit_callbacks(execute=True):
        draw(api_client, video, 1)
        draw(api_client, video, 2)
        api_client.post(f"/api/videos/{video.id}/frames/2/leave/")
    assert runs(video) == [1]
    assert summary(api_client, video)["auto_train"] is False
