"""ClipNet: a small per-clip CenterNet-style detector that learns from scratch in one CPU generation.

Why not a full-frame YOLO from scratch: in a 60 s CPU budget it gets ~150 optimiser steps over whole
frames that are mostly background, and learns nothing (docs/benchmarks.md). ClipNet instead

- works at the objects' scale: every frame is resized so the labeled objects' median size is
  ``object_side`` pixels, so a small fully-convolutional network (stride 4 output) sees each object
  at a size its receptive field covers, on any frame size (640x480 people and 20-pixel pedestrians
  alike);
- trains on small random crops of the labeled frames (half of them around an object, half anywhere),
  so one step costs milliseconds and a generation gets thousands of them; everything not boxed on a
  labeled frame is a negative (a labeled frame has every object boxed);
- augments each crop (scale and translation jitter, flips, colour gain and bias), and decodes each
  labeled frame once per generation (cached in memory at the working scale);
- predicts a centre heatmap per class (penalty-reduced focal loss on Gaussian targets), the box's
  log size and the centre's sub-cell offset, decoded by a 3x3 peak search and NMS.

The network is a plain torch module; the checkpoint is a plain dict (``torch.save``) holding the
weights and the facts needed to use them (classes, working scale, widths), loaded with
``weights_only=True``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import Tensor, nn

from micromodels.types import Box

CHECKPOINT_FORMAT = "micromodels.clipnet/1"
STRIDE = 4


@dataclass(frozen=True)
class ClipNetShape:
    """What a checkpoint must remember to rebuild and apply the network."""

    classes: int
    width: int  # channels of the stride-4 features; deeper layers use 2x
    scale: float  # working scale: frame pixels x scale = network input pixels


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, padding=dilation * (kernel // 2), dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class ClipNet(nn.Module):
    """Stride-2/4/8 encoder with dilated context at stride 8, one skip back to stride 4, three heads."""

    def __init__(self, classes: int, width: int = 32) -> None:
        super().__init__()
        w = width
        self.stem = nn.Sequential(_conv(3, w // 2, 2), _conv(w // 2, w, 2), _conv(w, w))  # /4
        self.down = nn.Sequential(
            _conv(w, 2 * w, 2), _conv(2 * w, 2 * w, dilation=2), _conv(2 * w, 2 * w, dilation=4)
        )  # /8, receptive field ~ 100 input pixels: a whole object at the working scale plus context
        self.fuse = _conv(3 * w, w, kernel=1)
        self.heatmap = nn.Conv2d(w, classes, 1)
        self.size = nn.Conv2d(w, 2, 1)  # log(w / STRIDE), log(h / STRIDE)
        self.offset = nn.Conv2d(w, 2, 1)  # centre within its cell, 0..1
        nn.init.constant_(self.heatmap.bias, -4.6)  # type: ignore[arg-type]  # prior 0.01: most cells are background

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        f4 = self.stem(x)
        f8 = self.down(f4)
        up = F.interpolate(f8, size=f4.shape[-2:], mode="nearest")
        f = self.fuse(torch.cat([f4, up], dim=1))
        return self.heatmap(f), self.size(f), self.offset(f)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def working_scale(boxes: Sequence[Box], object_side: float, min_scale: float, max_scale: float) -> float:
    """The resize factor that brings the median labeled object to object_side pixels (geometric mean
    of width and height), within [min_scale, max_scale]."""
    sides = [math.sqrt(max(b.w, 1.0) * max(b.h, 1.0)) for b in boxes]
    if not sides:
        return 1.0
    return float(np.clip(object_side / float(np.median(sides)), min_scale, max_scale))


def to_input(image: NDArray[np.uint8], scale: float) -> NDArray[np.uint8]:
    """A BGR frame resized to the working scale."""
    if abs(scale - 1.0) < 1e-3:
        return image
    h, w = image.shape[:2]
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, size, interpolation=interpolation), dtype=np.uint8)


def normalise(batch: NDArray[np.float32]) -> Tensor:
    """(N, H, W, 3) float pixels 0..255 -> (N, 3, H, W) tensor centred on 0."""
    return torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2))) / 255.0 - 0.5


def gaussian_targets(
    boxes: NDArray[np.float32],
    labels: NDArray[np.int64],
    classes: int,
    out_h: int,
    out_w: int,
    max_objects: int,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64], NDArray[np.float32]]:
    """CenterNet targets for one crop: heatmap (C, H, W); per object (log w, log h, off x, off y),
    its flat cell index and a validity mask. boxes are x1, y1, x2, y2 in input pixels."""
    heat = np.zeros((classes, out_h, out_w), dtype=np.float32)
    reg = np.zeros((max_objects, 4), dtype=np.float32)
    where = np.zeros((max_objects,), dtype=np.int64)
    mask = np.zeros((max_objects,), dtype=np.float32)
    ys, xs = np.arange(out_h, dtype=np.float32)[:, None], np.arange(out_w, dtype=np.float32)[None, :]
    k = 0
    for (x1, y1, x2, y2), label in zip(boxes, labels, strict=True):
        cx, cy = (x1 + x2) / 2 / STRIDE, (y1 + y2) / 2 / STRIDE
        bw, bh = (x2 - x1) / STRIDE, (y2 - y1) / STRIDE
        if bw < 0.5 or bh < 0.5 or not (0 <= cx < out_w and 0 <= cy < out_h):
            continue
        # Elliptical Gaussian shaped like the box (TTFNet): tall objects get tall peaks.
        sx, sy = max(0.5, 0.54 * bw / 6), max(0.5, 0.54 * bh / 6)
        ix, iy = int(cx), int(cy)
        g = np.exp(-((xs - ix) ** 2) / (2 * sx * sx) - ((ys - iy) ** 2) / (2 * sy * sy))
        np.maximum(heat[label], g, out=heat[label])
        if k < max_objects:
            reg[k] = (math.log(bw), math.log(bh), cx - ix, cy - iy)
            where[k] = iy * out_w + ix
            mask[k] = 1.0
            k += 1
    return heat, reg, where, mask


def focal_loss(logits: Tensor, target: Tensor) -> Tensor:
    """CenterNet's penalty-reduced focal loss, normalised by the number of object centres."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    neg = 1.0 - pos
    pos_loss = torch.log(p) * (1 - p) ** 2 * pos
    neg_loss = torch.log(1 - p) * p**2 * (1 - target) ** 4 * neg
    n = pos.sum().clamp(min=1.0)
    return -(pos_loss.sum() + neg_loss.sum()) / n


