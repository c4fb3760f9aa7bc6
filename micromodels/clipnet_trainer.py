"""Training ClipNet on one clip's labeled frames: augmented crops at the objects' scale, a time budget,
warm start from the previous generation's ClipNet checkpoint, progress and cancel through callbacks."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from micromodels.checkpoints import make_checkpoint
from micromodels.clipnet import (
    STRIDE,
    ClipNet,
    ClipNetShape,
    focal_loss,
    gaussian_targets,
    load_model,
    normalise,
    parameter_count,
    read_checkpoint,
    regression_loss,
    save_checkpoint,
    to_input,
    working_scale,
)
from micromodels.config import TrainConfig
from micromodels.errors import Cancelled, EngineError
from micromodels.frames import read_frame
from micromodels.types import Clip, LabeledFrame, ProgressCallback, StopCheck, TrainProgress, TrainResult

log = logging.getLogger(__name__)
_FILL = 114.0  # grey outside the frame: not an object, not a reflected copy of one
_MAX_OBJECTS = 64


@dataclass
class _Sample:
    image: NDArray[np.uint8]  # at the working scale
    boxes: NDArray[np.float32]  # x1, y1, x2, y2 at the working scale
    labels: NDArray[np.int64]


def _samples(clip: Clip, frames: Sequence[LabeledFrame], scale: float) -> list[_Sample]:
    out = []
    for frame in frames:
        image = to_input(read_frame(clip.frames[frame.index]), scale)
        boxes = np.array(
            [
                (
                    max(b.x, 0.0) * scale,
                    max(b.y, 0.0) * scale,
                    min(b.x + b.w, clip.width) * scale,
                    min(b.y + b.h, clip.height) * scale,
                )
                for b in frame.boxes
            ],
            dtype=np.float32,
        ).reshape(-1, 4)
        labels = np.array([b.label for b in frame.boxes], dtype=np.int64)
        out.append(_Sample(image, boxes, labels))
    return out


def _crop(
    sample: _Sample, config: TrainConfig, rng: np.random.Generator
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
    """One augmented crop (crop x crop pixels) and its boxes in crop pixels."""
    size = config.clipnet_crop
    h, w = sample.image.shape[:2]
    if len(sample.boxes) and rng.random() < config.clipnet_object_crops:
        b = sample.boxes[int(rng.integers(len(sample.boxes)))]
        cx = (b[0] + b[2]) / 2 + rng.uniform(-0.4, 0.4) * size
        cy = (b[1] + b[3]) / 2 + rng.uniform(-0.4, 0.4) * size
    else:
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    jitter = config.clipnet_scale_jitter
    f = math.exp(rng.uniform(-math.log(jitter), math.log(jitter)))
    flip = rng.random() < 0.5
    sx = -f if flip else f
    matrix = np.array([[sx, 0, size / 2 - sx * cx], [0, f, size / 2 - f * cy]], dtype=np.float64)
    crop = cv2.warpAffine(
        sample.image,
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(_FILL, _FILL, _FILL),
    ).astype(np.float32)
    gain = rng.uniform(1 - config.clipnet_colour, 1 + config.clipnet_colour, size=3)
    bias = rng.uniform(-60 * config.clipnet_colour, 60 * config.clipnet_colour)
    crop = np.clip(crop * gain[None, None, :].astype(np.float32) + bias, 0, 255)
    boxes = sample.boxes.copy()
    if len(boxes):
        xs = boxes[:, [0, 2]] * sx + matrix[0, 2]
        boxes[:, 0], boxes[:, 2] = xs.min(axis=1), xs.max(axis=1)
        boxes[:, [1, 3]] = boxes[:, [1, 3]] * f + matrix[1, 2]
    return crop, boxes, sample.labels


def _batch(
    samples: Sequence[_Sample], classes: int, config: TrainConfig, rng: np.random.Generator
) -> tuple[torch.Tensor, ...]:
    out_side = config.clipnet_crop // STRIDE
    images, heats, regs, wheres, masks = [], [], [], [], []
    for _ in range(config.clipnet_batch):
        crop, boxes, labels = _crop(samples[int(rng.integers(len(samples)))], config, rng)
        heat, reg, where, mask = gaussian_targets(boxes, labels, classes, out_side, out_side, _MAX_OBJECTS)
        images.append(crop)
        heats.append(heat)
        regs.append(reg)
        wheres.append(where)
        masks.append(mask)
    return (
        normalise(np.stack(images)),
        torch.from_numpy(np.stack(heats)),
        torch.from_numpy(np.stack(regs)),
        torch.from_numpy(np.stack(wheres)),
        torch.from_numpy(np.stack(masks)),
    )


def _warm_start(config: TrainConfig, classes: int) -> tuple[ClipNet | None, float | None, str]:
    """The previous generation's ClipNet when base_weights is one with the same classes and width."""
    if not config.base_weights or not Path(config.base_weights).is_file():
        return None, None, "from scratch"
    data = read_checkpoint(Path(config.base_weights))
    if data is None:
        return None, None, "from scratch"
    model, shape = load_model(data)
    if shape.classes != classes or shape.width != config.clipnet_width:
        log.info(
            "previous ClipNet has %d classes / width %d: training from scratch", shape.classes, shape.width
        )
        return None, None, "from scratch"
    return model, shape.scale, str(config.base_weights)


