"""Label-efficiency selectors: how much of the labeling the micro-models did, and what people spent.

From the ``CorrectionEvent`` log, per clip or project, per generation and per annotator:

* ``accepted``: predictions kept unchanged; ``edited``: predictions corrected; ``deleted``: false
  positives; ``added``: boxes drawn by hand. A box's fate is its strongest action (delete > edit >
  accept), so a prediction accepted and later edited counts once, as edited.
* ``model_share``: accepted / (accepted + edited + added), the share of the boxes people finalised
  that the model produced exactly; ``model_found_share``: (accepted + edited) / the same, the share
  the model found at all (an edited prediction is a model box a person corrected).
* ``added`` counts only hand-drawn boxes that still exist: one drawn and deleted again is no label
  (its time still counts as time spent).
* ``saved_seconds``: what the final boxes would have cost drawn by hand, at this scope's measured
  seconds per hand-drawn box (``seconds_per_drawn_box``), minus the time people spent.
* ``human_seconds``: the client-measured duration of each action when it sent one, otherwise the
  gap since the same person's previous action, capped (``ANNOTATE_EFFICIENCY_GAP_CAP_SECONDS``).
  ``seconds_per_box`` divides it by the finalised boxes.

``boxes`` describes the rows as they are now (including imported labels, which have no events).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from annotate.models import (
    Box,
    BoxSource,
    CorrectionAction,
    CorrectionEvent,
    Frame,
    Generation,
    JobStatus,
    Project,
    ReviewState,
    Video,
)
from annotate.selectors.live_figures import generation_live_figures

_FATE_RANK: dict[str, int] = {
    CorrectionAction.ACCEPT: 0,
    CorrectionAction.EDIT: 1,
    CorrectionAction.DELETE: 2,
}


@dataclass
class _Tally:
    accepted: int = 0
    edited: int = 0
    deleted: int = 0
    added: int = 0
    actions: int = 0
    human_seconds: float = 0.0
    drawn_seconds: float = 0.0  # measured time of hand-drawn boxes that still exist
    drawn_timed: int = 0
    ious: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        finalized = self.accepted + self.edited + self.added
        per_drawn = self.drawn_seconds / self.drawn_timed if self.drawn_timed else None
        return {
            "accepted": self.accepted,
            "edited": self.edited,
            "deleted": self.deleted,
            "added": self.added,
            "actions": self.actions,
            "finalized_boxes": finalized,
            "model_share": round(self.accepted / finalized, 4) if finalized else None,
            "model_found_share": round((self.accepted + self.edited) / finalized, 4) if finalized else None,
            "seconds_per_drawn_box": round(per_drawn, 3) if per_drawn is not None else None,
            "hand_seconds": round(per_drawn * finalized, 3) if per_drawn is not None else None,
            "saved_seconds": round(per_drawn * finalized - self.human_seconds, 3)
            if per_drawn is not None
            else None,
            "human_seconds": round(self.human_seconds, 3),
            "seconds_per_box": round(self.human_seconds / finalized, 3) if finalized else None,
            "mean_edit_iou": round(sum(self.ious) / len(self.ious), 4) if self.ious else None,
        }


@dataclass(frozen=True)
class _Event:
    id: int
    video_id: int
    frame_index: int
    box_id: int | None
    generation_id: int | None
    user_id: int | None
    action: str
    box_count: int
    iou: float | None
    seconds: float | None
    created_at: datetime


def _events(**scope: Any) -> list[_Event]:
    rows = CorrectionEvent.objects.filter(**scope).order_by("created_at", "id")
    return [
        _Event(**row)
        for row in rows.values(
            "id",
            "video_id",
            "frame_index",
            "box_id",
            "generation_id",
            "user_id",
            "action",
            "box_count",
            "iou",
            "seconds",
            "created_at",
        )
    ]


def _event_seconds(events: list[_Event]) -> dict[int, float]:
    """Human time per event: measured when sent, else the capped gap since that person's last action."""
    cap = float(settings.ANNOTATE_EFFICIENCY_GAP_CAP_SECONDS)
    previous: dict[int | None, datetime] = {}
    seconds: dict[int, float] = {}
    for event in events:
        last = previous.get(event.user_id)
        if event.seconds is not None:
            seconds[event.id] = max(0.0, event.seconds)
        elif last is None or event.user_id is None:
            seconds[event.id] = 0.0
        else:
            seconds[event.id] = min(cap, max(0.0, (event.created_at - last).total_seconds()))
        previous[event.user_id] = event.created_at
    return seconds


Grouping = Callable[[_Event], Any]


def _tally(events: list[_Event], group_of: Grouping) -> dict[Any, _Tally]:
    """Tallies keyed by ``group_of(event)``; each box's fate goes to the event that decided it."""
    return _tallies(events, {"only": group_of})["only"]


