"""Deleting a clip while a real worker ingests it cancels the ingest and leaves no file behind,
whichever of the two finishes last."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from annotate.models import Video, VideoStatus
from annotate.services.removal import video_delete
from fixtures.make_clips import make_clip
from tests.annotate.worker import last_json, manage, running_worker, worker_env
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, timeout: float, what: str, log) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout} s\n--- worker log ---\n{log()}")
        time.sleep(0.05)


def test_deleting_a_clip_while_it_ingests_stops_the_ingest_and_removes_its_frames(tmp_path, import_root):
    project = ProjectFactory()
    clip = make_clip(
        import_root / "long", frames=400, width=1280, height=720, objects=1, seed=2, images=False
    )
    env = worker_env(tmp_path)

    with running_worker(env, tmp_path / "worker.log") as worker:
        # Queued by a separate process on the worker's broker (the test process may have another).
        queued = manage(env, "import_video", str(project.id), str(clip.video_path))
        assert queued.returncode == 0, queued.stderr
        video = Video.objects.get(pk=last_json(queued)["id"])
        frames_folder = Path(settings.MEDIA_ROOT) / "frames" / str(video.id)

        def ingesting() -> bool:
            row = Video.objects.get(pk=video.id)
            return row.status == VideoStatus.INGESTING and row.frames_done > 0

        _wait_for(ingesting, 90, "the ingest did not start", worker.log)
        video_delete(video=Video.objects.get(pk=video.id))
        # The attempt ends either way (the old code ran to the end and found its row gone), or it
        # had just finished before the deletion, which then removed everything itself.
        ended = (
            f"video {video.id}: deleted while ingesting",
            f"video {video.id}: superseded",
            f"video {video.id}: ready",
        )
        _wait_for(
            lambda: any(line in worker.log() for line in ended),
            120,
            "the ingest attempt did not end",
            worker.log,
        )

    assert not Video.objects.filter(pk=video.id).exists()
    assert not frames_folder.exists(), f"{len(list(frames_folder.iterdir()))} frame files left on disk"