def train_clipnet(
    clip: Clip,
    frames: Sequence[LabeledFrame],
    work_dir: Path,
    config: TrainConfig,
    *,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    wall_start: float | None = None,
) -> TrainResult:
    """Train ClipNet on the labeled frames within the time budget (counted from wall_start)."""
    wall_start = time.time() if wall_start is None else wall_start
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    classes = len(clip.class_names)
    boxes = [b for f in frames for b in f.boxes]
    scale = working_scale(
        boxes, config.clipnet_object_side, config.clipnet_min_scale, config.clipnet_max_scale
    )
    # Every frame of the clip goes through the network at this scale: cap its pixels so pre-labeling
    # a long 720p clip stays within a generation's budget (small objects then come out smaller).
    scale = min(scale, math.sqrt(config.clipnet_max_input_pixels / (clip.width * clip.height)))
    model, previous_scale, base = _warm_start(config, classes)
    if (
        model is not None
        and previous_scale is not None
        and 1 / config.clipnet_keep_scale < scale / previous_scale < config.clipnet_keep_scale
    ):
        scale = previous_scale  # keep the scale the weights were learned at unless objects changed size
    if model is None:
        model = ClipNet(classes, config.clipnet_width)
    samples = _samples(clip, frames, scale)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.clipnet_lr, weight_decay=1e-4)
    budget = config.time_budget_seconds
    max_steps = config.clipnet_max_steps
    # An "epoch" here is a fixed number of steps, so progress and cancel checks come every few seconds.
    steps_per_epoch = config.clipnet_steps_per_epoch
    epochs_total = max(1, math.ceil(max_steps / steps_per_epoch))
    started = time.monotonic()
    history: list[dict[str, float]] = []
    step = 0
    sums = np.zeros(3)
    while step < max_steps:
        elapsed_wall = time.time() - wall_start
        fraction = max(step / max_steps, elapsed_wall / budget if budget else 0.0)
        if fraction >= 1.0:
            break
        warm = min(1.0, (step + 1) / 50)
        for group in optimiser.param_groups:
            group["lr"] = config.clipnet_lr * warm * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * fraction)))
        image, heat, reg, where, mask = _batch(samples, classes, config, rng)
        heat_logits, size, offset = model(image)
        hm_loss = focal_loss(heat_logits, heat)
        size_loss, off_loss = regression_loss(size, offset, reg, where, mask)
        loss = hm_loss + size_loss + off_loss
        optimiser.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        sums += (hm_loss.item(), size_loss.item(), off_loss.item())
        step += 1
        if step % steps_per_epoch == 0:
            if should_stop is not None and should_stop():
                raise Cancelled("training cancelled")
            losses = {
                "train/heatmap_loss": round(sums[0] / steps_per_epoch, 5),
                "train/size_loss": round(sums[1] / steps_per_epoch, 5),
                "train/offset_loss": round(sums[2] / steps_per_epoch, 5),
            }
            sums[:] = 0
            epoch = step // steps_per_epoch
            history.append({"epoch": float(epoch), **losses})
            if progress is not None:
                elapsed = time.monotonic() - started
                left = (
                    (budget - (time.time() - wall_start)) if budget else elapsed / step * (max_steps - step)
                )
                progress(TrainProgress(epoch, epochs_total, losses, elapsed, max(0.0, left)))
    if should_stop is not None and should_stop():
        raise Cancelled("training cancelled")
    if step == 0:
        raise EngineError("the time budget ended before the first training step")
    tail = step % steps_per_epoch
    if tail:  # the budget ended mid-epoch: its steps still belong in the history (short runs have no other)
        history.append(
            {
                "epoch": round(step / steps_per_epoch, 3),
                "train/heatmap_loss": round(sums[0] / tail, 5),
                "train/size_loss": round(sums[1] / tail, 5),
                "train/offset_loss": round(sums[2] / tail, 5),
            }
        )
    model.eval()
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / "checkpoint.pt"
    shape = ClipNetShape(classes=classes, width=config.clipnet_width, scale=scale)
    save_checkpoint(target, model, shape, {"steps": step, "base": base})
    seconds = time.monotonic() - started
    start_words = "from scratch" if base == "from scratch" else "warm-started from the previous generation"
    description = (
        f"per-clip ClipNet (CenterNet-style, {parameter_count(model) // 1000}k params), "
        f"{start_words}, {step} steps at scale {scale:.2f}"
    )
    log.info("%s in %.1fs", description, seconds)
    metrics = {k: v for k, v in history[-1].items() if k != "epoch"} if history else {}
    return TrainResult(
        checkpoint=make_checkpoint(target),
        base_weights=base,
        device="cpu",
        epochs=len(history),
        seconds=seconds,
        metrics={**metrics, "steps": float(step)},
        loss_history=history,
        trained_frames=tuple(f.index for f in frames),
        model=description,
    )
