"""Decode a clip (a video file or a folder of images) into frames, in order, one frame at a time.

Plain Python over OpenCV: no Django here. ``annotate.services.videos`` stores what this yields. Every
problem with the input is an ``IngestError`` whose message is shown to the person who sent the clip.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from annotate.exchange.names import IMAGE_SUFFIXES, base_name, natural_key

# A zip of images: a member this many times larger than its compressed bytes is refused (zip bomb).
MAX_ZIP_RATIO = 200
# A folder of images has no frame rate of its own; like ffmpeg's image2 demuxer, assume 25.
IMAGE_SEQUENCE_FPS = 25.0
# Used when a container reports no usable frame rate.
FALLBACK_FPS = 25.0
# Decoding fewer frames than this share of the announced count means a truncated or corrupt file;
# the slack covers containers whose count is estimated from the duration.
MIN_DECODED_SHARE = 0.9
JPEG_QUALITY = 95

# The demuxers a clip may be opened with: containers that hold their streams in the one file. A
# playlist (hls), concat list, image-pattern (image2), tee or other multi-file demuxer would make FFmpeg
# open further files named inside the upload, anywhere on the server. av_match_list() checks each
# comma-separated alias of the probed demuxer's name against this list.
SINGLE_FILE_DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,asf,ogg,"
    "h264,hevc,m4v,mjpeg,ivf,nut,mxf,yuv4mpegpipe,gif"
)
# OpenCV's FFmpeg backend reads this variable at every open and hands its ``key;value|key;value`` pairs
# to avformat_open_input(): the file protocol only, and only the demuxers above.
_CAPTURE_OPTIONS_VARIABLE = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_CAPTURE_OPTIONS = f"protocol_whitelist;file|format_whitelist;{SINGLE_FILE_DEMUXERS}"


class IngestError(Exception):
    """The clip cannot be ingested; the message says why, in words meant for the uploader."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_frames: int
    max_pixels: int


@dataclass(frozen=True)
class Sampling:
    """Like ``ffmpeg -vf fps=N,scale=W:-1``, but never upsampling in time or size."""

    fps: float | None = None
    max_width: int | None = None


@dataclass(frozen=True)
class SourceInfo:
    fps: float
    width: int
    height: int
    frame_count: int  # what the container announces (an estimate; 0 when unknown)


@dataclass(frozen=True)
class DecodedFrame:
    source_index: int
    timestamp: float  # seconds from the start of the source
    image: np.ndarray  # BGR, uint8
    name: str = ""  # the picture's file name in an image folder or zip; empty for video files


