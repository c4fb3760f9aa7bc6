"""Undo takes back one action and its correction event: the log holds what a person finally did."""

from __future__ import annotations

import pytest

from annotate.models import Box, CorrectionEvent, Frame, Generation, JobStatus, Track
from annotate.selectors.analytics import efficiency_for_video
from tests.annotate.api.conftest import client_for
from tests.annotate.loop.helpers import clip, generation, prediction
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(project):
    video = clip(project, frames=8)
    video.active_generation = generation(video, 1, JobStatus.SUCCEEDED)
    video.save()
    return video


def _totals(video):
    totals = efficiency_for_video(video=video)["totals"]
    return {name: totals[name] for name in ("accepted", "edited", "deleted", "added")}


NOTHING = {"accepted": 0, "edited": 0, "deleted": 0, "added": 0}


def _snapshot(box, **extra):
    return {
        "box": box.id,
        "frame_index": box.frame.index,
        "x": box.x,
        "y": box.y,
        "w": box.w,
        "h": box.h,
        "label_class": box.label_class_id,
        "track": box.track_id,
        "score": box.score,
        "version": box.version,
        **extra,
    }


def test_undoing_the_deletion_of_a_prediction_brings_it_back_with_its_provenance(api_client, video):
    track = Track.objects.create(video=video, label_class=video.project.classes.get(index=0), source="model")
    box = prediction(video, 1, video.active_generation, score=0.7, track=track)
    snapshot = _snapshot(box)
    assert api_client.delete(f"/api/boxes/{box.id}/?version=1").status_code == 204
    assert _totals(video)["deleted"] == 1
    response = api_client.post(f"/api/videos/{video.id}/boxes/restore/", snapshot, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["id"], body["source"], body["generation"], body["score"], body["track"]) == (
        box.id,
        "model",
        video.active_generation_id,
        0.7,
        track.id,
    )
    assert (body["review_state"], body["version"]) == ("pending", 2)
    assert _totals(video) == NOTHING and not CorrectionEvent.objects.exists()
    again = api_client.post(f"/api/videos/{video.id}/boxes/restore/", snapshot, format="json")
    assert again.status_code == 409
    # Redo deletes it again, and that counts again.
    assert api_client.delete(f"/api/boxes/{box.id}/?version=2").status_code == 204
    assert _totals(video)["deleted"] == 1


def test_a_prediction_cannot_come_back_once_its_frame_was_predicted_again_or_its_generation_is_gone(
    api_client, video
):
    box = prediction(video, 1, video.active_generation)
    snapshot = _snapshot(box)
    api_client.delete(f"/api/boxes/{box.id}/")
    newer = generation(video, 2, JobStatus.SUCCEEDED)
    prediction(video, 1, newer)
    refused = api_client.post(f"/api/videos/{video.id}/boxes/restore/", snapshot, format="json")
    assert refused.status_code == 409 and "predicted again" in refused.json()["detail"]
    Box.objects.filter(generation=newer).delete()
    Generation.objects.filter(id=video.active_generation_id).delete()
    gone = api_client.post(f"/api/videos/{video.id}/boxes/restore/", snapshot, format="json")
    assert gone.status_code == 409


def test_only_your_own_deletion_can_be_undone(api_client, video, project):
    box = prediction(video, 1, video.active_generation)
    snapshot = _snapshot(box)
    colleague = UserFactory()
    MembershipFactory(project=project, user=colleague)
    assert client_for(colleague).delete(f"/api/boxes/{box.id}/").status_code == 204
    refused = api_client.post(f"/api/videos/{video.id}/boxes/restore/", snapshot, format="json")
    assert refused.status_code == 409 and not Box.objects.filter(id=box.id).exists()
    outsider = client_for(UserFactory())
    assert outsider.post(f"/api/videos/{video.id}/boxes/restore/", snapshot, format="json").status_code == 404


