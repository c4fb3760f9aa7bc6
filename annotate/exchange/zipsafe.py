"""Zip archives from users, checked before anything is read out of them.

Refused: members whose names climb out (``..``), absolute names (``/x``, ``C:\\x``, ``\\\\host``),
symbolic links (a Unix mode in ``external_attr``), more members than the entry cap, or more declared
uncompressed bytes than the size cap. Members are then read straight from the archive, never
extracted to disk; ``zipfile`` stops at the declared size, so a member that lies about its size
cannot inflate past the cap.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from annotate.exchange.sources import ImportLimits


class UnsafeArchiveError(ValueError):
    """The archive is refused as a whole; ``problems`` names each offending member."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    windows = PureWindowsPath(name)
    if name.startswith(("/", "\\")) or windows.drive or windows.is_absolute():
        return f"{name!r}: absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return f"{name!r}: path climbs out of the archive ('..')"
    if "\x00" in name:
        return f"{name!r}: NUL in name"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"{name!r}: symbolic link"
    # Many writers store permission bits only (no file type): that is a plain file.
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return f"{name!r}: not a regular file"
    return None


def open_checked(path: Path, *, limits: ImportLimits) -> zipfile.ZipFile:
    """Open a zip and check every member; raises UnsafeArchiveError or zipfile.BadZipFile."""
    max_entries = limits.entries
    max_bytes = limits.uncompressed_bytes
    archive = zipfile.ZipFile(path)
    try:
        members = archive.infolist()
        if len(members) > max_entries:
            raise UnsafeArchiveError([f"{len(members)} entries, more than the limit of {max_entries}"])
        problems = [p for p in (_member_problem(info) for info in members) if p]
        total = sum(info.file_size for info in members)
        if total > max_bytes:
            problems.append(f"{total} bytes uncompressed, more than the limit of {max_bytes}")
        if problems:
            raise UnsafeArchiveError(problems)
    except Exception:
        archive.close()
        raise
    return archive
