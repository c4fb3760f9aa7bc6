"""The Celery application. Configuration lives in Django settings under the ``CELERY_`` prefix."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

# The one place besides manage.py that must choose a settings module before Django is set up.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("annotate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


_sweeper: Any = None


@worker_ready.connect
def _start_job_sweeper(**_: Any) -> None:
    """Each worker sweeps dead jobs at start and on a timer (annotate.jobs): re-queued or failed."""
    global _sweeper
    from annotate.jobs import Sweeper

    _sweeper = Sweeper()
    _sweeper.start()


@worker_shutdown.connect
def _stop_job_sweeper(**_: Any) -> None:
    if _sweeper is not None:
        _sweeper.stop()
