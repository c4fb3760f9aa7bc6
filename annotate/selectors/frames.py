"""Frames of a clip: the range listing and the image lookup of the hot path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from annotate.errors import NotFoundError
from annotate.models import Box, BoxSource, Frame, Generation, ReviewState, Video
from annotate.selectors._counts import count_of


def finished_frames_q() -> Q:
    """The one definition of a finished frame (docs/glossary.md): ``Frame.reviewed_at`` is set.

    annotate.services.frames keeps the mark true to the rule (every box decided, or marked done), so
    the timeline, the API counts, the trainer's choice of frames and exports all read this.
    """
    return Q(reviewed_at__isnull=False)


def finished_frames_of(video: Video) -> QuerySet[Frame]:
    return Frame.objects.filter(video=video).filter(finished_frames_q()).order_by("index")


def frame_pending_q() -> Q:
    """Frames with a prediction nobody has decided yet (shown as pre-labeled)."""
    return Q(Exists(Box.objects.filter(frame=OuterRef("pk"), review_state=ReviewState.PENDING)))


@dataclass(frozen=True)
class FrameSummary:
    """Counts of a clip's frames by state, and how far the next automatic generation is."""

    frames: int
    finished: int
    prelabeled: int  # not finished, with pending predictions
    human: int  # with at least one human box
    finished_since_last_generation: int
    auto_train: bool
    auto_train_after_frames: int

    @property
    def frames_until_next_generation(self) -> int:
        return max(0, self.auto_train_after_frames - self.finished_since_last_generation)


def finished_since_last_generation(video: Video) -> int:
    """Frames finished after the clip's latest generation was started (all finished ones before the
    first): what the automatic start counts."""
    frames = finished_frames_of(video)
    started = Generation.objects.filter(video=video).order_by("-number").values_list("created_at", flat=True)
    latest = started.first()
    if latest is not None:
        frames = frames.filter(reviewed_at__gte=latest)
    return frames.count()


def frame_summary(*, video: Video) -> FrameSummary:
    frames = Frame.objects.filter(video=video)
    human = Box.objects.filter(frame=OuterRef("pk"), source=BoxSource.HUMAN)
    project = video.project
    return FrameSummary(
        frames=frames.count(),
        finished=frames.filter(finished_frames_q()).count(),
        prelabeled=frames.exclude(finished_frames_q()).filter(frame_pending_q()).count(),
        human=frames.filter(Exists(human)).count(),
        finished_since_last_generation=finished_since_last_generation(video),
        auto_train=project.auto_train,
        auto_train_after_frames=project.auto_train_after_frames,
    )


class FrameImage(NamedTuple):
    path: str  # media-relative
    sha256: str


def frame_list(*, video: Video, start: int | None = None, end: int | None = None) -> QuerySet[Frame]:
    """Frames with index in [start, end] (both inclusive, both optional), with box counts."""
    qs = Frame.objects.filter(video=video)
    if start is not None:
        qs = qs.filter(index__gte=start)
    if end is not None:
        qs = qs.filter(index__lte=end)
    pending = Box.objects.filter(frame=OuterRef("pk"), review_state=ReviewState.PENDING)
    return qs.order_by("index").annotate(
        human_boxes=count_of(Box.objects.filter(frame=OuterRef("pk"), source=BoxSource.HUMAN), "frame"),
        model_boxes=count_of(Box.objects.filter(frame=OuterRef("pk"), source=BoxSource.MODEL), "frame"),
        pending_boxes=count_of(pending, "frame"),
        lowest_pending_score=Subquery(pending.order_by("score").values("score")[:1]),
    )


def frame_image_for_user(*, user: User, video_id: int, index: int) -> FrameImage:
    """Where frame ``index`` of the clip is stored: one query on (video, index) joined to membership."""
    row = (
        Frame.objects.filter(video_id=video_id, index=index, video__project__memberships__user_id=user.pk)
        .values_list("image", "sha256")
        .first()
    )
    if row is None:
        raise NotFoundError("No such frame.")
    return FrameImage(*row)
