"""Batched, streaming detector inference over a clip: a batch of decoded frames at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from micromodels.config import PrelabelConfig
from micromodels.device import resolve_device, ultralytics_offline
from micromodels.errors import Cancelled
from micromodels.frames import read_frame
from micromodels.types import Box, Clip, StopCheck


def load_detector(weights: Path) -> Any:
    """Load a checkpoint whose hash the caller has already verified."""
    ultralytics_offline()
    from ultralytics import YOLO

    return YOLO(str(weights))


def predict_frames(
    model: Any,
    clip: Clip,
    indices: Sequence[int],
    config: PrelabelConfig,
    should_stop: StopCheck | None = None,
) -> Iterator[tuple[int, tuple[Box, ...]]]:
    """Yield (frame index, detections) in order; only one batch of frames is decoded at a time."""
    device = resolve_device(config.device)
    for start in range(0, len(indices), config.batch):
        if should_stop is not None and should_stop():
            raise Cancelled("pre-labeling cancelled")
        chunk = list(indices[start : start + config.batch])
        images = [read_frame(clip.frames[i]) for i in chunk]
        results = model.predict(
            images,
            imgsz=config.imgsz,
            conf=config.detector_conf,
            iou=config.nms_iou,
            device=device,
            verbose=False,
        )
        for index, result in zip(chunk, results, strict=True):
            boxes = result.boxes
            xyxy = boxes.xyxy.cpu().numpy()
            scores = boxes.conf.cpu().numpy()
            labels = boxes.cls.cpu().numpy()
            out = tuple(
                Box(
                    float(x1),
                    float(y1),
                    float(x2 - x1),
                    float(y2 - y1),
                    int(c),
                    float(s),
                    None,
                    "detector",
                )
                for (x1, y1, x2, y2), s, c in zip(xyxy, scores, labels, strict=True)
                if x2 > x1 and y2 > y1
            )
            yield index, out
