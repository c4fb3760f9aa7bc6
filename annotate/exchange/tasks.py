"""Celery tasks of exports and label imports; imported by annotate.tasks so the worker registers them."""

from __future__ import annotations

from django.conf import settings

from config.celery import app


@app.task(
    name="annotate.export_run",
    queue="cpu",
    ignore_result=True,
    time_limit=settings.ANNOTATE_EXPORT_TIME_LIMIT,
)
def export_run_task(job_id: int) -> None:
    """Write a queued export; failures end as a failed row, never as a retried exception."""
    from annotate.services.exports import export_job_run

    export_job_run(job_id=job_id)


@app.task(
    name="annotate.import_run",
    queue="cpu",
    ignore_result=True,
    time_limit=settings.ANNOTATE_IMPORT_TIME_LIMIT,
)
def import_run_task(job_id: int) -> None:
    """Run a queued label import; failures end as a failed row with every problem listed."""
    from annotate.services.import_jobs import import_job_run

    import_job_run(job_id=job_id)
