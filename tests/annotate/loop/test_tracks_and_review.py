"""Objects (tracks) a person follows through the clip, and the review pass's bulk accept."""

from __future__ import annotations

import pytest

from annotate.models import Box, CorrectionEvent, Frame, JobStatus, Track
from tests.annotate.loop.helpers import clip, generation, prediction

pytestmark = pytest.mark.django_db


def draw(api_client, video, index: int, **fields) -> dict:
    body = {
        "frame_index": index,
        "x": 1,
        "y": 1,
        "w": 5,
        "h": 5,
        "label_class": video.project.classes.first().id,
    }
    response = api_client.post(f"/api/videos/{video.id}/boxes/", {**body, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_propagating_a_box_copies_it_forward_on_one_track_and_never_twice(api_client, project):
    video = clip(project, frames=8)
    box = draw(api_client, video, 2)

    response = api_client.post(f"/api/boxes/{box['id']}/propagate/", {"frames": 3}, format="json")
    assert response.status_code == 201, response.content
    copies = response.json()
    [track] = Track.objects.filter(video=video)
    assert [c["frame_index"] for c in copies] == [3, 4, 5]
    assert {c["track"] for c in copies} == {track.id}
    assert Box.objects.get(id=box["id"]).track_id == track.id
    again = api_client.post(f"/api/boxes/{box['id']}/propagate/", {"frames": 4}, format="json").json()
    assert [c["frame_index"] for c in again] == [6]  # 3-5 are boxed on the track already
    assert set(
        Frame.objects.filter(video=video, reviewed_at__isnull=False).values_list("index", flat=True)
    ) == {
        2,
        3,
        4,
        5,
        6,
    }

    listed = api_client.get(f"/api/videos/{video.id}/tracks/").json()
    assert [(t["id"], t["first_frame"], t["last_frame"], t["box_count"]) for t in listed] == [
        (track.id, 2, 6, 5)
    ]


def test_a_pending_prediction_is_decided_before_it_is_propagated(api_client, project):
    video = clip(project, frames=4)
    box = prediction(video, 1, generation(video, 1, JobStatus.SUCCEEDED))
    response = api_client.post(f"/api/boxes/{box.id}/propagate/", {"frames": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Accept or correct this pre-label before propagating it."


def test_merging_and_splitting_tracks(api_client, project):
    video = clip(project, frames=8)
    cls = video.project.classes.first().id
    a = api_client.post(f"/api/videos/{video.id}/tracks/", {"label_class": cls}, format="json").json()
    b = api_client.post(f"/api/videos/{video.id}/tracks/", {"label_class": cls}, format="json").json()
    for index in (0, 1):
        draw(api_client, video, index, track=a["id"])
    for index in (1, 3):
        draw(api_client, video, index, track=b["id"], x=20)

    clash = api_client.post(f"/api/tracks/{b['id']}/merge/", {"into": a["id"]}, format="json")
    assert clash.status_code == 409
    assert "both boxed on frame 1" in clash.json()["detail"]

    Box.objects.filter(track_id=b["id"], frame__index=1).delete()
    merged = api_client.post(f"/api/tracks/{b['id']}/merge/", {"into": a["id"]}, format="json")
    assert merged.status_code == 200, merged.content
    assert (merged.json()["first_frame"], merged.json()["last_frame"], merged.json()["box_count"]) == (
        0,
        3,
        3,
    )
    assert not Track.objects.filter(id=b["id"]).exists()

    split = api_client.post(f"/api/tracks/{a['id']}/split/", {"frame_index": 1}, format="json")
    assert split.status_code == 201, split.content
    assert (split.json()["first_frame"], split.json()["last_frame"]) == (1, 3)
    nothing = api_client.post(f"/api/tracks/{a['id']}/split/", {"frame_index": 5}, format="json")
    assert nothing.status_code == 400 and "nothing to split" in nothing.json()["detail"]


def test_occluded_and_outside_flags_are_stored_on_track_boxes(api_client, project):
    video = clip(project, frames=4)
    box = draw(api_client, video, 0)
    response = api_client.patch(
        f"/api/boxes/{box['id']}/",
        {"version": box["version"], "occluded": True, "outside": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["occluded"], response.json()["outside"]) == (True, True)

    from annotate.exchange.rows import ExportFilter
    from annotate.selectors.exports import iter_boxes

    [row] = list(iter_boxes(project_id=project.id, flt=ExportFilter(video_id=video.id)))
    assert (row.occluded, row.outside) == (True, True)


def test_accepting_prelabels_above_a_score_on_a_frame_range(api_client, project):
    video = clip(project, frames=6)
    gen = generation(video, 1, JobStatus.SUCCEEDED)
    high = [prediction(video, i, gen, score=0.9) for i in (1, 2, 4)]
    low = prediction(video, 2, gen, score=0.3)

    response = api_client.post(
        f"/api/videos/{video.id}/boxes/accept-above/",
        {"min_score": 0.5, "frame_start": 0, "frame_end": 3},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "frames": 2, "finished": 1}
    states = {b.id: b.review_state for b in Box.objects.filter(frame__video=video)}
    assert [states[b.id] for b in high] == ["accepted", "accepted", "pending"]
    assert states[low.id] == "pending"  # below the threshold: frame 2 is not finished
    assert list(CorrectionEvent.objects.filter(video=video).values_list("frame_index", "box_count")) == [
        (1, 1),
        (2, 1),
    ]
    assert list(
        Frame.objects.filter(video=video, reviewed_at__isnull=False).values_list("index", flat=True)
    ) == [1]