def _tallies(events: list[_Event], groupings: dict[str, Grouping]) -> dict[str, dict[Any, _Tally]]:
    """For each named grouping, tallies keyed by ``grouping(event)``, in one pass over the events.

    Each box's fate goes to the event that decided it. The event seconds, the fates and which drawn
    boxes still exist are worked out once for all groupings (a project's dashboard asks for five).
    """
    by_name: dict[str, dict[Any, _Tally]] = {name: defaultdict(_Tally) for name in groupings}
    pairs = [(by_name[name], group_of) for name, group_of in groupings.items()]
    seconds = _event_seconds(events)
    fates: dict[int, _Event] = {}
    # "Accept all" events per (video, frame) with how many of their boxes are still only accepted.
    accept_alls: dict[tuple[int, int], list[list[Any]]] = defaultdict(list)
    drawn = [e.box_id for e in events if e.action == CorrectionAction.ADD and e.box_id is not None]
    kept = set(Box.objects.filter(id__in=drawn).values_list("id", flat=True))
    for event in events:
        spent = seconds[event.id]
        targets = [tallies[group_of(event)] for tallies, group_of in pairs]
        for tally in targets:
            tally.actions += 1
            tally.human_seconds += spent
        if event.action == CorrectionAction.EDIT and event.iou is not None:
            for tally in targets:
                tally.ious.append(event.iou)
        if event.action == CorrectionAction.ADD:
            if event.box_id is None or event.box_id in kept:
                for tally in targets:
                    tally.added += event.box_count
                    tally.drawn_seconds += spent
                    tally.drawn_timed += event.box_count
        elif event.box_id is None and event.action == CorrectionAction.ACCEPT:
            # "Accept all on a frame": one action over box_count boxes, counted at the end.
            accept_alls[(event.video_id, event.frame_index)].append([event, event.box_count])
        elif event.box_id is None:
            for tally in targets:
                _count_fate(tally, event.action, event.box_count)
        else:
            known = fates.get(event.box_id)
            covering = accept_alls.get((event.video_id, event.frame_index))
            if known is None and covering and event.action != CorrectionAction.ACCEPT:
                # A prediction first acted on after an "accept all" of its frame was one of the boxes
                # that accept-all accepted (it was pending then): its fate is this later action.
                for entry in reversed(covering):
                    if entry[1] > 0:
                        entry[1] -= 1
                        break
            if known is None or _FATE_RANK[event.action] >= _FATE_RANK[known.action]:
                fates[event.box_id] = event
    decided = [(event, event.box_count) for event in fates.values()]
    decided += [(event, still) for entries in accept_alls.values() for event, still in entries]
    for event, count in decided:
        for tallies, group_of in pairs:
            _count_fate(tallies[group_of(event)], event.action, count)
    return by_name


def _count_fate(tally: _Tally, action: str, box_count: int) -> None:
    if action == CorrectionAction.ACCEPT:
        tally.accepted += box_count
    elif action == CorrectionAction.EDIT:
        tally.edited += box_count
    else:
        tally.deleted += box_count


def _box_counts(boxes: QuerySet[Box]) -> dict[str, Any]:
    """The boxes as they are now, in one scan (``not_pending`` feeds ``_progress``)."""
    counts = boxes.aggregate(
        human=Count("id", filter=Q(source=BoxSource.HUMAN)),
        model_unchanged=Count("id", filter=Q(source=BoxSource.MODEL, review_state=ReviewState.ACCEPTED)),
        model_edited=Count("id", filter=Q(source=BoxSource.MODEL, review_state=ReviewState.EDITED)),
        pending=Count("id", filter=Q(review_state=ReviewState.PENDING)),
        not_pending=Count("id", filter=~Q(review_state=ReviewState.PENDING)),
    )
    final = counts["human"] + counts["model_unchanged"] + counts["model_edited"]
    counts["final"] = final
    counts["model_share_of_final"] = round(counts["model_unchanged"] / final, 4) if final else None
    return counts


def _annotators(tallies: dict[Any, _Tally]) -> list[dict[str, Any]]:
    names = dict(
        get_user_model()
        .objects.filter(pk__in=[k for k in tallies if k is not None])
        .values_list("pk", "username")
    )
    return [
        {"user": user_id, "username": names.get(user_id), **tally.as_dict()}
        for user_id, tally in sorted(tallies.items(), key=lambda item: (item[0] is None, item[0] or 0))
    ]


def _progress(frames: QuerySet[Frame], box_counts: dict[str, Any]) -> dict[str, Any]:
    """Frames people finished (``Frame.reviewed_at``) and what is left; boxes final and pending
    (takes ``not_pending`` out of ``box_counts``, which ``_box_counts`` counted for it)."""
    counts = frames.aggregate(total=Count("id"), finished=Count("id", filter=Q(reviewed_at__isnull=False)))
    return {
        "frames_total": counts["total"],
        "frames_finished": counts["finished"],
        "frames_remaining": counts["total"] - counts["finished"],
        "boxes_final": box_counts.pop("not_pending"),
        "boxes_pending": box_counts["pending"],
    }


def _user_hour(event: _Event) -> tuple[int | None, datetime]:
    return event.user_id, event.created_at.replace(minute=0, second=0, microsecond=0)


