"""Where an export is written: one zip file or one folder, complete or absent.

Both write under a temporary name beside the target and rename it into place at the end, so a reader
never sees half an export; a failure removes the temporary file or folder. Stored pictures are read
through the ``open_media`` the caller gives (the service passes Django's storage), so no sink reads
the database or Django's storage itself.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

OpenMedia = Callable[[str], IO[bytes]]  # a stored file's media-relative path -> its bytes


class Sink(Protocol):
    def text(self, name: str) -> IO[str]:
        """A text stream for one member; close it before opening the next."""
        ...

    def write_bytes(self, name: str, data: bytes) -> None: ...

    def copy_media(self, name: str, media_path: str) -> None:
        """Copy a stored file (media-relative path) into the export unchanged."""
        ...


def _member(name: str, compress_type: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = compress_type
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


class ZipSink:
    def __init__(self, archive: zipfile.ZipFile, open_media: OpenMedia) -> None:
        self.archive = archive
        self.open_media = open_media

    def text(self, name: str) -> IO[str]:
        raw = self.archive.open(_member(name, zipfile.ZIP_DEFLATED), "w", force_zip64=True)
        return io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=False)

    def write_bytes(self, name: str, data: bytes) -> None:
        self.archive.writestr(_member(name, zipfile.ZIP_DEFLATED), data)

    def copy_media(self, name: str, media_path: str) -> None:
        # Pictures are already compressed: stored as they are.
        info = _member(name, zipfile.ZIP_STORED)
        with (
            self.open_media(media_path) as source,
            self.archive.open(info, "w", force_zip64=True) as out,
        ):
            shutil.copyfileobj(source, out, 1024 * 1024)


class DirSink:
    def __init__(self, root: Path, open_media: OpenMedia) -> None:
        self.root = root
        self.open_media = open_media

    def _path(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def text(self, name: str) -> IO[str]:
        return self._path(name).open("w", encoding="utf-8", newline="\n")

    def write_bytes(self, name: str, data: bytes) -> None:
        self._path(name).write_bytes(data)

    def copy_media(self, name: str, media_path: str) -> None:
        with self.open_media(media_path) as source, self._path(name).open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)


@contextmanager
def zip_sink(target: Path, *, open_media: OpenMedia) -> Iterator[ZipSink]:
    """A zip written to ``.<name>.<random>.part`` beside target, renamed onto target on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            yield ZipSink(archive, open_media)
        temp.chmod(0o644)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


@contextmanager
def dir_sink(target: Path, *, open_media: OpenMedia) -> Iterator[DirSink]:
    """A folder written as ``.<name>.<random>.part`` beside target, renamed onto target on success."""
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        yield DirSink(temp, open_media)
        temp.chmod(0o755)
        temp.rename(target)
    finally:
        if temp.exists():
            shutil.rmtree(temp)


@contextmanager
def text_file(target: Path) -> Iterator[IO[str]]:
    """One text file written under a temporary name and renamed onto target on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        temp.chmod(0o644)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


@contextmanager
def video_file(target: Path) -> Iterator[Path]:
    """A temporary path beside target with target's suffix (a video writer picks its container by
    the name), renamed onto target when the block ends without an error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".part{target.suffix}", dir=target.parent
    )
    os.close(fd)
    temp = Path(temp_name)
    try:
        yield temp
        temp.chmod(0o644)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
