"""Device choice shared by training and inference."""

from __future__ import annotations

import os


def resolve_device(device: str) -> str:
    """ "auto" -> "cuda:0" when a GPU is usable, else "cpu"; anything else is passed through."""
    if device != "auto":
        return device
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def ultralytics_offline() -> None:
    """Keep ultralytics from reaching the network (weights, fonts, hub, version checks)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
