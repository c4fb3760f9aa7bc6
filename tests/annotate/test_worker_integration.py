"""End to end through the real parts: a `run_worker` process on the configured broker, the test
database, and `import_video --wait` run as a separate process, the way scripts use it."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from annotate.models import Video, VideoStatus
from fixtures.make_clips import make_clip
from tests.annotate.worker import last_json, manage, running_worker, worker_env
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_ingests_a_clip_imported_from_the_command_line(tmp_path, import_root):
    project = ProjectFactory()
    good = make_clip(import_root / "good", frames=25, width=160, height=96, objects=2, seed=11)
    (import_root / "bad.mp4").write_text("not a video")
    env = worker_env(tmp_path)

    with running_worker(env, tmp_path / "worker.log") as worker:
        imported = manage(
            env, "import_video", str(project.id), str(good.video_path), "--wait", "--timeout", "60"
        )
        assert imported.returncode == 0, f"{imported.stderr}\n--- worker log ---\n{worker.log()}"
        failed = manage(
            env, "import_video", str(project.id), str(import_root / "bad.mp4"), "--wait", "--timeout", "60"
        )

    result = last_json(imported)
    video = Video.objects.get(pk=result["id"])
    assert result == {"id": video.id, "frames": 25, "status": "ready"}
    assert (video.status, video.frame_count, video.width, video.height) == (VideoStatus.READY, 25, 160, 96)
    assert video.frames.count() == 25
    assert default_storage.exists(video.frames.get(index=24).image)

    assert failed.returncode != 0
    assert "could not be opened as a video" in failed.stderr
    assert last_json(failed)["status"] == "failed"
    assert "video_ingest" in worker.log() or "annotate.video_ingest" in worker.log()