class Source:
    """An opened source. ``frames()`` yields each source frame once, never holding more than one."""

    info: SourceInfo

    def frames(self) -> Iterator[DecodedFrame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the decoder."""


def _check_pixels(width: int, height: int, limits: Limits) -> None:
    if width * height > limits.max_pixels:
        raise IngestError(
            f"Frames are {width}x{height} = {width * height} pixels, over the limit of "
            f"{limits.max_pixels} pixels per frame."
        )


@contextmanager
def _single_file_demuxers() -> Iterator[None]:
    # The variable is process-wide; a worker process opens one clip at a time, and it is restored after.
    previous = os.environ.get(_CAPTURE_OPTIONS_VARIABLE)
    os.environ[_CAPTURE_OPTIONS_VARIABLE] = _CAPTURE_OPTIONS
    try:
        yield
    finally:
        if previous is None:
            del os.environ[_CAPTURE_OPTIONS_VARIABLE]
        else:
            os.environ[_CAPTURE_OPTIONS_VARIABLE] = previous


class VideoFileSource(Source):
    def __init__(self, path: Path, limits: Limits, name: str | None = None) -> None:
        name = name or path.name  # what the uploader called it, not the stored name
        size = path.stat().st_size
        if size == 0:
            raise IngestError(f"{name} is empty (0 bytes).")
        if size > limits.max_bytes:
            raise IngestError(f"{name} is {size} bytes, over the limit of {limits.max_bytes} bytes.")
        with _single_file_demuxers():
            # An absolute path, so no part of the name can be read as a protocol ("concat:", "http:").
            self._capture = cv2.VideoCapture(str(path.absolute()), cv2.CAP_FFMPEG)
        if not self._capture.isOpened():
            # One message whatever the reason: a playlist's or list's targets are never opened, so
            # nothing in the answer tells whether a file it names exists.
            raise IngestError(
                f"{name} could not be opened as a video: it is not a single-file video format the "
                "decoder knows (playlists and file lists are refused), or the file is truncated or corrupt."
            )
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        if not (math.isfinite(fps) and 0 < fps <= 1000):
            fps = FALLBACK_FPS
        width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width <= 0 or height <= 0:
            self.close()
            raise IngestError(f"{name} has no video stream with a picture size.")
        _check_pixels(width, height, limits)
        count = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)
        count = int(count) if math.isfinite(count) and count > 0 else 0
        self.info = SourceInfo(fps=fps, width=width, height=height, frame_count=count)
        self._name = name

    def frames(self) -> Iterator[DecodedFrame]:
        index = 0
        last_timestamp = -1.0
        while True:
            ok, image = self._capture.read()
            if not ok or image is None:
                break
            position = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            # Container timestamps when they make sense (variable frame rate), the nominal rate otherwise.
            timestamp = (
                position if math.isfinite(position) and position > last_timestamp else index / self.info.fps
            )
            last_timestamp = timestamp
            yield DecodedFrame(source_index=index, timestamp=timestamp, image=image)
            index += 1
        announced = self.info.frame_count
        if index == 0:
            raise IngestError(f"No frame of {self._name} could be decoded: the video is empty or corrupt.")
        if announced and index < announced * MIN_DECODED_SHARE:
            raise IngestError(
                f"Only {index} of the {announced} frames {self._name} announces could be decoded: "
                "the video is truncated or corrupt."
            )

    def close(self) -> None:
        self._capture.release()


class ImageSequenceSource(Source):
    """Pictures in natural order of their names (``frame_2`` before ``frame_10``; Label Studio and
    Roboflow renames ordered by the name they started from), each keeping its file name."""

    def __init__(self, names: list[str], where: str, limits: Limits) -> None:
        if not names:
            raise IngestError(f"{where} contains no images ({', '.join(sorted(IMAGE_SUFFIXES))}).")
        if len(names) > limits.max_frames:
            raise IngestError(
                f"{where} holds {len(names)} images, over the limit of {limits.max_frames} frames."
            )
        self._names = sorted(names, key=natural_key)
        seen: dict[str, str] = {}
        for name in self._names:
            other = seen.setdefault(base_name(name), name)
            if other != name:
                raise IngestError(f"{where} holds two pictures named {base_name(name)!r} ({other}, {name}).")
        self._first: np.ndarray | None = self._decode(self._names[0])  # kept: decoded only once
        height, width = self._first.shape[:2]
        _check_pixels(width, height, limits)
        self.info = SourceInfo(fps=IMAGE_SEQUENCE_FPS, width=width, height=height, frame_count=len(names))

    def _bytes(self, name: str) -> bytes:
        raise NotImplementedError

    def _decode(self, name: str) -> np.ndarray:
        data = np.frombuffer(self._bytes(name), np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if image is None:
            raise IngestError(f"{base_name(name)} could not be decoded as an image.")
        return image

    def frames(self) -> Iterator[DecodedFrame]:
        width, height = self.info.width, self.info.height
        for index, name in enumerate(self._names):
            if index == 0 and self._first is not None:
                image, self._first = self._first, None
            else:
                image = self._decode(name)
            if image.shape[1] != width or image.shape[0] != height:
                raise IngestError(
                    f"{base_name(name)} is {image.shape[1]}x{image.shape[0]} but {base_name(self._names[0])} "
                    f"is {width}x{height}: every frame of a clip must have the same size."
                )
            yield DecodedFrame(
                source_index=index, timestamp=index / self.info.fps, image=image, name=base_name(name)
            )


def _is_image(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES and not base_name(name).startswith(".")


class ImageFolderSource(ImageSequenceSource):
    """A folder of pictures. Other files (det.txt, README, seqinfo.ini) are left aside; a folder with
    no picture of its own but one sub-folder of them (a MOT sequence's ``img1/``) means that one."""

    def __init__(self, folder: Path, limits: Limits) -> None:
        self._folder = folder
        self.skipped = 0
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
        images = [p for p in entries if _is_image(p.name) and p.is_file()]
        if not images:
            sub = [
                p
                for p in entries
                if p.is_dir() and not p.is_symlink() and any(_is_image(c.name) for c in p.iterdir())
            ]
            if len(sub) == 1:
                self._folder = sub[0]
                entries = [p for p in sub[0].iterdir() if not p.name.startswith(".")]
                # Links are followed only at the top, where open_source confines them to the roots.
                images = [p for p in entries if _is_image(p.name) and not p.is_symlink() and p.is_file()]
        self.skipped = len(entries) - len(images)
        super().__init__([p.name for p in images], f"The folder {folder.name}/", limits)

    def _bytes(self, name: str) -> bytes:
        return (self._folder / name).read_bytes()


class ZipImageSource(ImageSequenceSource):
    """A zip of pictures, read member by member (never extracted). Unsafe archives are refused: names
    climbing out, links, members inflating past the size limit or MAX_ZIP_RATIO times their size."""

    def __init__(self, path: Path, limits: Limits) -> None:
        try:
            self._archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise IngestError(f"{path.name} is not a readable zip file ({exc}).") from exc
        try:
            self._members = _zip_images(self._archive, path.name, limits)
            self.skipped = sum(1 for i in self._archive.infolist() if not i.is_dir()) - len(self._members)
            super().__init__(list(self._members), path.name, limits)
        except BaseException:
            self._archive.close()
            raise

    def _bytes(self, name: str) -> bytes:
        try:
            return self._archive.read(self._members[name])
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise IngestError(f"{name} in the zip could not be read ({exc}).") from exc

    def close(self) -> None:
        self._archive.close()


def _zip_images(archive: zipfile.ZipFile, where: str, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")
        if info.is_dir() or "__MACOSX" in name or not _is_image(name):
            continue
        if (
            name.startswith("/")
            or ".." in PurePosixPath(name).parts
            or stat.S_ISLNK(info.external_attr >> 16)
        ):
            raise IngestError(f"{where}: member {name!r} is a link or climbs out of the archive.")
        if info.file_size > limits.max_bytes:
            raise IngestError(f"{where}: {name} inflates to {info.file_size} bytes, over the upload limit.")
        if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1) and info.file_size > 1024 * 1024:
            raise IngestError(
                f"{where}: {name} inflates {info.file_size // max(info.compress_size, 1)}x; refused."
            )
        members[name] = info
    return members


def image_source_check(path: Path, *, limits: Limits) -> int:
    """How many frames a folder or zip of images holds, without decoding them; IngestError when it
    cannot be a clip. Run before the clip's row is created, so a refusal leaves nothing behind."""
    clip = open_source(path, limits=limits)
    try:
        return clip.info.frame_count
    finally:
        clip.close()


def check_folder_confined(folder: Path, roots: Sequence[Path]) -> None:
    """Refuse a frame folder with an entry (a symlink) that resolves outside every root."""
    resolved_roots = [Path(root).resolve() for root in roots]
    for entry in folder.iterdir():
        target = entry.resolve()
        if not any(target.is_relative_to(root) for root in resolved_roots):
            raise IngestError(
                f"{entry.name} in {folder.name}/ points outside the folders clips may be imported from; "
                "copy the image into the folder instead of linking to it."
            )


def open_source(path: Path, *, limits: Limits, name: str | None = None, roots: Sequence[Path] = ()) -> Source:
    """Open a video file or a folder of images; raise IngestError when it cannot be a clip.

    ``name`` is how messages call a video file (its stored name is not the uploader's); with
    ``roots``, a folder whose entries resolve outside them is refused.
    """
    if path.is_dir():
        if roots:
            check_folder_confined(path, roots)
        return ImageFolderSource(path, limits)
    if not path.is_file():
        raise IngestError(f"{name or path.name} does not exist or is not a file or folder.")
    if zipfile.is_zipfile(path):
        return ZipImageSource(path, limits)
    return VideoFileSource(path, limits, name)


def output_size(width: int, height: int, max_width: int | None) -> tuple[int, int]:
    """Stored picture size: scaled down to max_width keeping the aspect ratio, never up."""
    if not max_width or width <= max_width:
        return width, height
    return max_width, max(1, round(height * max_width / width))


def estimate_output_frames(info: SourceInfo, sampling: Sampling) -> int:
    if not info.frame_count:
        return 0
    if sampling.fps is None or sampling.fps >= info.fps:
        return info.frame_count
    return max(1, math.ceil(info.frame_count / info.fps * sampling.fps))


def sample(frames: Iterator[DecodedFrame], *, source_fps: float, fps: float | None) -> Iterator[DecodedFrame]:
    """Keep, for each output tick k/fps, the source frame nearest to it; never repeat a frame."""
    if fps is None or fps >= source_fps:
        yield from frames
        return
    half = 0.5 / source_fps
    tick = 0
    for frame in frames:
        if tick / fps < frame.timestamp + half:
            yield frame
            while tick / fps < frame.timestamp + half:
                tick += 1


def resize(image: np.ndarray, max_width: int | None) -> np.ndarray:
    height, width = image.shape[:2]
    new_width, new_height = output_size(width, height, max_width)
    if (new_width, new_height) == (width, height):
        return image
    return cv2.resize(image, (new_width, new_height), interpolation=cv2.INTER_AREA)


def encode_jpeg(image: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise IngestError("A frame could not be encoded as JPEG.")
    return buffer.tobytes()