def regression_loss(
    size: Tensor, offset: Tensor, reg: Tensor, where: Tensor, mask: Tensor
) -> tuple[Tensor, Tensor]:
    n, _, h, w = size.shape
    flat_size = size.reshape(n, 2, h * w).gather(2, where[:, None, :].expand(n, 2, -1)).transpose(1, 2)
    flat_off = offset.reshape(n, 2, h * w).gather(2, where[:, None, :].expand(n, 2, -1)).transpose(1, 2)
    m = mask[:, :, None]
    count = mask.sum().clamp(min=1.0)
    size_loss = (F.smooth_l1_loss(flat_size, reg[:, :, :2], reduction="none", beta=0.1) * m).sum() / count
    off_loss = (F.l1_loss(torch.sigmoid(flat_off), reg[:, :, 2:], reduction="none") * m).sum() / count
    return size_loss, off_loss


def decode(
    heat_logits: Tensor, size: Tensor, offset: Tensor, min_score: float, max_detections: int
) -> list[tuple[float, float, float, float, float, int]]:
    """Peaks of one image's heatmap -> (x1, y1, x2, y2, score, class) in input pixels, best first."""
    heat = torch.sigmoid(heat_logits[0])
    peaks = heat == F.max_pool2d(heat[None], 3, stride=1, padding=1)[0]
    scores = torch.where(peaks, heat, torch.zeros_like(heat))
    _, h, w = scores.shape
    flat = scores.reshape(-1)
    k = min(max_detections, flat.numel())
    top, idx = torch.topk(flat, k)
    out: list[tuple[float, float, float, float, float, int]] = []
    sz, off = size[0], torch.sigmoid(offset[0])
    for s, i in zip(top.tolist(), idx.tolist(), strict=True):
        if s < min_score:
            break
        cls, cell = divmod(i, h * w)
        y, x = divmod(cell, w)
        cx = (x + float(off[0, y, x])) * STRIDE
        cy = (y + float(off[1, y, x])) * STRIDE
        bw = math.exp(min(float(sz[0, y, x]), 8.0)) * STRIDE
        bh = math.exp(min(float(sz[1, y, x]), 8.0)) * STRIDE
        out.append((cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2, s, cls))
    return out


def save_checkpoint(path: Any, model: ClipNet, shape: ClipNetShape, extra: dict[str, Any]) -> None:
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "classes": shape.classes,
            "width": shape.width,
            "scale": shape.scale,
            "state_dict": model.state_dict(),
            **extra,
        },
        path,
    )


def read_checkpoint(path: Any) -> dict[str, Any] | None:
    """The checkpoint's dict when the file is a ClipNet checkpoint, else None (e.g. an ultralytics
    file, whose pickled classes ``weights_only`` refuses to load)."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # any refusal means "not ours": the caller tries ultralytics
        return None
    if isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT:
        return data
    return None


def load_model(data: dict[str, Any]) -> tuple[ClipNet, ClipNetShape]:
    shape = ClipNetShape(classes=int(data["classes"]), width=int(data["width"]), scale=float(data["scale"]))
    model = ClipNet(shape.classes, shape.width)
    model.load_state_dict(data["state_dict"])
    model.eval()
    return model, shape
