"""Celery tasks of the annotation loop: thin wrappers that take ids and call one service.

Imported by ``annotate.tasks`` so the worker's autodiscovery registers them.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready
from django.conf import settings

from annotate.services.generations import generation_execute, generation_sweep_lost
from config.celery import app

logger = logging.getLogger(__name__)


@app.task(
    name="annotate.generation_run",
    queue="gpu",
    ignore_result=True,
    time_limit=settings.ANNOTATE_GENERATION_TIME_LIMIT,
)
def generation_run(generation_id: int) -> None:
    """Train, pre-label and activate one generation; every outcome ends on the row, not as an exception."""
    generation_execute(generation_id=generation_id)


@worker_ready.connect
def _sweep_lost_generations(**_: Any) -> None:
    """A worker starting up fails the runs whose worker died without a word (no heartbeat)."""
    try:
        generation_sweep_lost()
    except Exception:
        logger.exception("could not sweep lost generations")
