"""Time left of a background job, read from its row: the rate so far, measured on the server."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def eta_seconds(*, started_at: datetime | None, done: int, total: int) -> float | None:
    """Seconds left at the rate so far; None until the job has started and done one item."""
    if started_at is None or done <= 0 or total <= 0:
        return None
    elapsed = (timezone.now() - started_at).total_seconds()
    return round(max(0.0, elapsed) / done * max(0, total - done), 1)
