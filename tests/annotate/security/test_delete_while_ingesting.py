"""Deleting a clip while a real worker ingests it cancels the ingest and leaves no file behind,
whichever of the two finishes last."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from annotate.models import Video, VideoStatus
from annotate.services.removal import video_delete
from fixtures.make_clips import make_clip
from tests.annotate.worker import finish, last_json, running_worker, spawn_manage, wait_for, worker_env
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_deleting_a_clip_while_it_ingests_stops_the_ingest_and_removes_its_frames(tmp_path, import_root):
    project = ProjectFactory()
    clip = make_clip(
        import_root / "long", frames=400, width=1280, height=720, objects=1, seed=2, images=False
    )
    env = worker_env(tmp_path)

    with running_worker(env, tmp_path / "worker.log") as worker:
        # Queued by a separate process on the worker's broker (the test process may have another).
        # Watched while that process still runs: it can take longer to exit than the ingest takes.
        queuing = spawn_manage(env, "import_video", str(project.id), str(clip.video_path))

        def ingesting() -> bool:
            row = Video.objects.filter(project=project).first()
            return row is not None and row.status == VideoStatus.INGESTING and row.frames_done > 0

        wait_for(ingesting, 90, "the ingest did not start", worker)
        video = Video.objects.get(project=project)
        video_id = video.id
        frames_folder = Path(settings.MEDIA_ROOT) / "frames" / str(video_id)
        video_delete(video=video)
        queued = finish(queuing)
        assert queued.returncode == 0, queued.stderr
        assert last_json(queued)["id"] == video_id
        # The attempt ends either way (the old code ran to the end and found its row gone), or it
        # had just finished before the deletion, which then removed everything itself.
        ended = (
            f"video {video_id}: deleted while ingesting",
            f"video {video_id}: superseded",
            f"video {video_id}: ready",
        )
        wait_for(
            lambda: any(line in worker.log() for line in ended),
            120,
            "the ingest attempt did not end",
            worker,
        )

    assert not Video.objects.filter(pk=video_id).exists()
    assert not frames_folder.exists(), f"{len(list(frames_folder.iterdir()))} frame files left on disk"
