"""SIGKILL the whole worker (main process and pool) mid-ingest, mid-training and in the middle of a label
import's write, on Redis and on the file-system broker; a restarted worker's sweep takes the job up
again and it finishes within two minutes, with nothing of the killed attempt left behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from annotate.models import Box, BoxSource, Frame, Generation, ImportJob, JobStatus, Track, Video, VideoStatus
from config.celery import app
from fixtures.make_clips import make_clip
from tests.annotate.loop.conftest import TINY_TRAINING, label_from_truth
from tests.annotate.worker import (
    finish,
    last_json,
    manage,
    running_worker,
    spawn_manage,
    start_worker,
    wait_for,
    worker_env,
)
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# A dead job is noticed within STALE + SWEEP seconds; short here so the test does not wait 45 s.
FAST_SWEEP = {
    "ANNOTATE_JOB_HEARTBEAT_SECONDS": "1",
    "ANNOTATE_JOB_STALE_SECONDS": "4",
    "ANNOTATE_JOB_SWEEP_SECONDS": "1",
}
RECOVERY_SECONDS = 120


def _env(tmp_path: Path, broker: str) -> dict[str, str]:
    env = {**worker_env(tmp_path), **FAST_SWEEP, **TINY_TRAINING}
    if broker == "filesystem":
        env["CELERY_BROKER_URL"] = "filesystem://"  # its folders under the child's data dir
    elif not str(settings.CELERY_BROKER_URL).startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    else:
        with app.connection_for_write() as connection:  # no message of an earlier run may claim our ids
            for queue in ("cpu", "gpu"):
                connection.default_channel.queue_purge(queue)
    return env


def _ingested(env: dict[str, str], project, frames_dir: Path) -> int:
    """A clip of frame pictures imported and ingested by the running worker: its id."""
    imported = manage(env, "import_video", str(project.id), str(frames_dir), "--wait", "--timeout", "60")
    assert imported.returncode == 0, imported.stderr
    return int(last_json(imported)["id"])


@pytest.mark.parametrize("broker", ["redis", "filesystem"])
def test_an_ingest_whose_worker_was_killed_is_taken_up_again_and_finishes(tmp_path, import_root, broker):
    env = _env(tmp_path, broker)
    project = ProjectFactory()
    clip = make_clip(
        import_root / "long", frames=900, width=1280, height=720, objects=1, seed=5, images=False
    )

    worker = start_worker(env, tmp_path / "worker-1.log")
    try:
        worker.wait_ready()
        # Watched while the queuing command still runs: it can take longer to exit than a fast ingest.
        queuing = spawn_manage(env, "import_video", str(project.id), str(clip.video_path))

        def mid_ingest() -> bool:
            row = Video.objects.filter(project=project).first()
            return row is not None and row.status == VideoStatus.INGESTING and row.frames_done > 0

        wait_for(mid_ingest, 90, "the ingest did not start", worker)
    finally:
        worker.kill()
    queued = finish(queuing)
    assert queued.returncode == 0, queued.stderr
    video_id = last_json(queued)["id"]
    assert Video.objects.get(pk=video_id).status == VideoStatus.INGESTING  # stuck, as a dead worker leaves it

    with running_worker(env, tmp_path / "worker-2.log") as restarted:
        started = time.monotonic()
        wait_for(
            lambda: Video.objects.get(pk=video_id).status in (VideoStatus.READY, VideoStatus.FAILED),
            RECOVERY_SECONDS,
            "the ingest is still stuck",
            restarted,
        )
        recovered_in = time.monotonic() - started

    video = Video.objects.get(pk=video_id)
    assert video.status == VideoStatus.READY, video.error
    assert (video.attempts, video.frame_count, video.error) == (2, 900, "")
    stored = sorted((Path(settings.MEDIA_ROOT) / "frames" / str(video_id)).iterdir())
    assert len(stored) == Frame.objects.filter(video=video).count() == 900  # no stray image of attempt 1
    assert recovered_in < RECOVERY_SECONDS


@pytest.mark.parametrize("broker", ["redis", "filesystem"])
def test_a_training_run_whose_worker_was_killed_is_taken_up_again_and_finishes(tmp_path, import_root, broker):
    env = _env(tmp_path, broker)
    project = ProjectFactory(auto_train=False)
    truth = make_clip(import_root / "clip", frames=30, width=160, height=120, objects=2, seed=7, video=False)

    worker = start_worker(env, tmp_path / "worker-1.log")
    try:
        worker.wait_ready()
        video = Video.objects.get(id=_ingested(env, project, truth.frames_dir))
        label_from_truth(video, truth, [0, 7, 14, 21, 28])
        queued = manage(env, "train", str(video.id))
        assert queued.returncode == 0, queued.stderr
        generation_id = last_json(queued)["id"]

        def training() -> bool:
            row = Generation.objects.get(pk=generation_id)
            return row.status == JobStatus.RUNNING and row.attempts == 1 and row.phase == "training"

        wait_for(training, 90, "training did not start", worker)
        time.sleep(1.0)  # into the training loop, with its data set written
    finally:
        worker.kill()
    first_attempt = Path(settings.ANNOTATE_WORK_DIR) / f"video-{video.id}" / "generation-1" / "attempt-1"
    assert Generation.objects.get(pk=generation_id).status == JobStatus.RUNNING

    with running_worker(env, tmp_path / "worker-2.log") as restarted:
        started = time.monotonic()
        wait_for(
            lambda: (
                Generation.objects.get(pk=generation_id).status
                in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
            ),
            RECOVERY_SECONDS,
            "the training run is still stuck",
            restarted,
        )
        recovered_in = time.monotonic() - started

    generation = Generation.objects.get(pk=generation_id)
    assert generation.status == JobStatus.SUCCEEDED, generation.error
    assert generation.attempts == 2
    video.refresh_from_db()
    assert video.active_generation_id == generation.id
    assert video.frames.filter(boxes__source=BoxSource.MODEL).exists()
    assert not first_attempt.exists()  # the killed attempt's scratch went with it
    second = first_attempt.parent / "attempt-2"
    assert sorted(p.name for p in second.iterdir()) == [Path(generation.checkpoint_path).name]
    assert recovered_in < RECOVERY_SECONDS


def _locked(model, pk: int) -> bool:
    """Whether another transaction holds the row locked (the import's write holds its job row)."""
    if connection.vendor != "postgresql":
        return True  # no row locks to look at: "parsed and checked" is as close as it gets
    try:
        with transaction.atomic():
            model.objects.select_for_update(nowait=True).filter(pk=pk).exists()
    except DatabaseError:
        return True
    return False


@pytest.mark.parametrize("broker", ["redis", "filesystem"])
def test_a_label_import_whose_worker_was_killed_mid_write_is_taken_up_again_and_writes_once(
    tmp_path, import_root, broker
):
    env = _env(tmp_path, broker)
    project = ProjectFactory(auto_train=False)
    truth = make_clip(import_root / "clip", frames=30, width=160, height=120, objects=1, seed=3, video=False)
    # 30 frames x 4000 tracks: a write of 120,000 boxes, long enough to be killed in the middle of.
    tracks = 4000
    gt = tmp_path / "gt.txt"
    gt.write_text(
        "".join(
            f"{frame},{track},{track % 100},{track // 100},20,20,-1\n"
            for frame in range(1, 31)
            for track in range(1, tracks + 1)
        )
    )

    worker = start_worker(env, tmp_path / "worker-1.log")
    try:
        worker.wait_ready()
        video_id = _ingested(env, project, truth.frames_dir)
        queued = manage(
            env, "import_labels", str(video_id), str(gt), "--format", "mot", "--class", "square", "--queue"
        )
        assert queued.returncode == 0, queued.stderr
        job_id = last_json(queued)["id"]

        def writing() -> bool:
            row = ImportJob.objects.get(pk=job_id)
            if row.status != JobStatus.RUNNING or row.items_total == 0:
                return False
            return _locked(ImportJob, job_id)

        wait_for(writing, 90, "the import did not start writing", worker)
    finally:
        worker.kill()
    killed = ImportJob.objects.get(pk=job_id)
    assert (killed.status, killed.attempts) == (JobStatus.RUNNING, 1)  # stuck, as a dead worker leaves it
    assert not Box.objects.filter(frame__video_id=video_id).exists()  # the dead write was rolled back

    with running_worker(env, tmp_path / "worker-2.log") as restarted:
        started = time.monotonic()
        wait_for(
            # Ended, and its stored upload removed (the stop below ends the pool process with it).
            lambda: ImportJob.objects.filter(
                pk=job_id, status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED], file=""
            ).exists(),
            RECOVERY_SECONDS,
            "the import is still stuck",
            restarted,
        )
        recovered_in = time.monotonic() - started

    job = ImportJob.objects.get(pk=job_id)
    assert job.status == JobStatus.SUCCEEDED, (job.error, job.problems)
    assert (job.attempts, job.error, job.file) == (2, "", "")
    assert job.result["boxes"] == Box.objects.filter(frame__video_id=video_id).count() == 30 * tracks
    assert Track.objects.filter(video_id=video_id).count() == tracks  # written once, not once per attempt
    uploads = Path(settings.MEDIA_ROOT) / "imports"
    assert not uploads.exists() or not any(uploads.rglob("*.bin"))  # the stored upload went with the job
    assert recovered_in < RECOVERY_SECONDS