def test_undoing_a_drawing_removes_its_add_and_undoing_its_deletion_keeps_it(api_client, video, project):
    fields = {
        "frame_index": 2,
        "x": 1,
        "y": 1,
        "w": 4,
        "h": 4,
        "label_class": project.classes.get(index=0).id,
    }
    drawn = api_client.post(f"/api/videos/{video.id}/boxes/", fields, format="json").json()
    assert _totals(video)["added"] == 1
    assert (
        api_client.post(f"/api/boxes/{drawn['id']}/undo-create/", {"version": 1}, format="json").status_code
        == 204
    )
    assert _totals(video) == NOTHING and not Box.objects.exists()

    again = api_client.post(f"/api/videos/{video.id}/boxes/", fields, format="json").json()
    api_client.delete(f"/api/boxes/{again['id']}/")
    back = api_client.post(
        f"/api/videos/{video.id}/boxes/restore/", {**fields, "box": again["id"], "version": 1}, format="json"
    )
    assert back.status_code == 201 and back.json()["source"] == "human" and back.json()["id"] == again["id"]
    assert _totals(video)["added"] == 1 and CorrectionEvent.objects.count() == 1


def test_undoing_an_accept_makes_the_prediction_pending_again(api_client, video, project):
    box = prediction(video, 1, video.active_generation)
    api_client.post(f"/api/boxes/{box.id}/accept/", {"version": 1}, format="json")
    stale = api_client.post(f"/api/boxes/{box.id}/unaccept/", {"version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["current"]["version"] == 2
    outsider = client_for(UserFactory())
    assert outsider.post(f"/api/boxes/{box.id}/unaccept/", {"version": 2}, format="json").status_code == 404
    colleague = UserFactory()
    MembershipFactory(project=project, user=colleague)
    assert client_for(colleague).post(f"/api/boxes/{box.id}/unaccept/", {"version": 2}).status_code == 409
    response = api_client.post(f"/api/boxes/{box.id}/unaccept/", {"version": 2}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["review_state"], response.json()["version"]) == ("pending", 3)
    assert _totals(video) == NOTHING
    assert Frame.objects.get(video=video, index=1).touched_at is not None


def test_undoing_accept_all_reverts_exactly_its_boxes_and_the_reviewed_mark(api_client, video):
    boxes = [prediction(video, 2, video.active_generation) for _ in range(2)]
    result = api_client.post(f"/api/videos/{video.id}/frames/2/accept-all/", {}, format="json").json()
    assert {b["id"] for b in result["boxes"]} == {b.id for b in boxes}
    later = prediction(video, 2, video.active_generation)  # not part of that accept-all
    listed = [{"id": b["id"], "version": b["version"]} for b in result["boxes"]]
    url = f"/api/videos/{video.id}/frames/2/accept-all/undo/"
    stale = api_client.post(
        url, {"event": result["event"], "boxes": [{**listed[0], "version": 1}]}, format="json"
    )
    assert stale.status_code == 409
    response = api_client.post(url, {"event": result["event"], "boxes": listed}, format="json")
    assert response.status_code == 200, response.content
    assert {b["review_state"] for b in response.json()} == {"pending"}
    assert Box.objects.get(id=later.id).version == 1
    frame = Frame.objects.get(video=video, index=2)
    assert frame.reviewed_at is None and frame.touched_at is not None
    assert _totals(video) == NOTHING
    assert api_client.post(url, {"event": result["event"], "boxes": listed}, format="json").status_code == 409


def test_undoing_an_edit_restores_the_geometry_and_the_pending_state(api_client, video):
    box = prediction(video, 3, video.active_generation, w=10)
    api_client.patch(f"/api/boxes/{box.id}/", {"version": 1, "w": 5}, format="json")
    api_client.patch(f"/api/boxes/{box.id}/", {"version": 2, "w": 6}, format="json")
    url = f"/api/boxes/{box.id}/undo-edit/"
    second = api_client.post(url, {"version": 3, "w": 5, "review_state": "edited"}, format="json")
    assert second.status_code == 200 and second.json()["review_state"] == "edited"
    assert _totals(video)["edited"] == 1
    assert api_client.post(url, {"version": 3, "w": 10}, format="json").status_code == 409
    first = api_client.post(url, {"version": 4, "w": 10}, format="json")
    assert (first.json()["w"], first.json()["review_state"], first.json()["source"]) == (
        10.0,
        "pending",
        "model",
    )
    assert _totals(video) == NOTHING
    assert api_client.post(url, {"version": 5, "w": 9}, format="json").status_code == 409