def _throughput(tallies: dict[Any, _Tally]) -> list[dict[str, Any]]:
    """Per annotator and hour (tallies keyed by ``_user_hour``): actions and boxes made final (by the
    action that decided each)."""
    names = dict(
        get_user_model()
        .objects.filter(pk__in={user_id for user_id, _ in tallies if user_id is not None})
        .values_list("pk", "username")
    )
    rows = [
        {
            "user": user_id,
            "username": names.get(user_id),
            "hour": hour.isoformat(),
            "actions": tally.actions,
            "finalized_boxes": tally.accepted + tally.edited + tally.added,
            "human_seconds": round(tally.human_seconds, 3),
        }
        for (user_id, hour), tally in tallies.items()
    ]
    return sorted(rows, key=lambda r: (r["hour"], r["user"] or 0))


def _live_rows(generations: QuerySet[Generation]) -> list[dict[str, Any]]:
    return [
        {
            "video": g.video_id,
            "generation": g.number,
            "id": g.id,
            "model": g.model,
            "base_weights": g.base_weights,
            "base_weights_sha256": g.base_weights_sha256,
            **generation_live_figures(generation=g),
        }
        for g in generations.filter(status=JobStatus.SUCCEEDED).order_by("video_id", "number")
    ]


def efficiency_for_video(*, video: Video) -> dict[str, Any]:
    events = _events(video=video)
    generations = {
        g.id: g
        for g in Generation.objects.filter(video=video).only("id", "number", "status", "trained_frames")
    }
    tallies = _tallies(
        events,
        {
            "generation": lambda e: e.generation_id,
            "total": lambda e: None,
            "user": lambda e: e.user_id,
            "user_hour": _user_hour,
        },
    )
    by_generation = tallies["generation"]
    boxes = _box_counts(Box.objects.filter(frame__video=video))
    progress = _progress(Frame.objects.filter(video=video), boxes)
    total = tallies["total"].get(None, _Tally())
    rows = []
    for generation_id, tally in sorted(
        by_generation.items(), key=lambda item: generations[item[0]].number if item[0] in generations else 0
    ):
        generation = generations.get(generation_id) if generation_id is not None else None
        rows.append(
            {
                "generation": generation.number if generation else None,
                "id": generation_id,
                "status": generation.status if generation else None,
                "trained_frames": len(generation.trained_frames) if generation else 0,
                **tally.as_dict(),
            }
        )
    return {
        "video": video.id,
        "active_generation": _active_number(video),
        "totals": total.as_dict(),
        "boxes": boxes,
        "by_generation": rows,
        "by_annotator": _annotators(tallies["user"]),
        "progress": progress,
        "live_figures": _live_rows(Generation.objects.filter(video=video)),
        "throughput": _throughput(tallies["user_hour"]),
    }


def _active_number(video: Video) -> int | None:
    if video.active_generation_id is None:
        return None
    return Generation.objects.filter(id=video.active_generation_id).values_list("number", flat=True).first()


def efficiency_for_project(*, project: Project) -> dict[str, Any]:
    """Project totals, each clip's totals, and figures by generation number across the clips."""
    events = _events(video__project=project)
    numbers = dict(Generation.objects.filter(video__project=project).values_list("id", "number"))
    videos = list(Video.objects.filter(project=project).order_by("id").values_list("id", "name"))
    tallies = _tallies(
        events,
        {
            "video": lambda e: e.video_id,
            "number": lambda e: numbers.get(e.generation_id) if e.generation_id else None,
            "total": lambda e: None,
            "user": lambda e: e.user_id,
            "user_hour": _user_hour,
        },
    )
    per_video, by_number = tallies["video"], tallies["number"]
    boxes = _box_counts(Box.objects.filter(frame__video__project=project))
    progress = _progress(Frame.objects.filter(video__project=project), boxes)
    by_video = [
        {"video": video_id, "name": name, **per_video.get(video_id, _Tally()).as_dict()}
        for video_id, name in videos
    ]
    totals = tallies["total"].get(None, _Tally()).as_dict()
    # Each clip's own seconds per drawn box prices its boxes (scenes differ); the project sums them.
    priced = [row for row in by_video if row["saved_seconds"] is not None]
    totals["hand_seconds"] = round(sum(r["hand_seconds"] for r in priced), 3) if priced else None
    totals["saved_seconds"] = round(sum(r["saved_seconds"] for r in priced), 3) if priced else None
    return {
        "project": project.id,
        "totals": totals,
        "boxes": boxes,
        "by_video": by_video,
        "by_generation": [
            {"generation": number, **tally.as_dict()}
            for number, tally in sorted(by_number.items(), key=lambda item: (item[0] is None, item[0] or 0))
        ],
        "by_annotator": _annotators(tallies["user"]),
        "progress": progress,
        "live_figures": _live_rows(Generation.objects.filter(video__project=project)),
        "throughput": _throughput(tallies["user_hour"]),
    }
