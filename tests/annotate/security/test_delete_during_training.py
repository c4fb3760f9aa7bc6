"""A project deleted while its clip trains: the run stops quietly (a line in the log, no traceback),
and nothing of it stays on disk."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from annotate.models import Generation, JobStatus, Project, Video
from annotate.services.removal import project_delete
from fixtures.make_clips import make_clip
from tests.annotate.loop.conftest import TINY_TRAINING, label_from_truth
from tests.annotate.worker import last_json, manage, running_worker, wait_for, worker_env
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_deleting_a_project_while_it_trains_logs_no_traceback(tmp_path, import_root):
    env = {**worker_env(tmp_path), **TINY_TRAINING, "ANNOTATE_TRAIN_TIME_BUDGET": "20"}
    project = ProjectFactory(auto_train=False)
    truth = make_clip(import_root / "clip", frames=30, width=160, height=120, objects=2, seed=7, video=False)

    with running_worker(env, tmp_path / "worker.log") as worker:
        imported = manage(
            env, "import_video", str(project.id), str(truth.frames_dir), "--wait", "--timeout", "60"
        )
        assert imported.returncode == 0, imported.stderr
        video = Video.objects.get(id=last_json(imported)["id"])
        label_from_truth(video, truth, [0, 7, 14, 21, 28])
        queued = manage(env, "train", str(video.id))
        assert queued.returncode == 0, queued.stderr
        generation_id = last_json(queued)["id"]
        wait_for(
            lambda: Generation.objects.filter(
                pk=generation_id, status=JobStatus.RUNNING, epoch__gte=1
            ).exists(),
            90,
            "training did not start",
            worker,
        )

        project_delete(project=Project.objects.get(pk=project.id))
        wait_for(
            lambda: (
                f"generation {generation_id} was deleted while it ran" in worker.log()
                or "Traceback" in worker.log()
            ),
            90,
            "the run did not stop",
            worker,
        )
        time.sleep(1.0)  # let the task's end reach the log (no condition to poll for it)

    assert "Traceback" not in worker.log(), worker.log()[-6000:]
    assert not (Path(settings.ANNOTATE_WORK_DIR) / f"video-{video.id}").exists()
