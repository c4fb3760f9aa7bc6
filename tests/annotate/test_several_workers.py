"""Several workers on one broker (issue 14, item 4): two `gpu`-queue workers and one `cpu`-queue worker.

Two clips' generations are queued at once and train at the same time, one on each `gpu` worker; an
export queued while they train runs on the `cpu` worker; every run is executed exactly once (rows:
one attempt each; logs: one "running" line per run, in exactly one worker, from the right queue).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from annotate.models import Box, BoxSource, ExportJob, Generation, JobStatus, Video, VideoStatus
from annotate.services.exports import export_job_create
from annotate.services.generations import generation_start
from annotate.services.videos import video_create_from_path, video_ingest
from config.celery import app
from fixtures.make_clips import make_clip
from tests.annotate.loop.conftest import TINY_TRAINING, label_from_truth
from tests.annotate.worker import WorkerProcess, running_worker, worker_env
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Long enough that the two runs, queued together, are both training at some moment: each trains for
# its whole budget (the steps cap is above what 8 s allows on a CPU).
SEVERAL = {**TINY_TRAINING, "ANNOTATE_TRAIN_TIME_BUDGET": "8", "ANNOTATE_CLIPNET_MAX_STEPS": "100000"}
RUNNING = re.compile(r"(generation|export) (\d+) attempt (\d+) running in process (\d+)")


def _ready_clip(project, root: Path, seed: int) -> tuple[Video, object]:
    truth = make_clip(
        root / f"clip-{seed}", frames=40, width=160, height=120, objects=2, seed=seed, video=False
    )
    assert truth.frames_dir is not None
    video = video_create_from_path(project=project, path=truth.frames_dir)
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    assert video.status == VideoStatus.READY, video.error
    label_from_truth(video, truth, [0, 13, 26, 39])
    return video, truth


def _runs(worker: WorkerProcess) -> list[tuple[str, int, int]]:
    return [(kind, int(job), int(attempt)) for kind, job, attempt, _pid in RUNNING.findall(worker.log())]


def _wait(predicate, timeout: float, what: str, workers: list[WorkerProcess]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.log_path.name} ---\n{w.log()[-4000:]}" for w in workers)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.2)


def test_two_gpu_workers_train_two_clips_at_once_while_a_cpu_worker_exports(tmp_path, import_root):
    project = ProjectFactory(auto_train=False)
    (first, _), (second, _) = _ready_clip(project, import_root, 7), _ready_clip(project, import_root, 8)
    env = {**worker_env(tmp_path), **SEVERAL}
    with app.connection_for_write() as connection:  # no message of an earlier run may claim our ids
        for queue in ("gpu", "cpu"):
            connection.default_channel.queue_purge(queue)

    gpu = "--queues", "gpu", "--concurrency", "1"
    with (
        running_worker(env, tmp_path / "gpu-a.log", *gpu) as gpu_a,
        running_worker(env, tmp_path / "gpu-b.log", *gpu) as gpu_b,
        running_worker(env, tmp_path / "cpu.log", "--queues", "cpu", "--concurrency", "1") as cpu,
    ):
        workers = [gpu_a, gpu_b, cpu]
        runs = [generation_start(video=video)[0] for video in (first, second)]
        ids = [run.id for run in runs]
        _wait(
            lambda: Generation.objects.filter(id__in=ids, status=JobStatus.RUNNING).count() == 2,
            120,
            "both generations running",
            workers,
        )
        export = export_job_create(project=project, format="coco", options={})
        _wait(
            lambda: (
                not Generation.objects.filter(id__in=ids, status__in=["queued", "running"]).exists()
                and ExportJob.objects.get(id=export.id).status not in ("queued", "running")
            ),
            300,
            "the generations and the export to end",
            workers,
        )
        time.sleep(1.0)  # any late duplicate delivery would show in the logs meanwhile

    gens = list(Generation.objects.filter(id__in=ids).order_by("id"))
    assert [(g.status, g.attempts) for g in gens] == [(JobStatus.SUCCEEDED, 1)] * 2, [g.error for g in gens]
    job = ExportJob.objects.get(id=export.id)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1), job.error
    assert job.box_count == Box.objects.filter(frame__video__project=project, source=BoxSource.HUMAN).count()

    # The two runs overlapped in time: each started before the other ended.
    a, b = gens
    assert a.started_at < b.finished_at and b.started_at < a.finished_at
    # The export ran while they trained.
    assert job.started_at < max(a.finished_at, b.finished_at)

    # Each run once, in one worker, from its own queue: one generation per gpu worker, the export on
    # the cpu worker.
    a_runs, b_runs, cpu_runs = _runs(gpu_a), _runs(gpu_b), _runs(cpu)
    assert sorted(a_runs + b_runs) == [("generation", i, 1) for i in ids]
    assert len(a_runs) == len(b_runs) == 1
    assert cpu_runs == [("export", export.id, 1)]
    for gen in gens:  # the pre-labels were written once: every model box of the run is from one commit
        assert (
            Box.objects.filter(generation=gen, source=BoxSource.MODEL).count()
            == gen.metrics["predicted_boxes"]
        )
    overlap = (min(a.finished_at, b.finished_at) - max(a.started_at, b.started_at)).total_seconds()
    wall = (max(a.finished_at, b.finished_at) - min(a.created_at, b.created_at)).total_seconds()
    print(
        f"\nseveral workers: generation {a.id} ran {(a.finished_at - a.started_at).total_seconds():.1f} s, "
        f"generation {b.id} {(b.finished_at - b.started_at).total_seconds():.1f} s, overlap {overlap:.1f} s, "
        f"both queued to both done {wall:.1f} s; export ran "
        f"{(job.finished_at - job.started_at).total_seconds():.2f} s, "
        f"{(job.started_at - max(a.started_at, b.started_at)).total_seconds():.1f} s after the later run "
        f"started; timings {a.metrics.get('timings')} {b.metrics.get('timings')}"
    )
