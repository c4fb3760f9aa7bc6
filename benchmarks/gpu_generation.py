"""One engine generation on CUDA against raw Ultralytics doing the same training and prediction.

    python benchmarks/gpu_generation.py [--frames 200] [--width 640] [--height 480] [--objects 4]
                                        [--labeled 5] [--epochs 30] [--imgsz 640] [--model yolo11n.yaml]
                                        [--base-weights FILE.pt] [--device cuda:0]

Needs torch with CUDA and the repository (micromodels, fixtures); no database. It generates a clip
with fixtures/make_clips.py, labels evenly spaced frames from the clip's truth, then

1. engine: ``micromodels.train`` (YOLO on CUDA, same epochs, no time budget) and ``prelabel`` over
   every frame (detector + tracker + fusion);
2. raw: ``ultralytics.YOLO(model).train`` on the dataset the engine wrote (same images, epochs,
   image size and augmentation) and ``YOLO.predict`` over every frame;

and prints train and pre-label seconds of each and the engine/raw ratios, plus the engine's recall
and precision on the unlabeled frames. Without CUDA it exits with status 2 and says so.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.make_clips import make_clip  # noqa: E402
from micromodels import PrelabelConfig, TrainConfig, prelabel, train  # noqa: E402
from micromodels.dataset import build_dataset  # noqa: E402
from micromodels.device import ultralytics_offline  # noqa: E402
from micromodels.frames import read_frame  # noqa: E402
from micromodels.metrics import score_clip  # noqa: E402
from micromodels.types import Box, Clip, LabeledFrame  # noqa: E402

NO_CUDA = (
    "gpu_generation: no CUDA device is usable here (torch.cuda.is_available() is False); "
    "run it on a machine with an NVIDIA GPU and a CUDA build of torch"
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--objects", type=int, default=4)
    parser.add_argument("--labeled", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--model", default="yolo11n.yaml", help="architecture built from scratch")
    parser.add_argument("--base-weights", default=None, help="local .pt to start from (never downloaded)")
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--work", type=Path, default=None)
    return parser.parse_args(argv)


def cuda_problem(device: str) -> str | None:
    """Why this benchmark cannot run here, or None when CUDA is usable."""
    try:
        import torch
    except ImportError:
        return "gpu_generation: torch is not installed"
    if not device.startswith("cuda"):
        return f"gpu_generation: --device must be a CUDA device, not {device!r}"
    if not torch.cuda.is_available():
        return NO_CUDA
    return None


def make_inputs(
    args: argparse.Namespace, work: Path
) -> tuple[Clip, list[LabeledFrame], dict[int, tuple[Box, ...]]]:
    """The generated clip, its evenly spaced labeled frames and the truth (CPU only, no CUDA)."""
    made = make_clip(
        work / "clip",
        frames=args.frames,
        width=args.width,
        height=args.height,
        objects=args.objects,
        video=False,
    )
    assert made.frames_dir is not None
    names = tuple(made.classes)
    truth = {
        i: tuple(Box(b.x, b.y, b.w, b.h, names.index(b.label), 1.0, b.track_id) for b in boxes)
        for i, boxes in enumerate(made.frames)
    }
    clip = Clip(tuple(sorted(made.frames_dir.glob("*.png"))), names, made.width, made.height)
    count = max(2, min(args.labeled, args.frames))
    indices = sorted({round(k * (args.frames - 1) / (count - 1)) for k in range(count)})
    labeled = [LabeledFrame(i, tuple(replace(b, track_id=None) for b in truth[i])) for i in indices]
    return clip, labeled, truth


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    problem = cuda_problem(args.device)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="gpu_generation_"))
    clip, labeled, truth = make_inputs(args, work)
    train_cfg = TrainConfig(
        detector="yolo",
        device=args.device,
        epochs=args.epochs,
        time_budget_seconds=None,
        imgsz=args.imgsz,
        base_weights=args.base_weights,
        model=args.model,
    )
    pre_cfg = PrelabelConfig(imgsz=args.imgsz, device=args.device, batch=16)
    t0 = time.monotonic()
    result = train(clip, labeled, work / "engine", train_cfg)
    engine_train = time.monotonic() - t0
    t0 = time.monotonic()
    pre = prelabel(clip, labeled, result.checkpoint, work / "engine_pre", pre_cfg)
    engine_prelabel = time.monotonic() - t0

    ultralytics_offline()
    from ultralytics import YOLO

    dataset = build_dataset(clip, labeled, work / "raw_dataset", repeats=train_cfg.repeats)
    raw = YOLO(args.base_weights or args.model)
    t0 = time.monotonic()
    raw.train(
        data=str(dataset.yaml_path),
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=train_cfg.batch,
        device=args.device,
        workers=0,
        project=str(work),
        name="raw",
        exist_ok=True,
        plots=False,
        val=False,
        amp=False,
        verbose=False,
        pretrained=bool(args.base_weights),
    )
    raw_train = time.monotonic() - t0
    if raw.trainer is None:
        print("gpu_generation: raw ultralytics training did not start", file=sys.stderr)
        return 1
    trained = YOLO(str(Path(raw.trainer.last)))
    t0 = time.monotonic()
    for start in range(0, len(clip.frames), pre_cfg.batch):
        images = [read_frame(p) for p in clip.frames[start : start + pre_cfg.batch]]
        trained.predict(
            images,
            imgsz=args.imgsz,
            conf=pre_cfg.detector_conf,
            iou=pre_cfg.nms_iou,
            device=args.device,
            verbose=False,
        )
    raw_predict = time.monotonic() - t0
    labeled_at = {f.index for f in labeled}
    others = [i for i in range(args.frames) if i not in labeled_at]
    score = score_clip(pre.boxes, truth, others)
    detector = score_clip(pre.detector_boxes, truth, others)
    report = {
        "device": args.device,
        "model": result.model,
        "frames": args.frames,
        "size": f"{args.width}x{args.height}",
        "engine_train_s": round(engine_train, 2),
        "engine_prelabel_s": round(engine_prelabel, 2),
        "raw_train_s": round(raw_train, 2),
        "raw_predict_s": round(raw_predict, 2),
        "train_ratio": round(engine_train / raw_train, 3),
        "prelabel_ratio": round(engine_prelabel / raw_predict, 3),
        "engine_recall": round(score.recall, 4),
        "engine_precision": round(score.precision, 4),
        "detector_recall": round(detector.recall, 4),
        "detector_precision": round(detector.precision, 4),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
