"""Ingest of good clips: a generated mp4, a folder of images, sampling, uploads, progress, restarts.

The service runs synchronously here (no queue); tests/annotate/test_worker_integration.py runs it in a
real worker.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from annotate import ingest
from annotate.errors import ServiceError
from annotate.models import Frame, Video, VideoStatus
from annotate.services import videos
from annotate.services.videos import video_create_from_path, video_create_from_upload, video_ingest
from fixtures.make_clips import ClipTruth, make_clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(import_root: Path) -> ClipTruth:
    """60 frames, 320x240 at 10 fps, as clip.mp4 and as frames/*.png."""
    return make_clip(import_root / "clip", frames=60, width=320, height=240, objects=2, seed=3)


def _ingested(project, path: Path, **options) -> Video:
    video = video_create_from_path(project=project, path=path, **options)
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    return video


def _stored(frame: Frame) -> np.ndarray:
    with default_storage.open(frame.image, "rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == frame.sha256
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def _video_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    while True:
        ok, image = capture.read()
        if not ok:
            return frames
        frames.append(image)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB: about 31+ for a JPEG q95 copy of these noisy pictures."""
    return float(cv2.PSNR(a, b))


SAME_PICTURE_DB = 28.0


def test_a_generated_mp4_becomes_a_ready_clip_with_one_stored_frame_per_source_frame(project, clip):
    video = _ingested(project, clip.video_path)

    assert video.status == VideoStatus.READY, video.error
    assert (video.frame_count, video.width, video.height, video.fps) == (60, 320, 240, 10.0)
    assert (video.frames_done, video.frames_total) == (60, 60)
    assert video.ingest_started_at and video.ingest_finished_at
    frames = list(video.frames.order_by("index"))
    assert [f.index for f in frames] == list(range(60))
    assert [f.timestamp for f in frames] == pytest.approx([i / 10 for i in range(60)])
    assert frames[7].image == f"frames/{video.id}/000007.jpg"
    source = _video_frames(clip.video_path)
    for index in (0, 29, 59):
        stored = _stored(frames[index])
        assert stored.shape == (240, 320, 3)
        assert _psnr(stored, source[index]) > SAME_PICTURE_DB
    # Not just any frame: the neighbour differs.
    assert _psnr(_stored(frames[10]), source[11]) < SAME_PICTURE_DB


def test_an_image_folder_becomes_frames_in_filename_order_at_the_image_sequence_rate(project, clip):
    video = _ingested(project, clip.frames_dir)

    assert video.status == VideoStatus.READY, video.error
    assert (video.frame_count, video.width, video.height) == (60, 320, 240)
    assert video.fps == ingest.IMAGE_SEQUENCE_FPS
    frames = list(video.frames.order_by("index"))
    assert frames[25].timestamp == pytest.approx(1.0)
    for index in (0, 41):
        png = cv2.imread(str(clip.frames_dir / f"{index:06d}.png"))
        assert _psnr(_stored(frames[index]), png) > SAME_PICTURE_DB


def test_image_names_sort_by_their_numbers_so_frame2_comes_before_frame10(project, import_root):
    folder = import_root / "numbered"
    folder.mkdir()
    for number in (1, 2, 10):
        cv2.imwrite(str(folder / f"frame{number}.png"), np.full((64, 64, 3), number * 20, np.uint8))
    (folder / ".DS_Store").write_bytes(b"finder junk is ignored")

    video = _ingested(project, folder)

    assert video.status == VideoStatus.READY, video.error
    levels = [int(_stored(frame).mean().round()) for frame in video.frames.order_by("index")]
    assert levels == [20, 40, 200]


def test_sampling_at_5_fps_keeps_every_second_frame_of_a_10_fps_clip(project, clip):
    video = _ingested(project, clip.video_path, sample_fps=5)

    assert video.status == VideoStatus.READY, video.error
    assert (video.frame_count, video.fps) == (30, 5.0)
    frames = list(video.frames.order_by("index"))
    assert [f.timestamp for f in frames] == pytest.approx([i * 0.2 for i in range(30)])
    source = _video_frames(clip.video_path)
    assert _psnr(_stored(frames[3]), source[6]) > SAME_PICTURE_DB


def test_sampling_above_the_source_rate_keeps_every_frame_once():
    frames = (ingest.DecodedFrame(i, i / 10, np.zeros((1, 1, 3), np.uint8)) for i in range(20))
    kept = list(ingest.sample(frames, source_fps=10, fps=30))
    assert [f.source_index for f in kept] == list(range(20))


def test_sampling_at_a_rate_that_does_not_divide_the_source_picks_the_nearest_frames():
    frames = (ingest.DecodedFrame(i, i / 25, np.zeros((1, 1, 3), np.uint8)) for i in range(50))
    kept = list(ingest.sample(frames, source_fps=25, fps=7))
    # Output ticks at k/7 s; source frames every 1/25 s: tick k keeps frame round(k * 25 / 7).
    assert [f.source_index for f in kept] == [round(k * 25 / 7) for k in range(14)]
    estimate = ingest.estimate_output_frames(ingest.SourceInfo(25, 64, 64, 50), ingest.Sampling(fps=7))
    assert estimate == len(kept)


def test_max_width_scales_frames_down_keeping_the_aspect_ratio(project, clip):
    video = _ingested(project, clip.video_path, max_width=100)

    assert video.status == VideoStatus.READY, video.error
    assert (video.width, video.height) == (100, 75)
    assert _stored(video.frames.get(index=10)).shape == (75, 100, 3)


def test_a_max_width_above_the_source_width_does_not_scale_up(project, clip):
    video = _ingested(project, clip.frames_dir, max_width=1000, sample_fps=100)

    assert (video.width, video.height, video.frame_count) == (320, 240, 60)


def test_progress_is_reported_while_frames_are_decoded(project, clip, monkeypatch):
    reports: list[tuple[int, int]] = []
    report = videos._progress

    def recording(attempt, done: int, total: int) -> None:
        report(attempt, done, total)
        row = Video.objects.get(pk=attempt.video_id)
        reports.append((row.frames_done, row.frames_total))

    monkeypatch.setattr(videos, "PROGRESS_INTERVAL_SECONDS", 0.0)
    monkeypatch.setattr(videos, "_progress", recording)

    video = _ingested(project, clip.video_path)

    assert reports[0] == (0, 60)  # the container's estimate, before the first frame
    assert [done for done, _ in reports] == list(range(61))
    assert video.frames_done == video.frames_total == 60


def test_an_upload_is_stored_queued_ingested_and_its_original_deleted(project, clip, user):
    upload = SimpleUploadedFile("my clip (1).mp4", clip.video_path.read_bytes(), content_type="video/mp4")

    video = video_create_from_upload(project=project, uploaded_file=upload, created_by=user)

    assert video.status == VideoStatus.QUEUED
    assert (video.name, video.source, video.created_by) == ("my clip (1).mp4", "my clip (1).mp4", user)
    assert video.source_file.startswith("uploads/") and video.source_file.endswith("/my_clip_1.mp4.upload")
    original = Path(default_storage.path(video.source_file))
    assert original.stat().st_size == clip.video_path.stat().st_size

    video_ingest(video_id=video.id)
    video.refresh_from_db()

    assert video.status == VideoStatus.READY, video.error
    assert video.frame_count == 60
    assert video.source_file == ""
    assert not original.exists() and not original.parent.exists()


def test_creating_a_clip_queues_its_ingest_after_the_transaction_commits(
    project, clip, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        video = video_create_from_path(project=project, path=clip.video_path)

    assert video.status == VideoStatus.QUEUED
    assert len(callbacks) == 1


def test_an_ingest_left_behind_by_a_dead_worker_starts_again_from_scratch(project, clip):
    video = video_create_from_path(project=project, path=clip.video_path)
    Video.objects.filter(pk=video.id).update(status=VideoStatus.INGESTING, frames_done=12)
    leftover = default_storage.save(f"frames/{video.id}/000000.jpg", SimpleUploadedFile("x", b"half"))

    video_ingest(video_id=video.id)
    video.refresh_from_db()

    assert video.status == VideoStatus.READY, video.error
    assert video.frames.count() == 60
    assert video.frames.get(index=0).image == leftover  # rewritten, not renamed beside the old one
    assert len(default_storage.listdir(f"frames/{video.id}")[1]) == 60


@pytest.mark.parametrize("status", [VideoStatus.READY, VideoStatus.FAILED])
def test_a_clip_that_is_not_queued_is_left_alone(project, clip, status):
    video = video_create_from_path(project=project, path=clip.video_path)
    Video.objects.filter(pk=video.id).update(status=status)

    video_ingest(video_id=video.id)

    video.refresh_from_db()
    assert video.status == status
    assert video.frames.count() == 0


def test_ingesting_a_clip_that_no_longer_exists_does_nothing(db):
    video_ingest(video_id=987654)


def test_sampling_options_must_be_positive(project, clip):
    with pytest.raises(ServiceError, match="fps must be a positive"):
        video_create_from_path(project=project, path=clip.video_path, sample_fps=0)
    with pytest.raises(ServiceError, match="width must be at least 1"):
        video_create_from_path(project=project, path=clip.video_path, max_width=0)
    assert not Video.objects.exists()
