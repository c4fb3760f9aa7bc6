"""A set of named files to import from: a zip (checked by zipsafe), a folder, or one file.

Label files are opened as streams with a byte cap (``ImportLimits.label_bytes``): a zip member that
inflates past the cap, or past ``ImportLimits.zip_ratio`` times its compressed size, is refused before
or while it is read, never held whole. Pictures inside an import are never read. The limits are given
by the caller (the import service reads them from the ``ANNOTATE_IMPORT_MAX_*`` settings).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

LABEL_SUFFIXES = (".json", ".txt", ".yaml", ".yml", ".ini", ".xml", ".names", ".data")


@dataclass(frozen=True)
class ImportLimits:
    """How much one import may hold (settings ANNOTATE_IMPORT_MAX_ENTRIES, _UNCOMPRESSED_BYTES,
    _LABEL_BYTES, _ZIP_RATIO)."""

    entries: int  # files in a zip or folder
    uncompressed_bytes: int  # a zip's members together, a folder's label files together
    label_bytes: int  # one label file, as read
    zip_ratio: int  # how many times its compressed size a zipped label file may inflate


class ImportTooLarge(ValueError):
    """A label file is over the import limits; the message says which and by how much."""


class Source(Protocol):
    def names(self) -> list[str]:
        """Posix paths of the files, relative to the root."""
        ...

    def open(self, name: str) -> IO[bytes]:
        """A byte stream of one file, capped at the import size limit."""
        ...

    def read(self, name: str) -> bytes: ...


class _Capped(io.RawIOBase):
    """Reads through to ``raw`` and raises ImportTooLarge once more than ``limit`` bytes came out."""

    def __init__(self, raw: IO[bytes], limit: int, name: str) -> None:
        self.raw, self.limit, self.name, self.count = raw, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise ImportTooLarge(f"{self.name}: more than {self.limit} bytes uncompressed, the import limit")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def _capped(raw: IO[bytes], name: str, limit: int) -> IO[bytes]:
    return io.BufferedReader(_Capped(raw, limit, name), buffer_size=1024 * 1024)


class _Base:
    def read(self, name: str) -> bytes:
        with self.open(name) as stream:  # type: ignore[attr-defined]
            data: bytes = stream.read()
            return data


class ZipSource(_Base):
    def __init__(self, archive: zipfile.ZipFile, *, limits: ImportLimits) -> None:
        self.archive = archive
        self.limits = limits
        self._members: dict[str, zipfile.ZipInfo] = {}
        ratio = limits.zip_ratio
        limit = limits.label_bytes
        for info in archive.infolist():
            if info.is_dir() or "__MACOSX" in info.filename:
                continue
            name = info.filename.replace("\\", "/")
            while name.startswith("./"):
                name = name[2:]
            if PurePosixPath(name).suffix.lower() in LABEL_SUFFIXES:
                if info.file_size > limit:
                    raise ImportTooLarge(
                        f"{name}: {info.file_size} bytes uncompressed, over the limit of {limit}"
                    )
                if info.file_size > 1024 * 1024 and info.file_size > ratio * max(info.compress_size, 1):
                    raise ImportTooLarge(
                        f"{name}: inflates {info.file_size // max(info.compress_size, 1)}x "
                        f"({info.compress_size} to {info.file_size} bytes), over the ratio limit of {ratio}"
                    )
            self._members[name] = info

    def names(self) -> list[str]:
        return list(self._members)

    def open(self, name: str) -> IO[bytes]:
        return _capped(self.archive.open(self._members[name]), name, self.limits.label_bytes)


class DirSource(_Base):
    def __init__(self, root: Path, *, limits: ImportLimits) -> None:
        self.root = root.resolve()
        self.limits = limits
        self._names: list[str] = []
        total = 0
        for path in sorted(self.root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            if len(self._names) >= limits.entries:
                raise ValueError(f"{root}: more than {limits.entries} files")
            if path.suffix.lower() in LABEL_SUFFIXES:
                total += path.stat().st_size
            self._names.append(path.relative_to(self.root).as_posix())
        if total > limits.uncompressed_bytes:
            raise ImportTooLarge(f"{root}: label files hold more than the limit of bytes")

    def names(self) -> list[str]:
        return self._names

    def open(self, name: str) -> IO[bytes]:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"{name!r} is outside the import folder")
        return _capped(path.open("rb"), name, self.limits.label_bytes)


class FileSource(_Base):
    """One file; ``siblings`` are files read with it (a gt.txt's labels.txt beside it)."""

    def __init__(
        self,
        path: Path,
        name: str | None = None,
        siblings: dict[str, Path] | None = None,
        *,
        limits: ImportLimits,
    ) -> None:
        self.path = path
        self.limits = limits
        self.name = PurePosixPath(name or path.name).name
        self.siblings = {k: v for k, v in (siblings or {}).items() if k != self.name}

    def names(self) -> list[str]:
        return [self.name, *self.siblings]

    def open(self, name: str) -> IO[bytes]:
        if name == self.name:
            return _capped(self.path.open("rb"), name, self.limits.label_bytes)
        if name in self.siblings:
            return _capped(self.siblings[name].open("rb"), name, self.limits.label_bytes)
        raise KeyError(name)
