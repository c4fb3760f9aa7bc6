"""Celery tasks: thin wrappers that take ids and call one service. Job state lives on the rows."""

from __future__ import annotations

from django.conf import settings

from annotate.services.videos import video_ingest
from config.celery import app


@app.task(
    name="annotate.video_ingest",
    queue="cpu",
    ignore_result=True,
    time_limit=settings.ANNOTATE_INGEST_TIME_LIMIT,
)
def video_ingest_task(video_id: int) -> None:
    """Decode a queued clip into frames; bad input ends as a failed row, never as an exception."""
    video_ingest(video_id=video_id)


# The annotation loop's tasks live in their own module; importing it here registers them.
# Export jobs (annotate.exchange); importing the module here registers its task with the worker.
from annotate.exchange.tasks import export_run_task  # noqa: E402, F401
from annotate.loop_tasks import generation_run  # noqa: E402, F401
