"""fetch_weights NAME [--url URL] [--sha256 HEX] [--force] -> {"path": ..., "sha256": ..., "url": ...}

Downloads a named Ultralytics base model (e.g. ``yolo11n``) from its GitHub release into the first
weights folder (ANNOTATE_WEIGHTS_ROOTS), only when asked: nothing else in the platform downloads.
The file's sha256 is pinned beside it (``<name>.pt.sha256``); a later run, and every generation
that starts from it, is checked against that pin. ``--sha256`` refuses a download whose bytes do
not match the hash you expected (nothing is kept). Set the project's base weights to the printed
path (or its file name) on the settings page to use it.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from annotate.management.jsoncommand import JsonCommand

RELEASE_URL = "https://github.com/ultralytics/assets/releases/download/v8.3.0/{name}.pt"
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
CHUNK = 1 << 20
TIMEOUT_SECONDS = 30


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pin_path(weights: Path) -> Path:
    return weights.with_name(weights.name + ".sha256")


class Command(JsonCommand):
    help = "Download a named Ultralytics base model into the weights folder and pin its sha256."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="model name, e.g. yolo11n (the release file is NAME.pt)")
        parser.add_argument("--url", help="download from here instead of the Ultralytics release")
        parser.add_argument("--sha256", help="refuse the file unless its sha256 is this")
        parser.add_argument("--force", action="store_true", help="download again over a pinned file")

    def run(self, **options: Any) -> dict[str, Any]:
        name = str(options["name"]).removesuffix(".pt")
        if not NAME.match(name):
            raise CommandError(f"{name!r} is not a model name (letters, digits, '.', '_' and '-').")
        expected = (options["sha256"] or "").lower() or None
        if expected is not None and not re.fullmatch(r"[0-9a-f]{64}", expected):
            raise CommandError("--sha256 must be 64 hexadecimal digits.")
        roots: list[Path] = list(settings.ANNOTATE_WEIGHTS_ROOTS)
        if not roots:
            raise CommandError("No weights folder is configured (ANNOTATE_WEIGHTS_ROOTS).")
        target = Path(roots[0]) / f"{name}.pt"
        url = options["url"] or RELEASE_URL.format(name=name)

        if target.is_file() and not options["force"]:
            return self._already_there(target, expected, url)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.stderr.write(f"Downloading {url} -> {target}")
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{name}.", delete=False) as tmp:
            partial = Path(tmp.name)
            try:
                digest, size = self._download(url, tmp)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        if expected is not None and digest != expected:
            partial.unlink(missing_ok=True)
            raise CommandError(
                f"sha256 mismatch for {url}: got {digest}, expected {expected}; nothing was kept."
            )
        partial.replace(target)
        pin_path(target).write_text(f"{digest}  {target.name}\n")
        return {"name": name, "path": str(target), "sha256": digest, "bytes": size, "url": url}

    def _already_there(self, target: Path, expected: str | None, url: str) -> dict[str, Any]:
        digest = sha256_of(target)
        pin = pin_path(target)
        pinned = pin.read_text().split()[0] if pin.is_file() and pin.read_text().strip() else None
        if pinned is not None and pinned != digest:
            raise CommandError(
                f"{target} no longer matches its pinned sha256 ({pinned}); it changed on disk. "
                "Run again with --force to download it anew."
            )
        if expected is not None and digest != expected:
            raise CommandError(
                f"{target} has sha256 {digest}, not {expected}; run with --force to replace it."
            )
        if pinned is None:
            pin.write_text(f"{digest}  {target.name}\n")
        return {
            "name": target.stem,
            "path": str(target),
            "sha256": digest,
            "bytes": target.stat().st_size,
            "url": url,
            "already_present": True,
        }

    def _download(self, url: str, out: Any) -> tuple[str, int]:
        if not url.startswith(("https://", "http://")):
            raise CommandError("Only http(s) URLs can be fetched.")
        digest = hashlib.sha256()
        size = 0
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - checked above
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except urllib.error.HTTPError as exc:
            raise CommandError(f"{url} answered {exc.code} {exc.reason}; check the model name.") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise CommandError(
                f"Could not reach {url} ({exc}). This machine looks offline: download the file elsewhere "
                "and copy it into the weights folder, or pass --url to a mirror."
            ) from exc
        if size == 0:
            raise CommandError(f"{url} sent an empty file.")
        return digest.hexdigest(), size
