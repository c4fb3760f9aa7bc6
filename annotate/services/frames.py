"""The finished mark of a frame (``Frame.reviewed_at``), kept true to its one definition.

A frame is *finished* when a person decided every box on it (accepted, edited, added or deleted:
no prediction left pending) or marked it done (accept-all, which decides what is left). Every box
write by a person ends in ``frame_settle``, so the mark never disagrees with the boxes; the trainer,
the timeline, the API counts and exports read only the mark (annotate.selectors.frames).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotate.models import Box, CorrectionEvent, Frame, ReviewState


def frame_settle(*, frame_id: int, user: User | None, after_undo: bool = False) -> bool:
    """Set or clear the finished mark after a person's write on the frame; True when it was just set.

    A pending prediction left on the frame clears the mark. ``after_undo``: an undo that leaves the
    frame as nobody touched it (no box, no correction left) clears it too, so a box drawn by mistake
    and undone does not turn the frame into a labeled negative. Runs inside the caller's transaction,
    after its box rows are written (boxes first, then the frame: the lock order of every box write).
    """
    frame = Frame.objects.filter(id=frame_id).values("video_id", "index").first()
    if frame is None:
        return False
    boxes = Box.objects.filter(frame_id=frame_id)
    untouched = (
        after_undo
        and not boxes.exists()
        and not CorrectionEvent.objects.filter(
            video_id=frame["video_id"], frame_index=frame["index"]
        ).exists()
    )
    if untouched or boxes.filter(review_state=ReviewState.PENDING).exists():
        Frame.objects.filter(id=frame_id, reviewed_at__isnull=False).update(
            reviewed_at=None, reviewed_by=None
        )
        return False
    marked = Frame.objects.filter(id=frame_id, reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(), reviewed_by=user
    )
    return bool(marked)


def frames_settle_many(*, frame_ids: set[int], user: User | None) -> int:
    """``frame_settle`` for many frames a person's bulk write (an import of labels, a bulk accept)
    just decided boxes on, in two queries; how many became finished."""
    pending = Box.objects.filter(frame_id=OuterRef("pk"), review_state=ReviewState.PENDING)
    frames = Frame.objects.filter(id__in=frame_ids)
    frames.filter(Exists(pending), reviewed_at__isnull=False).update(reviewed_at=None, reviewed_by=None)
    return (
        frames.exclude(Exists(pending))
        .filter(reviewed_at__isnull=True)
        .update(reviewed_at=timezone.now(), reviewed_by=user)
    )
