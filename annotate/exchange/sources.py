"""A set of named files to import from: a zip (checked by zipsafe), a folder, or one file."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Protocol

from django.conf import settings

# Label files are read whole; pictures inside an import are never read.
LABEL_SUFFIXES = (".json", ".txt", ".yaml", ".yml", ".ini")


class Source(Protocol):
    def names(self) -> list[str]:
        """Posix paths of the files, relative to the root."""
        ...

    def read(self, name: str) -> bytes: ...


class ZipSource:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            if info.is_dir() or "__MACOSX" in info.filename:
                continue
            name = info.filename.replace("\\", "/")
            while name.startswith("./"):
                name = name[2:]
            self._members[name] = info

    def names(self) -> list[str]:
        return list(self._members)

    def read(self, name: str) -> bytes:
        return self.archive.read(self._members[name])


class DirSource:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._names: list[str] = []
        total = 0
        for path in sorted(self.root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            if len(self._names) >= settings.ANNOTATE_IMPORT_MAX_ENTRIES:
                raise ValueError(f"{root}: more than {settings.ANNOTATE_IMPORT_MAX_ENTRIES} files")
            if path.suffix.lower() in LABEL_SUFFIXES:
                total += path.stat().st_size
            self._names.append(path.relative_to(self.root).as_posix())
        if total > settings.ANNOTATE_IMPORT_MAX_UNCOMPRESSED_BYTES:
            raise ValueError(f"{root}: label files hold more than the limit of bytes")

    def names(self) -> list[str]:
        return self._names

    def read(self, name: str) -> bytes:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"{name!r} is outside the import folder")
        return path.read_bytes()


class FileSource:
    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = path
        self.name = PurePosixPath(name or path.name).name

    def names(self) -> list[str]:
        return [self.name]

    def read(self, name: str) -> bytes:
        if name != self.name:
            raise KeyError(name)
        size = self.path.stat().st_size
        if size > settings.ANNOTATE_IMPORT_MAX_UNCOMPRESSED_BYTES:
            raise ValueError(f"{self.name}: {size} bytes, more than the import limit")
        return self.path.read_bytes()
