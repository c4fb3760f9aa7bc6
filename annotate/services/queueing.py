"""Enqueueing Celery tasks once the transaction that made their row commits, without losing the row.

A task is sent after commit, so an unreachable broker cannot roll the row back, and the exception must
not escape either: the row is committed and would stay ``queued`` with nothing to run it, and the
request would answer 500 for work that was saved. ``on_failure`` records the failure on the row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


def enqueue_on_commit(
    task: Any, object_id: int, *, on_failure: Callable[[str], None], what: str = "the job"
) -> None:
    """Send ``task.delay(object_id)`` after commit; if that fails, call ``on_failure(message)``.

    The message reads "Could not queue <what>: <broker error>; is the broker running?".
    """

    def send() -> None:
        try:
            task.delay(object_id)
        except Exception as exc:  # kombu's OperationalError, a refused connection, a bad broker URL
            error = str(exc) or exc.__class__.__name__
            log.error("could not queue %s for %s: %s", getattr(task, "name", task), object_id, error)
            try:
                on_failure(f"Could not queue {what}: {error}; is the broker running?")
            except Exception:
                log.exception("recording that %s for %s could not be queued failed", what, object_id)

    transaction.on_commit(send)
