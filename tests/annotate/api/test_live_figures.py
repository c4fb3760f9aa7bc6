"""A generation is scored against what people then did on the frames it pre-labeled (issue 16.4)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from annotate.models import Box, Frame, Generation, JobStatus, ReviewState
from annotate.selectors.live_figures import generation_live_figures
from tests.factories import BoxFactory


def test_the_model_alone_is_scored_against_the_boxes_people_kept(api_client, project, video):
    finished = timezone.now() - timedelta(minutes=5)
    generation = Generation.objects.create(
        video=video,
        number=1,
        status=JobStatus.SUCCEEDED,
        finished_at=finished,
        # Frame 1: both found; frame 2: one found, one false box; frame 3: nobody looked yet.
        proposed_boxes={
            "1": [[4, 4, 10, 8, 0], [30, 20, 10, 8, 0]],
            "2": [[4, 4, 10, 8, 0], [50, 30, 6, 6, 0]],
            "3": [[4, 4, 10, 8, 0]],
        },
        detector_boxes={"1": [[4, 4, 10, 8, 0]], "2": [], "3": []},
    )
    frames = {f.index: f for f in Frame.objects.filter(video=video)}
    BoxFactory(frame=frames[1], x=4, y=4, w=10, h=8, review_state=ReviewState.ACCEPTED)
    BoxFactory(frame=frames[1], x=31, y=20, w=10, h=8, review_state=ReviewState.EDITED)
    BoxFactory(frame=frames[2], x=4.5, y=4, w=10, h=8)
    BoxFactory(frame=frames[2], x=20, y=30, w=9, h=9)  # one the model missed, drawn by hand
    BoxFactory(frame=frames[3], x=4, y=4, w=10, h=8, review_state=ReviewState.PENDING, source="model")
    Frame.objects.filter(id__in=[frames[1].id, frames[2].id]).update(reviewed_at=timezone.now())

    figures = generation_live_figures(generation=generation)

    assert figures["frames"] == 2 and figures["final_boxes"] == 4
    assert figures["engine"] == {"matched": 3, "proposed": 4, "recall": 0.75, "precision": 0.75}
    assert figures["detector"] == {"matched": 1, "proposed": 1, "recall": 0.25, "precision": 1.0}

    body = api_client.get(f"/api/videos/{video.id}/efficiency/").json()
    live = next(row for row in body["live_figures"] if row["generation"] == 1)
    assert live["detector"]["recall"] == 0.25


def test_frames_finished_before_the_generation_ran_do_not_count(project, video):
    frames = {f.index: f for f in Frame.objects.filter(video=video)}
    BoxFactory(frame=frames[1])
    Frame.objects.filter(id=frames[1].id).update(reviewed_at=timezone.now() - timedelta(hours=1))
    generation = Generation.objects.create(
        video=video,
        number=1,
        status=JobStatus.SUCCEEDED,
        finished_at=timezone.now() - timedelta(minutes=1),
        proposed_boxes={"1": []},
    )
    figures = generation_live_figures(generation=generation)
    assert figures["frames"] == 0 and figures["engine"]["recall"] is None


def test_a_box_drawn_and_deleted_again_is_not_counted_as_added(api_client, project, video):
    frame = Frame.objects.get(video=video, index=0)
    kept = api_client.post(
        f"/api/videos/{video.id}/boxes/",
        {"frame_index": 0, "label_class": project.classes.first().id, "x": 1, "y": 1, "w": 5, "h": 5},
        format="json",
    )
    gone = api_client.post(
        f"/api/videos/{video.id}/boxes/",
        {"frame_index": 0, "label_class": project.classes.first().id, "x": 20, "y": 1, "w": 5, "h": 5},
        format="json",
    )
    assert kept.status_code == gone.status_code == 201, gone.json()
    assert api_client.delete(f"/api/boxes/{gone.json()['id']}/").status_code == 204
    Frame.objects.filter(id=frame.id).update(reviewed_at=timezone.now())

    body = api_client.get(f"/api/videos/{video.id}/efficiency/").json()
    before_any_model = next(row for row in body["by_generation"] if row["generation"] is None)
    assert before_any_model["added"] == 1 and before_any_model["finalized_boxes"] == 1
    assert body["progress"] == {
        "frames_total": 5,
        "frames_finished": 1,
        "frames_remaining": 4,
        "boxes_final": 1,
        "boxes_pending": 0,
    }
    assert body["throughput"][0]["finalized_boxes"] == 1


def test_a_generation_keeps_its_proposal_and_is_scored_when_the_next_one_replaces_it(project, user):
    from annotate.services.generations import generation_claim
    from annotate.services.prelabels import prelabels_commit
    from micromodels.types import Box as EngineBox
    from micromodels.types import PrelabelResult
    from tests.annotate.loop.helpers import clip, generation

    video = clip(project, frames=4)

    def commit(number: int) -> Generation:
        row = generation(video, number)
        attempt = generation_claim(generation_id=row.id)
        assert attempt is not None
        box = EngineBox(x=4, y=4, w=10, h=8, label=0, score=0.9, track_id=1, source="fused")
        result = PrelabelResult(
            boxes={i: (box,) for i in range(4)},
            suggestions=(),
            seconds=1.0,
            detector_boxes={i: () if i == 1 else (box,) for i in range(4)},
        )
        return prelabels_commit(generation_id=row.id, attempt=attempt, result=result, prelabel_seconds=1)

    first = commit(1)
    assert first.proposed_boxes["1"] == [[4, 4, 10, 8, 0.0]] and first.detector_boxes["1"] == []
    # A person accepts generation 1's box on frame 1 and finishes the frame.
    Box.objects.filter(frame__video=video, frame__index=1).update(review_state=ReviewState.ACCEPTED)
    Frame.objects.filter(video=video, index=1).update(touched_at=timezone.now(), reviewed_at=timezone.now())

    commit(2)

    first.refresh_from_db()
    assert first.live_figures["frames"] == 1
    assert first.live_figures["engine"]["recall"] == 1.0
    assert first.live_figures["detector"] == {"matched": 0, "proposed": 0, "recall": 0.0, "precision": None}
