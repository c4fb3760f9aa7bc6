"""Batched, streaming detector inference over a clip, for either kind of checkpoint: a ClipNet dict
(micromodels.clipnet) or an ultralytics YOLO file. Only a batch of decoded frames is alive at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from numpy.typing import NDArray
from torch import Tensor

from micromodels.clipnet import (
    ClipNet,
    decode,
    load_model,
    normalise,
    read_checkpoint,
    to_input,
)
from micromodels.config import PrelabelConfig
from micromodels.device import resolve_device, ultralytics_offline
from micromodels.errors import Cancelled
from micromodels.frames import read_frame
from micromodels.types import Box, Clip, StopCheck

Heads = Callable[[NDArray[np.float32]], tuple[Tensor, Tensor, Tensor]]


@dataclass
class ClipNetDetector:
    """A ClipNet ready to run, from a checkpoint (torch) or an exported file (onnxruntime): heads maps
    a batch as ``clipnet_input`` makes it to the three heads (heatmap logits, size, offset logits),
    decoded at the working scale."""

    heads: Heads
    scale: float


def load_detector(weights: Path) -> Any:
    """Load a checkpoint whose hash the caller has already verified: ClipNet or YOLO."""
    data = read_checkpoint(weights)
    if data is not None:
        model, shape = load_model(data)
        return ClipNetDetector(heads=partial(_torch_heads, model), scale=shape.scale)
    ultralytics_offline()
    from ultralytics import YOLO

    return YOLO(str(weights))


def describe_detector(model: Any) -> str:
    if isinstance(model, ClipNetDetector):
        return "ClipNet"
    return "YOLO"


def predict_frames(
    model: Any,
    clip: Clip,
    indices: Sequence[int],
    config: PrelabelConfig,
    should_stop: StopCheck | None = None,
) -> Iterator[tuple[int, tuple[Box, ...]]]:
    """Yield (frame index, detections) in order; only one batch of frames is decoded at a time. The
    model is what ``load_detector`` or ``onnx_model.load_onnx_detector`` returns."""
    for start in range(0, len(indices), config.batch):
        if should_stop is not None and should_stop():
            raise Cancelled("pre-labeling cancelled")
        chunk = list(indices[start : start + config.batch])
        if isinstance(model, ClipNetDetector):
            yield from _clipnet_batch(model, clip, chunk, config)
        else:
            yield from _yolo_batch(model, clip, chunk, config)


def _clipnet_batch(
    detector: ClipNetDetector, clip: Clip, chunk: Sequence[int], config: PrelabelConfig
) -> Iterator[tuple[int, tuple[Box, ...]]]:
    heat, size, offset = detector.heads(clipnet_input(clip, chunk, detector.scale))
    for k, index in enumerate(chunk):
        peaks = decode(
            heat[k : k + 1],
            size[k : k + 1],
            offset[k : k + 1],
            config.detector_conf,
            config.clipnet_max_detections,
        )
        yield index, _nms(peaks, detector.scale, config.nms_iou)


def _torch_heads(model: ClipNet, batch: NDArray[np.float32]) -> tuple[Tensor, Tensor, Tensor]:
    with torch.inference_mode():
        heat, size, offset = model(normalise(batch))
    return heat, size, offset


def clipnet_input(clip: Clip, chunk: Sequence[int], scale: float) -> NDArray[np.float32]:
    """The frames as ClipNet takes them: N x H x W x 3 float pixels at the working scale, padded with
    grey to multiples of 8 (the network's stride 8)."""
    images = [to_input(read_frame(clip.frames[i]), scale) for i in chunk]
    h, w = images[0].shape[:2]
    ph, pw = -h % 8, -w % 8
    return np.stack(
        [np.pad(im, ((0, ph), (0, pw), (0, 0)), constant_values=114).astype(np.float32) for im in images]
    )


def _nms(
    peaks: list[tuple[float, float, float, float, float, int]], scale: float, iou: float
) -> tuple[Box, ...]:
    if not peaks:
        return ()
    xyxy = torch.tensor([p[:4] for p in peaks], dtype=torch.float32) / scale
    scores = torch.tensor([p[4] for p in peaks], dtype=torch.float32)
    labels = torch.tensor([p[5] for p in peaks], dtype=torch.int64)
    keep = torchvision.ops.batched_nms(xyxy, scores, labels, iou)
    out = []
    for i in keep.tolist():
        x1, y1, x2, y2 = (float(v) for v in xyxy[i])
        if x2 > x1 and y2 > y1:
            out.append(Box(x1, y1, x2 - x1, y2 - y1, int(labels[i]), float(scores[i]), None, "detector"))
    return tuple(out)


def _yolo_batch(
    model: Any, clip: Clip, chunk: Sequence[int], config: PrelabelConfig
) -> Iterator[tuple[int, tuple[Box, ...]]]:
    images = [read_frame(clip.frames[i]) for i in chunk]
    results = model.predict(
        images,
        imgsz=config.imgsz,
        conf=config.detector_conf,
        iou=config.nms_iou,
        device=resolve_device(config.device),
        verbose=False,
    )
    for index, result in zip(chunk, results, strict=True):
        boxes = result.boxes
        xyxy = boxes.xyxy.cpu().numpy()
        scores = boxes.conf.cpu().numpy()
        labels = boxes.cls.cpu().numpy()
        yield (
            index,
            tuple(
                Box(float(x1), float(y1), float(x2 - x1), float(y2 - y1), int(c), float(s), None, "detector")
                for (x1, y1, x2, y2), s, c in zip(xyxy, scores, labels, strict=True)
                if x2 > x1 and y2 > y1
            ),
        )
