"""Checkpoints this engine wrote: a hash on write, and a refusal to load anything that does not match."""

from __future__ import annotations

import hashlib
from pathlib import Path

from micromodels.errors import EngineError
from micromodels.types import Checkpoint


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_checkpoint(path: Path) -> Checkpoint:
    return Checkpoint(path=path, sha256=file_sha256(path))


def verify_checkpoint(checkpoint: Checkpoint) -> Path:
    """The checkpoint's path once its bytes match the recorded sha256; EngineError otherwise."""
    path = Path(checkpoint.path)
    if not path.is_file():
        raise EngineError(f"checkpoint {path} does not exist")
    actual = file_sha256(path)
    if actual != checkpoint.sha256:
        raise EngineError(
            f"checkpoint {path} hash mismatch: expected {checkpoint.sha256[:12]}, got {actual[:12]}"
        )
    return path
