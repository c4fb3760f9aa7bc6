"""The human time the labeling page measures travels with every box write into its correction event."""

from __future__ import annotations

import pytest

from annotate.models import CorrectionEvent, JobStatus
from annotate.selectors.analytics import efficiency_for_video
from tests.annotate.loop.helpers import clip, generation, prediction

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(project):
    video = clip(project, frames=8)
    video.active_generation = generation(video, 1, JobStatus.SUCCEEDED)
    video.save()
    return video


def _seconds(video, action: str) -> list[float | None]:
    return list(CorrectionEvent.objects.filter(video=video, action=action).values_list("seconds", flat=True))


def test_drawing_editing_and_deleting_carry_the_seconds_the_client_measured(api_client, video, project):
    edited = prediction(video, 3, video.active_generation)
    deleted = prediction(video, 4, video.active_generation)
    square = project.classes.get(index=0).id

    created = api_client.post(
        f"/api/videos/{video.id}/boxes/",
        {"frame_index": 5, "x": 1, "y": 1, "w": 4, "h": 4, "label_class": square, "seconds": 3.25},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert "seconds" not in created.json()  # an input only, never part of the box
    response = api_client.patch(
        f"/api/boxes/{edited.id}/", {"version": 1, "w": 5, "seconds": 2}, format="json"
    )
    assert response.status_code == 200, response.content
    assert api_client.delete(f"/api/boxes/{deleted.id}/?version=1&seconds=0.75").status_code == 204

    assert (_seconds(video, "add"), _seconds(video, "edit"), _seconds(video, "delete")) == (
        [3.25],
        [2.0],
        [0.75],
    )
    totals = efficiency_for_video(video=video)["totals"]
    assert totals["human_seconds"] == 6.0
    assert totals["seconds_per_box"] == 3.0  # 6 s over the drawn box and the edited prediction


def test_without_seconds_the_event_leaves_the_time_to_the_analytics(api_client, video):
    box = prediction(video, 2, video.active_generation)
    assert api_client.patch(f"/api/boxes/{box.id}/", {"version": 1, "x": 3}, format="json").status_code == 200
    assert _seconds(video, "edit") == [None]


@pytest.mark.parametrize("seconds", [-1, 3601, "soon"])
def test_seconds_out_of_range_are_refused_and_nothing_is_written(api_client, video, project, seconds):
    box = prediction(video, 2, video.active_generation)
    square = project.classes.get(index=0).id
    create = api_client.post(
        f"/api/videos/{video.id}/boxes/",
        {"frame_index": 5, "x": 1, "y": 1, "w": 4, "h": 4, "label_class": square, "seconds": seconds},
        format="json",
    )
    patch = api_client.patch(
        f"/api/boxes/{box.id}/", {"version": 1, "x": 3, "seconds": seconds}, format="json"
    )
    delete = api_client.delete(f"/api/boxes/{box.id}/?seconds={seconds}")
    assert [r.status_code for r in (create, patch, delete)] == [400, 400, 400]
    assert "seconds" in create.json() and "seconds" in patch.json() and "seconds" in delete.json()
    assert not CorrectionEvent.objects.filter(video=video).exists()
    box.refresh_from_db()
    assert (box.version, box.x) == (1, 2.0)
