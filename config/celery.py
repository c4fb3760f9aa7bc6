"""The Celery application. Configuration lives in Django settings under the ``CELERY_`` prefix."""

from __future__ import annotations

import os

from celery import Celery

# The one place besides manage.py that must choose a settings module before Django is set up.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("annotate")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Finds annotate.tasks, which defines every task and connects the worker's start-up sweeps.
app.autodiscover_tasks()
