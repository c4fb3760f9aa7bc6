"""Frame file names as other tools rewrite them, reduced to the name the picture had at the start.

Plain Python (no Django): ingest orders image folders with it and imports match label files with it.

* Label Studio prefixes every uploaded file with 8 hex digits: ``7d42caec-frame_0001.jpg``.
* Roboflow renames ``frame_0001.jpg`` to ``frame_0001_jpg.rf.<32 hex digits>.jpg``.
* CVAT and Datumaro keep the name, sometimes without its extension (``frame_0001``).

``canonical_name`` strips those, so all four spellings compare equal; ``natural_key`` orders names the
way people number files (``frame_2`` before ``frame_10``), on the canonical name, so a Label Studio
folder is not ordered by its random prefixes.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})

_LABEL_STUDIO_PREFIX = re.compile(r"^[0-9a-f]{8}-(?=.)")
_ROBOFLOW_SUFFIX = re.compile(r"_(?:jpe?g|png|bmp|tiff?|webp)\.rf\.[0-9a-f]{32}$", re.IGNORECASE)
_TRAILING_NUMBER = re.compile(r"(\d+)$")
_DIGITS = re.compile(r"(\d+)")


def base_name(name: str) -> str:
    """The last path component, whatever the separator (Windows paths, URLs, ``/data/upload/1/x``)."""
    return PurePosixPath(name.replace("\\", "/")).name


def canonical_stem(name: str) -> str:
    """The name without folders, extension, Label Studio prefix or Roboflow suffix, lower-cased."""
    stem = base_name(name)
    suffix = PurePosixPath(stem).suffix
    if suffix.lower() in IMAGE_SUFFIXES or suffix.lower() in (".txt", ".xml", ".json"):
        stem = stem[: -len(suffix)]
    stem = _ROBOFLOW_SUFFIX.sub("", stem)
    stem = _LABEL_STUDIO_PREFIX.sub("", stem)
    return stem.lower()


def trailing_number(name: str) -> int | None:
    """The number a frame name ends with (``frame_0012.jpg`` -> 12), after canonicalising."""
    match = _TRAILING_NUMBER.search(canonical_stem(name))
    return int(match.group(1)) if match else None


def natural_key(name: str) -> tuple[list[object], str]:
    """Sort key: digit runs compared as numbers, on the canonical stem; the full name breaks ties."""
    parts: list[object] = [
        (0, int(part)) if part.isdigit() else (1, part)
        for part in _DIGITS.split(canonical_stem(name))
        if part
    ]
    return parts, name


def slugify(value: str) -> str:
    """Django's ``slugify`` rule (ASCII, lower case, dashes) without Django: the one slug of file and
    folder names in exports and downloads."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", ascii_text.lower())).strip("-_")
