from __future__ import annotations

import pytest

from annotate.models import Box, Frame, LabelClass
from tests.factories import BoxFactory, TrackFactory

pytestmark = pytest.mark.django_db

BOX_KEYS = {
    "id",
    "frame_index",
    "track",
    "label_class",
    "occluded",
    "outside",
    "x",
    "y",
    "w",
    "h",
    "source",
    "generation",
    "score",
    "review_state",
    "version",
    "updated_at",
}


def _frame(video, index: int) -> Frame:
    return video.frames.get(index=index)


def test_boxes_are_listed_by_inclusive_frame_range_or_single_frame(api_client, video):
    ids = {i: BoxFactory(frame=_frame(video, i)).id for i in range(5)}
    url = f"/api/videos/{video.id}/boxes/"

    in_range = api_client.get(f"{url}?frame_start=1&frame_end=3").json()
    assert [(b["frame_index"], b["id"]) for b in in_range] == [(i, ids[i]) for i in (1, 2, 3)]
    assert set(in_range[0]) == BOX_KEYS
    assert [b["id"] for b in api_client.get(f"{url}?frame=4").json()] == [ids[4]]
    assert len(api_client.get(url).json()) == 5


def test_a_drawn_box_is_a_human_accepted_box_and_touches_its_frame(api_client, video, project, user):
    square = project.classes.get(name="square")
    response = api_client.post(
        f"/api/videos/{video.id}/boxes/",
        {"frame_index": 2, "x": 1, "y": 2, "w": 30, "h": 20, "label_class": square.id},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["frame_index"], body["source"], body["review_state"], body["version"]) == (
        2,
        "human",
        "accepted",
        1,
    )
    assert Box.objects.get(id=body["id"]).created_by == user
    assert _frame(video, 2).touched_at is not None
    assert _frame(video, 1).touched_at is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"x": 60, "w": 10}, "w"),  # past the right edge of the 64 px frame
        ({"y": 40, "h": 10}, "h"),  # past the bottom edge of the 48 px frame
        ({"w": 0}, "w"),
        ({"h": -1}, "h"),
        ({"frame_index": 5}, "frame_index"),
    ],
)
def test_a_box_outside_the_frame_or_of_no_size_is_refused(api_client, video, project, change, field):
    payload = {"frame_index": 0, "x": 0, "y": 0, "w": 10, "h": 10, "label_class": project.classes.first().id}
    response = api_client.post(f"/api/videos/{video.id}/boxes/", {**payload, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Box.objects.exists()


def test_a_box_with_a_foreign_class_or_track_is_refused(api_client, video, project, outsider):
    foreign_class = LabelClass.objects.exclude(project=project).first()
    foreign_track = TrackFactory()
    payload = {"frame_index": 0, "x": 0, "y": 0, "w": 10, "h": 10, "label_class": project.classes.first().id}
    url = f"/api/videos/{video.id}/boxes/"
    assert (
        api_client.post(url, {**payload, "label_class": foreign_class.id}, format="json").status_code == 400
    )
    assert api_client.post(url, {**payload, "track": foreign_track.id}, format="json").status_code == 400
    assert not Box.objects.filter(frame__video=video).exists()


def test_editing_a_box_bumps_its_version(api_client, video, user):
    box = BoxFactory(frame=_frame(video, 1))
    response = api_client.patch(f"/api/boxes/{box.id}/", {"version": 1, "x": 20, "w": 5}, format="json")

    assert response.status_code == 200
    assert (response.json()["x"], response.json()["w"], response.json()["version"]) == (20.0, 5.0, 2)
    box.refresh_from_db()
    assert (box.x, box.version, box.updated_by, box.review_state) == (20.0, 2, user, "accepted")
    assert _frame(video, 1).touched_at is not None


def test_editing_a_box_with_a_stale_version_returns_409_and_keeps_the_newer_box(
    api_client, annotator_client, video
):
    box = BoxFactory(frame=_frame(video, 0))
    assert (
        annotator_client.patch(f"/api/boxes/{box.id}/", {"version": 1, "x": 30}, format="json").status_code
        == 200
    )

    response = api_client.patch(f"/api/boxes/{box.id}/", {"version": 1, "x": 5}, format="json")

    assert response.status_code == 409
    assert response.json()["current"]["x"] == 30.0
    assert response.json()["current"]["version"] == 2
    box.refresh_from_db()
    assert (box.x, box.version) == (30.0, 2)


def test_a_patch_without_a_version_is_refused(api_client, video):
    box = BoxFactory(frame=_frame(video, 0))
    assert api_client.patch(f"/api/boxes/{box.id}/", {"x": 1}, format="json").status_code == 400


def test_editing_a_model_prediction_marks_it_edited(api_client, video):
    box = BoxFactory(frame=_frame(video, 0), source="model", review_state="pending", score=0.7)
    response = api_client.patch(f"/api/boxes/{box.id}/", {"version": 1, "h": 12}, format="json")
    assert response.json()["review_state"] == "edited"
    assert response.json()["source"] == "model"


def test_relabelling_a_box_and_moving_it_to_a_track(api_client, video, project):
    box = BoxFactory(frame=_frame(video, 0))
    track = TrackFactory(video=video)
    disc = project.classes.get(name="disc")
    response = api_client.patch(
        f"/api/boxes/{box.id}/", {"version": 1, "label_class": disc.id, "track": track.id}, format="json"
    )
    assert (response.json()["label_class"], response.json()["track"]) == (disc.id, track.id)
    response = api_client.patch(f"/api/boxes/{box.id}/", {"version": 2, "track": None}, format="json")
    assert response.json()["track"] is None


def test_an_edit_that_moves_a_box_out_of_the_frame_is_refused(api_client, video):
    box = BoxFactory(frame=_frame(video, 0))
    response = api_client.patch(f"/api/boxes/{box.id}/", {"version": 1, "x": 60}, format="json")
    assert response.status_code == 400
    box.refresh_from_db()
    assert (box.x, box.version) == (4.0, 1)


def test_deleting_a_box_with_its_current_version_removes_it(api_client, video):
    box = BoxFactory(frame=_frame(video, 3))
    assert api_client.delete(f"/api/boxes/{box.id}/?version=1").status_code == 204
    assert not Box.objects.filter(id=box.id).exists()
    assert _frame(video, 3).touched_at is not None


def test_deleting_a_box_with_a_stale_version_returns_409_and_keeps_it(api_client, video):
    box = BoxFactory(frame=_frame(video, 3), version=4)
    response = api_client.delete(f"/api/boxes/{box.id}/?version=3")
    assert response.status_code == 409
    assert response.json()["current"]["version"] == 4
    assert Box.objects.filter(id=box.id).exists()


def test_deleting_a_box_without_a_version_always_deletes(api_client, video):
    box = BoxFactory(frame=_frame(video, 3), version=4)
    assert api_client.delete(f"/api/boxes/{box.id}/").status_code == 204


def test_a_non_member_gets_404_for_boxes(outsider_client, video, project):
    box = BoxFactory(frame=_frame(video, 0))
    payload = {"frame_index": 0, "x": 0, "y": 0, "w": 10, "h": 10, "label_class": project.classes.first().id}
    assert outsider_client.get(f"/api/videos/{video.id}/boxes/").status_code == 404
    assert outsider_client.post(f"/api/videos/{video.id}/boxes/", payload, format="json").status_code == 404
    assert outsider_client.get(f"/api/boxes/{box.id}/").status_code == 404
    assert (
        outsider_client.patch(f"/api/boxes/{box.id}/", {"version": 1, "x": 1}, format="json").status_code
        == 404
    )
    assert outsider_client.delete(f"/api/boxes/{box.id}/?version=1").status_code == 404
    box.refresh_from_db()
    assert (box.x, box.version) == (4.0, 1)
