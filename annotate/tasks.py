"""Celery tasks: thin wrappers that take ids and call one service. Job state lives on the rows.

The only module that defines tasks. It imports the services; services never import it: they send
tasks by name (``annotate.jobs.enqueue_on_commit``): each task's name and queue are its job kind's
(``JobKind.task``, ``JobKind.queue``), the one place they are written.
The worker's autodiscovery imports this module, which also connects the worker's start-up sweeps
and warms the engine in each pool process.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutdown
from django.conf import settings

from annotate.jobs import Sweeper
from annotate.services.exports import EXPORT_JOB, export_job_run
from annotate.services.generations import GENERATION_JOB, generation_execute, generation_sweep_lost
from annotate.services.import_jobs import IMPORT_JOB, import_job_run
from annotate.services.videos import INGEST_JOB, video_ingest
from config.celery import app
from micromodels.clipnet import ClipNet
from micromodels.config import TrainConfig
from micromodels.frames import set_frame_cache_limit
from micromodels.threads import torch_threads

log = logging.getLogger(__name__)


@app.task(
    name=INGEST_JOB.task,
    queue=INGEST_JOB.queue,
    ignore_result=True,
    time_limit=settings.ANNOTATE_INGEST_TIME_LIMIT,
)
def video_ingest_task(video_id: int) -> None:
    """Decode a queued clip into frames; bad input ends as a failed row, never as an exception."""
    video_ingest(video_id=video_id)


@app.task(
    name=GENERATION_JOB.task,
    queue=GENERATION_JOB.queue,
    ignore_result=True,
    time_limit=settings.ANNOTATE_GENERATION_TIME_LIMIT,
)
def generation_run(generation_id: int) -> None:
    """Train, pre-label and activate one generation; every outcome ends on the row, not as an exception."""
    generation_execute(generation_id=generation_id)


@app.task(
    name=EXPORT_JOB.task,
    queue=EXPORT_JOB.queue,
    ignore_result=True,
    time_limit=settings.ANNOTATE_EXPORT_TIME_LIMIT,
)
def export_run_task(job_id: int) -> None:
    """Write a queued export; failures end as a failed row, never as a retried exception."""
    export_job_run(job_id=job_id)


@app.task(
    name=IMPORT_JOB.task,
    queue=IMPORT_JOB.queue,
    ignore_result=True,
    time_limit=settings.ANNOTATE_IMPORT_TIME_LIMIT,
)
def import_run_task(job_id: int) -> None:
    """Run a queued label import; failures end as a failed row with every problem listed."""
    import_job_run(job_id=job_id)


_sweeper: Sweeper | None = None


@worker_ready.connect
def _start_sweeps(**_: Any) -> None:
    """A starting worker fails the runs whose worker died without a word, then sweeps dead jobs on a
    timer (annotate.jobs): re-queued or failed."""
    global _sweeper
    try:
        generation_sweep_lost()
    except Exception:
        log.exception("could not sweep lost generations")
    _sweeper = Sweeper()
    _sweeper.start()


@worker_shutdown.connect
def _stop_sweeps(**_: Any) -> None:
    if _sweeper is not None:
        _sweeper.stop()


@worker_init.connect
def _size_the_frame_cache(**_: Any) -> None:
    """The engine (torch, OpenCV, the detector code) is imported with this module, once, in the
    worker's main process, so the pool's children inherit it and no generation pays the imports;
    here the decoded-frame cache gets its configured size."""
    set_frame_cache_limit(settings.ANNOTATE_FRAME_CACHE_MB * 2**20)


@worker_process_init.connect
def _warm_the_engine(**_: Any) -> None:
    """In each pool child: one tiny ClipNet forward and backward pass, so torch's lazy set-up (thread
    pool, kernels, autograd) happens at start, not inside the first generation's training. Not run
    in the main process: torch's threads do not survive a fork."""
    config = TrainConfig()
    with torch_threads(config.cpu_threads):
        model = ClipNet(1, config.clipnet_width)
        heat, size, offset = model(torch.zeros(1, 3, config.clipnet_crop, config.clipnet_crop))
        (heat.mean() + size.mean() + offset.mean()).backward()
