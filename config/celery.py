"""The Celery application. Configuration lives in Django settings under the ``CELERY_`` prefix."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutdown

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


@worker_init.connect
def _load_the_engine(**_: Any) -> None:
    """Import the engine (torch, OpenCV, the detector code) once, in the worker's main process, so the
    pool's children inherit it and no generation pays the imports; size the decoded-frame cache."""
    from django.conf import settings

    import micromodels.engine  # noqa: F401 - the import is the point
    from micromodels.frames import set_frame_cache_limit

    set_frame_cache_limit(settings.ANNOTATE_FRAME_CACHE_MB * 2**20)


@worker_process_init.connect
def _warm_the_engine(**_: Any) -> None:
    """In each pool child: one tiny ClipNet forward and backward pass, so torch's lazy set-up (thread
    pool, kernels, autograd) happens at start, not inside the first generation's training. Not run
    in the main process: torch's threads do not survive a fork."""
    import torch

    from micromodels.clipnet import ClipNet
    from micromodels.config import TrainConfig
    from micromodels.threads import torch_threads

    config = TrainConfig()
    with torch_threads(config.cpu_threads):
        model = ClipNet(1, config.clipnet_width)
        heat, size, offset = model(torch.zeros(1, 3, config.clipnet_crop, config.clipnet_crop))
        (heat.mean() + size.mean() + offset.mean()).backward()
