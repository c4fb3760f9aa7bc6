"""Corrections through the API become events; the efficiency figures are computed from them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotate.models import CorrectionEvent, Frame, JobStatus, ReviewState
from annotate.selectors.analytics import efficiency_for_project, efficiency_for_video
from tests.annotate.api.conftest import client_for
from tests.annotate.loop.helpers import clip, generation, human_box, prediction
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(project):
    video = clip(project, frames=8)
    active = generation(video, 1, JobStatus.SUCCEEDED)
    video.active_generation = active
    video.save()
    return video


def _events(video):
    return list(CorrectionEvent.objects.filter(video=video).values_list("action", "box_count", "frame_index"))


def test_accepting_a_prediction_keeps_it_unchanged_and_touches_the_frame(api_client, video):
    box = prediction(video, 1, video.active_generation)
    response = api_client.post(f"/api/boxes/{box.id}/accept/", {"version": 1, "seconds": 1.5}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["review_state"], response.json()["version"], response.json()["x"]) == (
        "accepted",
        2,
        2.0,
    )
    assert Frame.objects.get(video=video, index=1).touched_at is not None
    event = CorrectionEvent.objects.get(video=video)
    assert (event.action, event.generation_id, event.seconds, event.box_id) == (
        "accept",
        box.generation_id,
        1.5,
        box.id,
    )
    stale = api_client.post(f"/api/boxes/{box.id}/accept/", {"version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["current"]["version"] == 2
    again = api_client.post(f"/api/boxes/{box.id}/accept/", {"version": 2}, format="json")
    assert again.status_code == 409


def test_accepting_all_predictions_of_a_frame_is_one_action(api_client, video, user):
    for _ in range(3):
        prediction(video, 2, video.active_generation)
    response = api_client.post(f"/api/videos/{video.id}/frames/2/accept-all/", {}, format="json")
    body = response.json()
    assert (body["frame_index"], body["accepted"], len(body["boxes"])) == (2, 3, 3)
    assert body["event"] == CorrectionEvent.objects.get(video=video).id
    assert _events(video) == [("accept", 3, 2)]
    frame = Frame.objects.get(video=video, index=2)
    assert frame.reviewed_by == user and frame.touched_at is not None
    assert set(frame.boxes.values_list("review_state", flat=True)) == {ReviewState.ACCEPTED}


def test_edits_deletes_and_adds_are_recorded_with_the_iou_of_an_edit(api_client, video, project):
    edited = prediction(video, 3, video.active_generation, w=10, h=10)
    deleted = prediction(video, 4, video.active_generation)
    response = api_client.patch(f"/api/boxes/{edited.id}/", {"version": 1, "w": 5}, format="json")
    assert response.status_code == 200 and response.json()["review_state"] == "edited"
    assert api_client.delete(f"/api/boxes/{deleted.id}/").status_code == 204
    created = api_client.post(
        f"/api/videos/{video.id}/boxes/",
        {"frame_index": 5, "x": 1, "y": 1, "w": 4, "h": 4, "label_class": project.classes.get(index=0).id},
        format="json",
    )
    assert created.status_code == 201
    # A person adjusting their own box is not a correction of the model.
    api_client.patch(f"/api/boxes/{created.json()['id']}/", {"version": 1, "w": 6}, format="json")
    assert _events(video) == [("edit", 1, 3), ("delete", 1, 4), ("add", 1, 5)]
    assert CorrectionEvent.objects.get(action="edit").iou == pytest.approx(0.5)
    assert CorrectionEvent.objects.get(action="add").generation_id == video.active_generation_id


def test_efficiency_counts_each_box_by_its_fate_and_caps_idle_gaps(video, user, settings):
    settings.ANNOTATE_EFFICIENCY_GAP_CAP_SECONDS = 60
    other = UserFactory()
    gen = video.active_generation
    start = timezone.now() - timedelta(hours=1)
    drawn = human_box(video, 0)  # a hand-drawn box counts as added while it exists
    rows = [  # (user, action, box_id, box_count, seconds, offset in seconds)
        (user, "add", drawn.id, 1, None, 0),
        (user, "accept", 101, 1, None, 10),  # 10 s after the add
        (user, "edit", 101, 1, None, 15),  # the same box, edited afterwards: counts as edited only
        (user, "accept", None, 4, 3.0, 500),  # accept-all, measured by the client
        (user, "delete", 102, 1, None, 900),  # 400 s idle: capped at 60
        (other, "accept", 103, 1, None, 20),  # another person's first action: no gap yet
    ]
    for person, action, box_id, count, seconds, offset in rows:
        event = CorrectionEvent.objects.create(
            video=video,
            frame_index=1,
            box_id=box_id,
            generation=gen,
            user=person,
            action=action,
            box_count=count,
            seconds=seconds,
            iou=0.5 if action == "edit" else None,
        )
        CorrectionEvent.objects.filter(id=event.id).update(created_at=start + timedelta(seconds=offset))

    figures = efficiency_for_video(video=video)
    totals = figures["totals"]
    # Box 102, deleted after the accept-all of its frame with no action of its own before it, was one
    # of the four that accept-all accepted: 1 + 3 accepted, 1 deleted.
    assert (totals["accepted"], totals["edited"], totals["deleted"], totals["added"]) == (4, 1, 1, 1)
    assert totals["actions"] == 6 and totals["finalized_boxes"] == 6
    assert totals["model_share"] == round(4 / 6, 4)
    assert totals["human_seconds"] == 10 + 5 + 3 + 60
    assert totals["mean_edit_iou"] == 0.5
    assert figures["boxes"]["human"] == 1 and figures["active_generation"] == 1
    annotators = {row["username"]: row for row in figures["by_annotator"]}
    assert annotators[other.username]["accepted"] == 1 and annotators[other.username]["human_seconds"] == 0
    assert [row["generation"] for row in figures["by_generation"]] == [1]
    project_figures = efficiency_for_project(project=video.project)
    assert project_figures["totals"] == totals
    assert project_figures["by_video"][0]["video"] == video.id


def test_events_not_tied_to_one_box_are_counted_by_their_own_action(video, user):
    for action, count in (("accept", 3), ("edit", 1), ("delete", 2)):
        CorrectionEvent.objects.create(
            video=video,
            frame_index=2,
            box_id=None,
            generation=video.active_generation,
            user=user,
            action=action,
            box_count=count,
        )

    totals = efficiency_for_video(video=video)["totals"]

    assert (totals["accepted"], totals["edited"], totals["deleted"]) == (3, 1, 2)


def test_a_box_accepted_with_accept_all_and_edited_later_counts_once_as_edited(video, user):
    gen = video.active_generation
    start = timezone.now() - timedelta(minutes=5)
    rows = [  # (action, box_id, box_count, offset in seconds)
        ("accept", None, 3, 0),  # accept all three predictions of frame 2
        ("edit", 201, 1, 10),  # then one of them is moved
        ("delete", 202, 1, 20),  # and another turns out to be a false positive
    ]
    for action, box_id, count, offset in rows:
        event = CorrectionEvent.objects.create(
            video=video,
            frame_index=2,
            box_id=box_id,
            generation=gen,
            user=user,
            action=action,
            box_count=count,
        )
        CorrectionEvent.objects.filter(id=event.id).update(created_at=start + timedelta(seconds=offset))

    totals = efficiency_for_video(video=video)["totals"]

    assert (totals["accepted"], totals["edited"], totals["deleted"]) == (1, 1, 1)
    assert totals["finalized_boxes"] == 2 and totals["actions"] == 3


def test_the_loop_endpoints_hide_other_projects(video, project, api_client):
    outsider = client_for(UserFactory())
    MembershipFactory(role="manager")
    box = prediction(video, 1, video.active_generation)
    for url in (
        f"/api/videos/{video.id}/generations/",
        f"/api/generations/{video.active_generation_id}/",
        f"/api/videos/{video.id}/suggestions/",
        f"/api/videos/{video.id}/efficiency/",
        f"/api/projects/{project.id}/efficiency/",
    ):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/api/boxes/{box.id}/accept/", {"version": 1}, format="json").status_code == 404
    assert outsider.post(f"/api/generations/{video.active_generation_id}/cancel/").status_code == 404
    listed = api_client.get(f"/api/videos/{video.id}/generations/").json()
    assert [(g["number"], g["status"], g["active"]) for g in listed] == [(1, "succeeded", True)]
    assert api_client.post(f"/api/generations/{video.active_generation_id}/cancel/").status_code == 409


def test_suggestions_before_any_model_are_the_engines_diverse_pick_without_labeled_frames(
    api_client, project
):
    video = clip(project, frames=8)
    human_box(video, 0)
    response = api_client.get(f"/api/videos/{video.id}/suggestions/?count=3")
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 3 and 0 not in {row["frame_index"] for row in rows}
    assert all(row["generation"] is None and row["reason"] for row in rows)
    assert [row["rank"] for row in rows] == sorted(row["rank"] for row in rows)
