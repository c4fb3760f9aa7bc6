"""Device choice shared by training and inference."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


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
    _local_fonts()


def _local_fonts() -> None:
    """Its dataset check looks for Arial fonts and downloads them when missing, although nothing is
    drawn here (plots are off): matplotlib's own DejaVu Sans stands in, so no request is made."""
    import matplotlib
    from ultralytics.utils import USER_CONFIG_DIR

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        target = Path(USER_CONFIG_DIR) / name
        if not target.exists() and font.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(font, target)
