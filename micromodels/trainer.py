"""Train a per-clip YOLO detector with ultralytics: from local base weights when they exist, else from
scratch; a time budget as well as an epoch count; progress and cancel through callbacks."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from micromodels.checkpoints import make_checkpoint
from micromodels.config import TrainConfig
from micromodels.dataset import Dataset
from micromodels.device import resolve_device, ultralytics_offline
from micromodels.errors import Cancelled, EngineError
from micromodels.types import ProgressCallback, StopCheck, TrainProgress, TrainResult

log = logging.getLogger(__name__)


def _losses(trainer: Any) -> dict[str, float]:
    items = trainer.label_loss_items(trainer.tloss, prefix="train")
    return {str(k): round(float(v), 5) for k, v in items.items()}


def train_detector(
    dataset: Dataset,
    work_dir: Path,
    config: TrainConfig,
    *,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    wall_start: float | None = None,
) -> TrainResult:
    """Train on the dataset; the time budget counts from wall_start (time.time(), default: now), so
    setup and pseudo-labeling are inside it."""
    wall_start = time.time() if wall_start is None else wall_start
    ultralytics_offline()
    from ultralytics import YOLO

    device = resolve_device(config.device)
    if config.base_weights and Path(config.base_weights).is_file():
        base = str(Path(config.base_weights))
        model = YOLO(base)
    else:
        base = "from scratch"
        if config.base_weights:
            log.info("base weights %s not found: training from scratch", config.base_weights)
        else:
            log.info("no base weights set: training from scratch")
        model = YOLO(config.model)

    started = time.monotonic()
    history: list[dict[str, float]] = []

    def check_stop(trainer: Any) -> None:
        if should_stop is not None and should_stop():
            raise Cancelled("training cancelled")

    def on_epoch_end(trainer: Any) -> None:
        losses = _losses(trainer)
        history.append({"epoch": float(trainer.epoch + 1), **losses})
        elapsed = time.monotonic() - started
        total = int(trainer.epochs)
        done = int(trainer.epoch) + 1
        if progress is not None:
            eta = elapsed / done * max(0, total - done) if done else None
            progress(TrainProgress(done, total, losses, elapsed, eta))
        check_stop(trainer)

    def on_train_start(trainer: Any) -> None:
        trainer.train_time_start = wall_start  # the budget covers setup too, not just the epochs

    model.add_callback("on_train_start", on_train_start)
    model.add_callback("on_train_batch_end", check_stop)
    model.add_callback("on_train_epoch_end", on_epoch_end)
    run_dir = work_dir / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    budget_hours = config.time_budget_seconds / 3600 if config.time_budget_seconds else None
    try:
        model.train(
            data=str(dataset.yaml_path),
            epochs=config.epochs,
            time=budget_hours,
            imgsz=config.imgsz,
            batch=config.batch,
            device=device,
            workers=config.workers,
            seed=config.seed,
            deterministic=True,
            project=str(work_dir),
            name="run",
            exist_ok=True,
            plots=False,
            val=False,
            amp=False,  # the AMP self-check downloads weights
            verbose=False,
            pretrained=base != "from scratch",
            close_mosaic=max(1, min(10, config.epochs // 5)),
            mosaic=config.mosaic,
            scale=config.scale,
            translate=config.translate,
            degrees=config.degrees,
            fliplr=config.fliplr,
            hsv_h=config.hsv_h,
            hsv_s=config.hsv_s,
            hsv_v=config.hsv_v,
            mixup=config.mixup,
            warmup_epochs=config.warmup_epochs,
            patience=0,
            cache=False,
        )
    except Cancelled:
        raise
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        raise EngineError(f"training failed: {error}") from error
    trainer = model.trainer
    if trainer is None:
        raise EngineError("training did not start")
    last = Path(trainer.last)
    if not last.is_file():
        raise EngineError("training produced no checkpoint")
    target = work_dir / "checkpoint.pt"
    shutil.copyfile(last, target)
    # Training runs without validation (val=False), so ultralytics' mAP fields are placeholders; the
    # honest per-run figures are the last epoch's losses.
    metrics = {key: value for key, value in history[-1].items() if key != "epoch"} if history else {}
    seconds = time.monotonic() - started
    log.info("trained %d epochs in %.1fs on %s from %s", len(history), seconds, device, base)
    architecture = Path(config.model).stem.upper() if base == "from scratch" else "YOLO"
    origin = "from scratch" if base == "from scratch" else f"from {Path(base).name}"
    return TrainResult(
        checkpoint=make_checkpoint(target),
        base_weights=base,
        device=device,
        epochs=len(history),
        seconds=seconds,
        metrics=metrics,
        loss_history=history,
        trained_frames=dataset.train_frames + dataset.pseudo_frames,
        model=f"{architecture} (ultralytics) {origin}, {len(history)} epochs on {device}",
    )
