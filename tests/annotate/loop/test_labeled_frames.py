"""Which frames are finished: the one definition the trainer, the counts and exports read."""

from __future__ import annotations

import pytest

from annotate import engine_adapter
from annotate.models import Frame, JobStatus
from annotate.selectors.frames import frame_summary
from annotate.selectors.videos import video_list
from annotate.services.boxes import box_create, box_delete, box_update
from annotate.services.corrections import box_accept, frame_accept_all
from annotate.services.undo import box_unaccept, box_undo_create
from tests.annotate.loop.helpers import clip, generation, prediction

pytestmark = pytest.mark.django_db


def finished(video) -> list[int]:
    return list(Frame.objects.filter(video=video, reviewed_at__isnull=False).values_list("index", flat=True))


def test_a_frame_is_finished_once_every_prediction_on_it_is_decided_one_by_one(project, user):
    video = clip(project, frames=4)
    gen = generation(video, 1, JobStatus.SUCCEEDED)
    first, second, third = (prediction(video, 1, gen) for _ in range(3))

    box_accept(box_id=first.id, version=first.version, user=user)
    assert finished(video) == []  # two still pending: half reviewed is not finished
    box_update(box_id=second.id, version=second.version, user=user, x=4.0)
    assert finished(video) == []
    box_delete(box_id=third.id, user=user)

    assert finished(video) == [1]
    assert [f.index for f in engine_adapter.labeled_frames(video)] == [1]
    assert frame_summary(video=video).finished == 1
    assert video_list(project=project).get(id=video.id).count_finished_frames == 1


def test_undoing_an_accept_reopens_the_frame_and_undoing_a_stray_box_leaves_it_untouched(project, user):
    video = clip(project, frames=4)
    gen = generation(video, 1, JobStatus.SUCCEEDED)
    box = prediction(video, 1, gen)
    accepted = box_accept(box_id=box.id, version=box.version, user=user)
    assert finished(video) == [1]
    box_unaccept(box_id=box.id, version=accepted.version, user=user)
    assert finished(video) == []

    drawn = box_create(
        video=video, frame_index=2, x=1, y=1, w=5, h=5, label_class_id=box.label_class_id, user=user
    )
    assert finished(video) == [2]  # a frame with only human boxes has every box decided
    box_undo_create(box_id=drawn.id, version=drawn.version, user=user)
    assert finished(video) == []  # no box, no correction left: not a labeled negative


def test_marking_a_frame_done_accepts_what_is_left_and_an_empty_frame_becomes_a_negative(project, user):
    video = clip(project, frames=4)
    gen = generation(video, 1, JobStatus.SUCCEEDED)
    prediction(video, 1, gen)
    prediction(video, 1, gen)

    frame_accept_all(video=video, frame_index=1, user=user)
    frame_accept_all(video=video, frame_index=3, user=user)

    assert finished(video) == [1, 3]
    labeled = engine_adapter.labeled_frames(video)
    assert [(f.index, len(f.boxes)) for f in labeled] == [(1, 2), (3, 0)]
    summary = frame_summary(video=video)
    assert (summary.finished, summary.prelabeled) == (2, 0)
