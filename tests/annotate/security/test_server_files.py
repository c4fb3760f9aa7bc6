"""No server file is reachable through a clip: playlists, file lists and image patterns are refused,
frame folders cannot link out of the import roots, and the API never shows a server path."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotate.models import Frame, Video, VideoStatus
from annotate.services.videos import video_create_from_path, video_create_from_upload, video_ingest
from fixtures.make_clips import ClipTruth, make_clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret(tmp_path: Path) -> ClipTruth:
    """A video outside every import root and outside the media folder."""
    return make_clip(tmp_path / "elsewhere", frames=12, width=64, height=64, objects=1, seed=3)


def _playlist(target: str) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:1.2,\n{target}\n#EXT-X-ENDLIST\n"
    ).encode()


def _ingest_upload(project, name: str, data: bytes) -> Video:
    video = video_create_from_upload(project=project, uploaded_file=SimpleUploadedFile(name, data))
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    return video


def _refused(video: Video) -> None:
    assert video.status == VideoStatus.FAILED, "a clip was made of a file the upload only named"
    assert video.frame_count == 0
    assert not Frame.objects.filter(video=video).exists()


def test_an_uploaded_hls_playlist_naming_a_server_file_is_refused(project, secret):
    video = _ingest_upload(project, "clip.m3u8", _playlist(str(secret.video_path)))

    _refused(video)
    assert "clip.m3u8 could not be opened as a video" in video.error
    assert str(secret.video_path.parent) not in video.error


def test_the_refusal_reads_the_same_whether_the_named_file_exists_or_not(project, secret):
    existing = _ingest_upload(project, "a.m3u8", _playlist(str(secret.video_path)))
    missing = _ingest_upload(project, "a.m3u8", _playlist(str(secret.video_path.parent / "absent.mp4")))

    _refused(existing)
    _refused(missing)
    assert existing.error == missing.error


def test_an_uploaded_concat_list_naming_a_server_file_is_refused(project, secret):
    listing = f"ffconcat version 1.0\nfile '{secret.video_path}'\n".encode()

    video = _ingest_upload(project, "list.ffconcat", listing)

    _refused(video)


def test_a_playlist_imported_from_the_import_root_cannot_reach_outside_it(project, secret, import_root):
    playlist = import_root / "clip.m3u8"
    playlist.write_bytes(_playlist(str(secret.video_path)))

    video = video_create_from_path(project=project, path=playlist)
    video_ingest(video_id=video.id)
    video.refresh_from_db()

    _refused(video)


def test_an_image_pattern_name_is_opened_as_one_file_not_as_a_sequence(project, import_root):
    # FFmpeg's image2 demuxer reads "shot%03d.png" as shot001.png, shot002.png, ... of the folder.
    for index in range(1, 4):
        cv2.imwrite(str(import_root / f"shot{index:03d}.png"), np.full((64, 64, 3), 80, np.uint8))
    pattern = import_root / "shot%03d.png"
    pattern.write_bytes(b"not an image")

    video = video_create_from_path(project=project, path=pattern)
    video_ingest(video_id=video.id)
    video.refresh_from_db()

    _refused(video)


def test_a_single_file_video_still_ingests_after_the_restrictions(project, tmp_path):
    clip = make_clip(tmp_path / "ok", frames=10, width=64, height=64)

    video = _ingest_upload(project, "fine.mp4", clip.video_path.read_bytes())

    assert video.status == VideoStatus.READY, video.error
    assert video.frame_count == 10


def test_a_frame_folder_with_a_symlink_out_of_the_import_root_is_refused(project, import_root, secret):
    folder = import_root / "frames"
    folder.mkdir()
    for index in range(3):
        cv2.imwrite(str(folder / f"{index:06d}.png"), np.full((64, 64, 3), 40, np.uint8))
    outside = next(Path(secret.video_path.parent / "frames").iterdir())
    (folder / "000003.png").symlink_to(outside)

    video = video_create_from_path(project=project, path=folder)
    video_ingest(video_id=video.id)
    video.refresh_from_db()

    _refused(video)
    assert "000003.png in frames/ points outside the folders clips may be imported from" in video.error


def test_a_symlink_inside_the_import_root_is_still_followed(project, import_root):
    folder = import_root / "linked"
    folder.mkdir()
    store = import_root / "store"
    store.mkdir()
    for index in range(3):
        cv2.imwrite(str(store / f"{index}.png"), np.full((64, 64, 3), 90, np.uint8))
        (folder / f"{index}.png").symlink_to(store / f"{index}.png")

    video = video_create_from_path(project=project, path=folder)
    video_ingest(video_id=video.id)
    video.refresh_from_db()

    assert video.status == VideoStatus.READY, video.error


def test_the_api_shows_no_server_path_for_an_imported_clip(api_client, project, import_root):
    clip = make_clip(import_root / "deep" / "er", frames=5, width=64, height=64, objects=1)
    video = video_create_from_path(project=project, path=clip.video_path)

    body = api_client.get(f"/api/videos/{video.id}/").json()
    listed = api_client.get(f"/api/projects/{project.id}/videos/").json()

    assert body["source"] == clip.video_path.name
    assert str(import_root) not in str(body) and str(import_root) not in str(listed)
