"""Two ingest attempts of one clip (a redelivered message while the first worker still runs).

Each attempt claims the row with its own ``ingest_started_at``; only the attempt holding the row may
write frames, finish or fail it, so a late or losing attempt never wipes a clip another one made ready.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from annotate.ingest import IngestError
from annotate.models import Video, VideoStatus
from annotate.services import videos
from annotate.services.videos import video_create_from_path, video_ingest
from fixtures.make_clips import ClipTruth, make_clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(import_root: Path) -> ClipTruth:
    return make_clip(import_root / "clip", frames=20, width=96, height=64, objects=1, seed=7)


def _frame_files_exist(video: Video) -> bool:
    return all(default_storage.exists(frame.image) for frame in video.frames.all())


def test_a_stale_attempt_failing_after_another_made_the_clip_ready_leaves_its_frames(project, clip):
    video = video_create_from_path(project=project, path=clip.video_path)
    video_ingest(video_id=video.id)  # attempt A
    video.refresh_from_db()
    assert video.status == VideoStatus.READY, video.error
    stale = videos._Attempt(video_id=video.id, token=video.ingest_started_at - timedelta(seconds=1))

    # Attempt B, claimed earlier and fenced out since, ends on the frame unique index.
    concluded = videos._fail(stale, "duplicate key value violates unique constraint")

    video.refresh_from_db()
    assert concluded is False
    assert (video.status, video.error, video.frame_count) == (VideoStatus.READY, "", 20)
    assert video.frames.count() == 20
    assert _frame_files_exist(video)


def test_a_redelivered_attempt_takes_the_clip_over_and_the_first_cannot_finish_it(project, clip, monkeypatch):
    video = video_create_from_path(project=project, path=clip.video_path)
    store_frames = videos._store_frames
    first_tokens = []

    def store_then_redeliver(video, clip, sampling, limits, attempt):
        frames = store_frames(video, clip, sampling, limits, attempt)
        if not first_tokens:
            first_tokens.append(attempt.token)
            video_ingest(video_id=video.id)  # attempt B runs to the end while A is still decoding
        return frames

    monkeypatch.setattr(videos, "_store_frames", store_then_redeliver)

    video_ingest(video_id=video.id)  # attempt A

    video.refresh_from_db()
    assert video.ingest_started_at != first_tokens[0]  # B's claim holds the row
    assert (video.status, video.error) == (VideoStatus.READY, "")
    assert video.frames.count() == 20
    assert _frame_files_exist(video)


def test_an_attempt_that_lost_the_clip_does_not_mark_it_failed_or_delete_its_frames(
    project, clip, monkeypatch
):
    video = video_create_from_path(project=project, path=clip.video_path)
    encode_jpeg = videos.encode_jpeg
    calls = []

    def claimed_meanwhile(image):
        calls.append(1)
        if len(calls) == 5:
            # A newer attempt claims the row (a redelivered message) and has stored a frame.
            Video.objects.filter(pk=video.id).update(ingest_started_at=timezone.now() + timedelta(seconds=1))
            default_storage.save(f"frames/{video.id}/newer.jpg", videos.ContentFile(b"newer"))
            raise IngestError("A frame could not be encoded as JPEG.")
        return encode_jpeg(image)

    monkeypatch.setattr(videos, "encode_jpeg", claimed_meanwhile)

    video_ingest(video_id=video.id)

    video.refresh_from_db()
    assert (video.status, video.error) == (VideoStatus.INGESTING, "")
    assert default_storage.exists(f"frames/{video.id}/newer.jpg")


def test_progress_of_an_attempt_that_lost_the_clip_is_not_recorded(project, clip):
    video = video_create_from_path(project=project, path=clip.video_path)
    Video.objects.filter(pk=video.id).update(status=VideoStatus.INGESTING, ingest_started_at=timezone.now())
    stale = videos._Attempt(video_id=video.id, token=timezone.now() - timedelta(minutes=5))

    with pytest.raises(videos._RowLost):  # and the attempt stops there
        videos._progress(stale, 10, 20)

    video.refresh_from_db()
    assert (video.frames_done, video.frames_total) == (0, 0)
