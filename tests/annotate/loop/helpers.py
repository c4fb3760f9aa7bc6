"""Rows for the loop's unit tests: a small clip with frames, generations in any state, predictions."""

from __future__ import annotations

from annotate.models import Box, BoxSource, Generation, JobStatus, ReviewState, Video
from annotate.services.frames import frames_settle_many
from micromodels.types import Box as EngineBox
from micromodels.types import FrameSuggestion, PrelabelResult
from tests.factories import VideoFactory, make_frames


def clip(project, frames: int = 8) -> Video:
    video: Video = VideoFactory.create(project=project, width=64, height=48)
    make_frames(video, frames)
    return video


def generation(video: Video, number: int = 1, status: str = JobStatus.QUEUED, **fields) -> Generation:
    return Generation.objects.create(video=video, number=number, status=status, **fields)


def prediction(video: Video, index: int, generation: Generation, **fields) -> Box:
    defaults = {"x": 2.0, "y": 2.0, "w": 10.0, "h": 10.0, "score": 0.9, "review_state": ReviewState.PENDING}
    return Box.objects.create(
        frame=video.frames.get(index=index),
        label_class=video.project.classes.get(index=0),
        source=BoxSource.MODEL,
        generation=generation,
        **{**defaults, **fields},
    )


def human_box(video: Video, index: int) -> Box:
    """A human box as an import writes it: the frame is finished but not marked touched."""
    box = Box.objects.create(
        frame=video.frames.get(index=index),
        label_class=video.project.classes.get(index=0),
        x=5,
        y=5,
        w=8,
        h=8,
    )
    frames_settle_many(frame_ids={box.frame_id}, user=None)
    return box


def engine_result(indices, *, track: int | None = 1) -> PrelabelResult:
    """What the engine returns: one box per frame on one track, and two suggestions."""
    return PrelabelResult(
        boxes={
            i: (EngineBox(x=3, y=4, w=12, h=9, label=0, score=0.8, track_id=track, source="fused"),)
            for i in indices
        },
        suggestions=(
            FrameSuggestion(1, "detector and tracker disagree", 0.7),
            FrameSuggestion(5, "low score", 0.4),
        ),
        seconds=0.1,
    )
