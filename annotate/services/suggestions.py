"""Frames to label next: the engine's suggestions, stored per generation.

Before the first generation there is no model to be unsure, so the engine picks diverse frames
(``micromodels.suggest_initial``); those are stored with ``generation`` null. Afterwards each
generation stores the suggestions its pre-labeling produced. Frames already labeled are never
suggested.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

import micromodels
from annotate import engine_adapter
from annotate.models import Generation, Suggestion, Video
from micromodels.types import FrameSuggestion


@transaction.atomic
def suggestions_replace(
    *, video: Video, generation: Generation | None, suggestions: Sequence[FrameSuggestion]
) -> list[Suggestion]:
    """Store ``suggestions`` (best first) as the set of ``generation`` (None: before any model)."""
    Suggestion.objects.filter(video=video, generation=generation).delete()
    return Suggestion.objects.bulk_create(
        Suggestion(
            video=video,
            generation=generation,
            frame_index=s.frame_index,
            rank=rank,
            reason=s.reason[:200],
            score=float(s.score),
        )
        for rank, s in enumerate(suggestions, start=1)
    )


def suggestion_list(*, video: Video, count: int | None = None) -> list[Suggestion]:
    """What to label next, best first, without frames already labeled.

    The active generation's suggestions when there is one; otherwise the engine's initial diversity
    pick, computed (and stored) on first use.
    """
    labeled = set(engine_adapter.labeled_frames_of(video).values_list("index", flat=True))
    generation_id = video.active_generation_id
    stored = Suggestion.objects.filter(video=video, generation=video.active_generation).order_by("rank")
    if generation_id is None:
        wanted = count or 5
        kept = [s for s in stored if s.frame_index not in labeled]
        if len(kept) < min(wanted, video.frame_count - len(labeled)):
            clip = engine_adapter.clip_for_video(video)
            picks = micromodels.suggest_initial(clip, min(video.frame_count, wanted + len(labeled)))
            suggestions_replace(video=video, generation=None, suggestions=picks)
            stored = Suggestion.objects.filter(video=video, generation=None).order_by("rank")
    kept = [s for s in stored.select_related("generation") if s.frame_index not in labeled]
    return kept[:count] if count is not None else kept
