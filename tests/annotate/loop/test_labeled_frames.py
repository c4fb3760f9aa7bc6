"""Which frames count as labeled: the anchors a generation trains on and suggestions skip."""

from __future__ import annotations

import pytest
from django.utils import timezone

from annotate import engine_adapter
from annotate.models import JobStatus, ReviewState
from tests.annotate.loop.helpers import clip, generation, human_box, prediction

pytestmark = pytest.mark.django_db


def test_a_frame_with_a_prediction_still_unreviewed_is_not_labeled_yet(project):
    video = clip(project, frames=4)
    gen = generation(video, 1, JobStatus.SUCCEEDED)
    prediction(video, 1, gen, review_state=ReviewState.ACCEPTED)
    prediction(video, 1, gen)  # left pending on the same frame
    prediction(video, 2, gen, review_state=ReviewState.ACCEPTED)  # the frame's only prediction
    video.frames.filter(index__in=[1, 2]).update(touched_at=timezone.now())
    human_box(video, 3)

    labeled = engine_adapter.labeled_frames(video)

    assert [frame.index for frame in labeled] == [2, 3]
    assert [len(frame.boxes) for frame in labeled] == [1, 1]
