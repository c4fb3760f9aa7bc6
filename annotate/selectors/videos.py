"""Clips of a project with their progress and label counts."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import OuterRef, QuerySet, Subquery

from annotate.errors import NotFoundError
from annotate.models import Box, Frame, Membership, Project, ReviewState, Video
from annotate.selectors._counts import count_of
from annotate.selectors.frames import finished_frames_q, frame_pending_q


def _with_counts(qs: QuerySet[Video]) -> QuerySet[Video]:
    # Finished: the one definition the trainer and exports use (selectors/frames.py); the API also
    # calls it labeled_frames.
    return qs.annotate(
        count_frames=count_of(Frame.objects.filter(video=OuterRef("pk")), "video"),
        count_finished_frames=count_of(
            Frame.objects.filter(video=OuterRef("pk")).filter(finished_frames_q()), "video"
        ),
        count_prelabeled_frames=count_of(
            Frame.objects.filter(video=OuterRef("pk")).exclude(finished_frames_q()).filter(frame_pending_q()),
            "video",
        ),
        count_accepted_boxes=count_of(
            Box.objects.filter(
                frame__video=OuterRef("pk"), review_state__in=[ReviewState.ACCEPTED, ReviewState.EDITED]
            ),
            "frame__video",
        ),
        count_boxes=count_of(Box.objects.filter(frame__video=OuterRef("pk")), "frame__video"),
    )


def video_list(*, project: Project) -> QuerySet[Video]:
    """The project's clips in upload order, each with ``count_*`` annotations."""
    return _with_counts(Video.objects.filter(project=project).order_by("id"))


def video_get_for_user(*, user: User, video_id: int) -> Video:
    """The clip with counts and ``role`` (the caller's); NotFoundError for non-members."""
    role = Membership.objects.filter(project=OuterRef("project_id"), user_id=user.pk).values("role")[:1]
    video = (
        _with_counts(Video.objects.filter(id=video_id, project__memberships__user_id=user.pk))
        .annotate(role=Subquery(role))
        .first()
    )
    if video is None:
        raise NotFoundError("No such video.")
    return video


def video_for_user(*, user: User, video_id: int) -> Video:
    """The bare clip row (no aggregates) for a member; NotFoundError otherwise."""
    videos = Video.objects.filter(id=video_id, project__memberships__user_id=user.pk)
    video = videos.select_related("project").first()
    if video is None:
        raise NotFoundError("No such video.")
    return video
