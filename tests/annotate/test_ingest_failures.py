"""Bad input: every case ends as a failed clip with a clear message, no Frame rows and no stored
frames, or is refused before any row exists (paths outside the import folders, oversized files)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from annotate.errors import ServiceError
from annotate.models import Frame, Video, VideoStatus
from annotate.services.videos import video_create_from_path, video_create_from_upload, video_ingest
from fixtures.make_clips import ClipTruth, make_clip
from tests.conftest import BROKER_REFUSAL

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(import_root: Path) -> ClipTruth:
    return make_clip(import_root / "clip", frames=20, width=96, height=64, objects=1, seed=5)


def _failed(project, path: Path, **options) -> Video:
    video = video_create_from_path(project=project, path=path, **options)
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED
    assert not Frame.objects.filter(video=video).exists()
    assert video.frame_count == 0
    assert _stored_frame_files(video) == []
    return video


def _stored_frame_files(video: Video) -> list[str]:
    try:
        return default_storage.listdir(f"frames/{video.id}")[1]
    except FileNotFoundError:
        return []


def test_a_zero_byte_file_fails_with_a_clear_message_and_leaves_no_frames(project, import_root):
    empty = import_root / "empty.mp4"
    empty.touch()

    video = _failed(project, empty)

    assert video.error == "empty.mp4 is empty (0 bytes)."


def test_a_truncated_video_fails_with_a_clear_message_and_leaves_no_frames(project, clip, import_root):
    data = clip.video_path.read_bytes()
    truncated = import_root / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])

    video = _failed(project, truncated)

    assert "truncated.mp4 could not be opened as a video" in video.error
    assert "truncated or corrupt" in video.error


def test_a_video_that_stops_decoding_partway_fails_and_removes_the_frames_already_stored(
    project, import_root
):
    # An AVI opens without its index: cut at 60 %, its first frames decode and then the data ends.
    path = import_root / "cut.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (96, 64))
    for shade in range(40):
        writer.write(np.full((64, 96, 3), shade * 5, np.uint8))
    writer.release()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])

    video = _failed(project, path)

    assert video.error.startswith("Only ")
    assert (
        "of the 40 frames cut.avi announces could be decoded: the video is truncated or corrupt."
        in video.error
    )


def test_a_text_file_named_mp4_fails_with_a_clear_message_and_leaves_no_frames(project, import_root):
    text = import_root / "notes.mp4"
    text.write_text("these are not the frames you are looking for\n" * 20)

    video = _failed(project, text)

    assert "notes.mp4 could not be opened as a video" in video.error


def test_an_image_folder_with_mixed_sizes_fails_and_removes_the_frames_already_stored(project, clip):
    # Frames 0..14 are stored before frame 15 turns out to be a different size.
    cv2.imwrite(str(clip.frames_dir / "000015.png"), np.zeros((64, 100, 3), np.uint8))

    video = _failed(project, clip.frames_dir)

    assert video.error == (
        "000015.png is 100x64 but 000000.png is 96x64: every frame of a clip must have the same size."
    )


def _refused_before_any_row(project, path: Path, message: str) -> None:
    with pytest.raises(ServiceError) as caught:
        video_create_from_path(project=project, path=path)
    assert str(caught.value) == message
    assert not Video.objects.exists()


def test_an_image_file_that_does_not_decode_fails_with_a_clear_message(project, clip):
    (clip.frames_dir / "000003.png").write_bytes(b"\x89PNG but not really")

    video = _failed(project, clip.frames_dir)

    assert video.error == "000003.png could not be decoded as an image."


def test_an_empty_folder_is_refused_before_any_row_is_created(project, import_root):
    (import_root / "nothing").mkdir()
    (import_root / "nothing" / "README").write_text("not a picture")

    _refused_before_any_row(
        project,
        import_root / "nothing",
        "The folder nothing/ contains no images (.bmp, .jpeg, .jpg, .png, .tif, .tiff, .webp).",
    )


def test_a_video_over_the_frame_limit_fails_before_decoding(project, clip, settings):
    settings.ANNOTATE_MAX_FRAMES = 10

    video = _failed(project, clip.video_path)

    assert video.error == (
        "The clip has about 20 frames, over the limit of 10 frames (sample it at a lower fps)."
    )


def test_sampling_can_bring_a_long_video_under_the_frame_limit(project, clip, settings):
    settings.ANNOTATE_MAX_FRAMES = 10

    video = video_create_from_path(project=project, path=clip.video_path, sample_fps=5)
    video_ingest(video_id=video.id)
    video.refresh_from_db()

    assert (video.status, video.frame_count) == (VideoStatus.READY, 10)


def test_an_image_folder_over_the_frame_limit_is_refused_before_any_row_is_created(project, clip, settings):
    settings.ANNOTATE_MAX_FRAMES = 19

    _refused_before_any_row(
        project, clip.frames_dir, "The folder frames/ holds 20 images, over the limit of 19 frames."
    )


@pytest.mark.parametrize("source", ["video", "images"])
def test_frames_over_the_pixel_limit_fail_with_a_clear_message(project, clip, settings, source):
    settings.ANNOTATE_MAX_PIXELS = 96 * 64 - 1
    message = f"Frames are 96x64 = 6144 pixels, over the limit of {96 * 64 - 1} pixels per frame."
    if source == "images":  # a folder is checked before its row exists
        _refused_before_any_row(project, clip.frames_dir, message)
        return

    video = _failed(project, clip.video_path)

    assert video.error == message


def test_a_video_file_over_the_size_limit_is_refused_before_any_row_is_created(project, clip, settings):
    settings.ANNOTATE_MAX_UPLOAD_BYTES = clip.video_path.stat().st_size - 1

    with pytest.raises(ServiceError, match=r"clip\.mp4 is \d+ bytes, over the limit of"):
        video_create_from_path(project=project, path=clip.video_path)

    assert not Video.objects.exists()


def test_an_upload_over_the_size_limit_is_refused_and_nothing_is_stored(project, settings):
    settings.ANNOTATE_MAX_UPLOAD_BYTES = 100
    upload = SimpleUploadedFile("big.mp4", b"x" * 101)

    with pytest.raises(ServiceError, match=r"big.mp4 is 101 bytes, over the limit of 100 bytes\."):
        video_create_from_upload(project=project, uploaded_file=upload)

    assert not Video.objects.exists()
    assert not default_storage.exists("uploads")


def test_a_file_that_grew_over_the_size_limit_after_it_was_queued_fails(project, clip, settings):
    video = video_create_from_path(project=project, path=clip.video_path)
    settings.ANNOTATE_MAX_UPLOAD_BYTES = 1000

    video_ingest(video_id=video.id)

    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED
    assert "over the limit of 1000 bytes" in video.error


def test_a_failed_upload_ingest_deletes_the_uploaded_original(project):
    upload = SimpleUploadedFile("notes.mp4", b"not a video at all")
    video = video_create_from_upload(project=project, uploaded_file=upload)
    original = Path(default_storage.path(video.source_file))
    assert original.exists()

    video_ingest(video_id=video.id)

    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED
    assert "notes.mp4 could not be opened as a video" in video.error
    assert video.source_file == "" and not original.exists()


def test_a_zero_byte_upload_fails_with_a_clear_message(project):
    video = video_create_from_upload(project=project, uploaded_file=SimpleUploadedFile("empty.mp4", b""))

    video_ingest(video_id=video.id)

    video.refresh_from_db()
    assert (video.status, video.error) == (VideoStatus.FAILED, "empty.mp4 is empty (0 bytes).")


def test_a_crash_inside_the_decoder_becomes_a_failed_clip_not_a_crashed_worker(project, clip, monkeypatch):
    def broken_encoder(image):
        raise MemoryError("decoder ran out of memory")

    monkeypatch.setattr("annotate.services.videos.encode_jpeg", broken_encoder)

    video = _failed(project, clip.video_path)

    assert video.error == "Ingest failed unexpectedly (MemoryError: decoder ran out of memory)."


# -- paths ------------------------------------------------------------------------------------------


def test_a_path_with_parent_steps_is_refused_before_any_row_is_created(project, clip, import_root):
    sneaky = f"{import_root}/clip/../clip/clip.mp4"

    with pytest.raises(ServiceError, match=r"contains '\.\.'"):
        video_create_from_path(project=project, path=sneaky)

    assert not Video.objects.exists()


def test_a_path_outside_the_import_folders_is_refused_before_any_row_is_created(project, tmp_path):
    outside = make_clip(tmp_path / "elsewhere", frames=2, width=64, height=64, images=False).video_path

    with pytest.raises(ServiceError, match="is outside the folders clips may be imported from"):
        video_create_from_path(project=project, path=outside)

    assert not Video.objects.exists()


def test_a_symlink_inside_the_import_folder_that_points_outside_is_refused(project, import_root, tmp_path):
    outside = make_clip(tmp_path / "elsewhere", frames=2, width=64, height=64, images=False).video_path
    link = import_root / "innocent.mp4"
    os.symlink(outside, link)

    with pytest.raises(ServiceError, match="is outside the folders"):
        video_create_from_path(project=project, path=link)

    assert not Video.objects.exists()


def test_a_missing_path_inside_the_import_folder_is_refused(project, import_root):
    with pytest.raises(ServiceError, match="does not exist"):
        video_create_from_path(project=project, path=import_root / "nope.mp4")


def test_a_queued_import_whose_folder_is_no_longer_allowed_fails_at_ingest(project, clip, settings, tmp_path):
    video = video_create_from_path(project=project, path=clip.video_path)
    settings.ANNOTATE_IMPORT_ROOTS = [tmp_path / "somewhere-else"]

    video_ingest(video_id=video.id)

    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED
    assert "is outside the folders clips may be imported from" in video.error


# -- the broker ---------------------------------------------------------------------------------------


def test_an_upload_whose_ingest_cannot_be_queued_fails_and_keeps_no_upload(
    project, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        video = video_create_from_upload(project=project, uploaded_file=SimpleUploadedFile("a.mp4", b"data"))
    original = Path(default_storage.path(video.source_file))

    video.refresh_from_db()
    assert len(callbacks) == 1
    assert video.status == VideoStatus.FAILED
    assert video.error == f"Could not queue the ingest: {BROKER_REFUSAL}; is the broker running?"
    assert video.source_file == "" and not original.exists() and not original.parent.exists()


def test_a_path_import_whose_ingest_cannot_be_queued_fails_with_a_clear_message(
    project, clip, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        video = video_create_from_path(project=project, path=clip.video_path)

    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED
    assert "is the broker running?" in video.error
    assert clip.video_path.exists()  # a server path is read, never removed


def test_an_upload_is_kept_for_its_ingest_when_the_task_is_queued(
    project, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        video = video_create_from_upload(project=project, uploaded_file=SimpleUploadedFile("a.mp4", b"data"))

    video.refresh_from_db()
    assert sent_tasks == [("annotate.video_ingest", [video.id], "cpu")]
    assert video.status == VideoStatus.QUEUED
    assert default_storage.exists(video.source_file)
