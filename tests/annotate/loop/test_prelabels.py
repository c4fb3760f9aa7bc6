"""Pre-labels never overwrite people: what a generation's commit writes, replaces and leaves alone."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from annotate.models import Box, BoxSource, Frame, JobStatus, ReviewState, Suggestion, Track
from annotate.services.boxes import box_create
from annotate.services.generations import generation_claim
from annotate.services.prelabels import prelabels_commit
from tests.annotate.loop.helpers import clip, engine_result, generation, human_box, prediction


def _claimed(video, number):
    row = generation(video, number)
    return row, generation_claim(generation_id=row.id)


@pytest.mark.django_db
def test_predictions_go_only_to_frames_nobody_labeled_and_the_run_becomes_active(project, user):
    video = clip(project, frames=8)
    old = generation(video, 1, JobStatus.SUCCEEDED)
    video.active_generation = old
    video.save()
    stale = prediction(video, 1, old)  # untouched: replaced
    kept = prediction(video, 2, old)  # on a frame a person touched: stays
    Frame.objects.filter(video=video, index=2).update(touched_at=timezone.now())
    human_box(video, 3)  # imported label, frame not marked touched
    Frame.objects.filter(video=video, index=4).update(reviewed_at=timezone.now())
    accepted = prediction(video, 5, old, review_state=ReviewState.ACCEPTED)

    row, attempt = _claimed(video, 2)
    done = prelabels_commit(
        generation_id=row.id, attempt=attempt, result=engine_result(range(8)), prelabel_seconds=2
    )

    assert done.status == JobStatus.SUCCEEDED and done.prelabel_seconds == 2
    video.refresh_from_db()
    assert video.active_generation_id == row.id
    new = Box.objects.filter(generation=row)
    assert sorted(new.values_list("frame__index", flat=True)) == [0, 1, 6, 7]
    assert {(b.source, b.review_state, b.score) for b in new} == {(BoxSource.MODEL, ReviewState.PENDING, 0.8)}
    track = Track.objects.get(generation=row)
    assert track.source == BoxSource.MODEL and set(new.values_list("track_id", flat=True)) == {track.id}
    assert not Box.objects.filter(id=stale.id).exists()
    assert Box.objects.filter(id__in=[kept.id, accepted.id]).count() == 2
    assert done.metrics["predicted_boxes"] == 4
    assert list(Suggestion.objects.filter(generation=row).values_list("frame_index", "rank")) == [
        (1, 1),
        (5, 2),
    ]


@pytest.mark.django_db
def test_a_frame_touched_between_inference_and_write_gets_no_predictions(project, user):
    video = clip(project, frames=6)
    row, attempt = _claimed(video, 1)
    result = engine_result(range(6))  # inference done: it has boxes for every frame
    box_create(
        video=video,
        frame_index=4,
        x=1,
        y=1,
        w=5,
        h=5,
        label_class_id=project.classes.get(index=0).id,
        user=user,
    )
    prelabels_commit(generation_id=row.id, attempt=attempt, result=result, prelabel_seconds=1)
    assert not Box.objects.filter(generation=row, frame__index=4).exists()
    assert Box.objects.filter(frame__index=4, frame__video=video).get().source == BoxSource.HUMAN


@pytest.mark.django_db(transaction=True)
def test_a_late_prediction_waits_for_the_edit_in_flight_and_is_then_discarded(project, user):
    """Real concurrency: a person's write holds frame 2 while the commit starts; the commit blocks on
    the frame lock, then sees the frame touched and leaves it alone."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole transactions instead")
    video = clip(project, frames=4)
    row, attempt = _claimed(video, 1)
    class_id = project.classes.get(index=0).id
    editing, release = threading.Event(), threading.Event()

    def person() -> None:
        try:
            with transaction.atomic():
                box_create(video=video, frame_index=2, x=1, y=1, w=5, h=5, label_class_id=class_id, user=user)
                editing.set()
                release.wait(10)
        finally:
            connection.close()

    def worker() -> None:
        try:
            prelabels_commit(
                generation_id=row.id, attempt=attempt, result=engine_result(range(4)), prelabel_seconds=1
            )
        finally:
            connection.close()

    editor = threading.Thread(target=person)
    editor.start()
    assert editing.wait(10)
    committer = threading.Thread(target=worker)
    committer.start()
    committer.join(1.0)
    assert committer.is_alive(), "the commit must wait for the frame lock"
    release.set()
    editor.join(10)
    committer.join(20)
    assert not committer.is_alive()
    assert sorted(Box.objects.filter(generation=row).values_list("frame__index", flat=True)) == [0, 1, 3]


@pytest.mark.django_db
def test_predictions_that_follow_a_persons_track_keep_its_id_and_new_ones_get_model_tracks(project, user):
    video = clip(project, frames=6)
    person_track = Track.objects.create(video=video, label_class=project.classes.get(index=0))
    drawn = box_create(
        video=video, frame_index=0, x=3, y=4, w=12, h=9, label_class_id=person_track.label_class_id, user=user
    )
    Box.objects.filter(id=drawn.id).update(track=person_track)
    row, attempt = _claimed(video, 1)
    result = engine_result(range(1, 4), track=person_track.id)
    invented = engine_result(range(4, 6), track=person_track.id + 1000)  # an id the engine made up
    merged = type(result)(boxes={**result.boxes, **invented.boxes}, suggestions=(), seconds=0.1)

    prelabels_commit(generation_id=row.id, attempt=attempt, result=merged, prelabel_seconds=1)

    predicted = Box.objects.filter(frame__video=video, source=BoxSource.MODEL).order_by("frame__index")
    on_person = [b.frame.index for b in predicted if b.track_id == person_track.id]
    assert on_person == [1, 2, 3]
    [model_track] = Track.objects.filter(video=video, source=BoxSource.MODEL)
    assert {b.track_id for b in predicted if b.frame.index >= 4} == {model_track.id}
