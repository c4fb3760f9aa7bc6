"""Reusing a clip's micro-model: transfer start recall, ONNX size and speed, redaction speed.

    .venv/bin/python benchmarks/reuse.py OUT_DIR [--frames 120] [--labeled 6] [--budget 45]

Trains clip A's first generation with the platform's default engine settings (ClipNet on CPU, the
``--budget`` seconds a generation gets), then on clip B (the same generated scene, other motion:
``make_clip(seed=7, motion_seed=1)``) measures, with the same calls production makes:

- the transfer start: ``micromodels.prelabel`` of clip B with A's checkpoint and no labeled frame
  (what generation 0 runs), recall and precision against B's truth at IoU 0.5;
- the ONNX files of A's generation (fp32, 8-bit): size, CPU ms per frame on B (one thread, batch 8)
  against the torch model, and how many torch boxes each reproduces (IoU >= 0.9);
- redaction: ``annotate.exchange.redact.write_redacted`` of B's frames with every truth box hidden,
  frames per second (blur and pixelate) at the clip's size and at 640x480.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from annotate.exchange.redact import Rect, write_redacted
from fixtures.make_clips import ClipTruth, make_clip
from micromodels import Box, Clip, LabeledFrame, PrelabelConfig, TrainConfig, prelabel, train
from micromodels.engine import detect_all
from micromodels.metrics import iou
from micromodels.onnx_model import export_onnx, load_onnx_detector, quantize_onnx
from micromodels.predictor import predict_frames


def as_clip(truth: ClipTruth) -> tuple[Clip, dict[int, tuple[Box, ...]]]:
    assert truth.frames_dir is not None
    names = tuple(truth.classes)
    boxes = {
        i: tuple(Box(b.x, b.y, b.w, b.h, names.index(b.label), 1.0, b.track_id) for b in frame)
        for i, frame in enumerate(truth.frames)
    }
    return Clip(tuple(sorted(truth.frames_dir.glob("*.png"))), names, truth.width, truth.height), boxes


def score(
    found: dict[int, tuple[Box, ...]], truth: dict[int, tuple[Box, ...]], at: float
) -> dict[str, float]:
    hit = sum(
        any(p.label == t.label and iou(p, t) >= at for p in found.get(i, ()))
        for i, f in truth.items()
        for t in f
    )
    right = sum(
        any(p.label == t.label and iou(p, t) >= at for t in truth[i]) for i, f in found.items() for p in f
    )
    n_truth, n_found = sum(map(len, truth.values())), sum(map(len, found.values()))
    return {
        "recall": round(hit / n_truth, 4),
        "precision": round(right / max(n_found, 1), 4),
        "boxes": n_found,
    }


def timed(run, frames: int) -> tuple[float, dict[int, tuple[Box, ...]]]:
    started = time.perf_counter()
    out = run()
    return round((time.perf_counter() - started) * 1000 / frames, 2), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--labeled", type=int, default=6)
    parser.add_argument("--budget", type=float, default=45.0)
    args = parser.parse_args()
    common = {"frames": args.frames, "width": 320, "height": 240, "objects": 3, "seed": 7, "video": False}
    clip_a, truth_a = as_clip(make_clip(args.out / "a", **common))
    clip_b, truth_b = as_clip(make_clip(args.out / "b", motion_seed=1, **common))
    step = (args.frames - 1) / (args.labeled - 1)
    labeled = [LabeledFrame(round(k * step), truth_a[round(k * step)]) for k in range(args.labeled)]
    trained = train(
        clip_a, labeled, args.out / "train", TrainConfig(time_budget_seconds=args.budget, device="cpu")
    )
    report: dict[str, object] = {"model": trained.model, "train_seconds": round(trained.seconds, 1)}

    config = PrelabelConfig(device="cpu")
    start = prelabel(clip_b, [], trained.checkpoint, args.out / "prelabel", config)
    report["transfer_start_on_b"] = {
        "engine": score(start.boxes, truth_b, 0.5),
        "detector_alone": score(start.detector_boxes, truth_b, 0.5),
        "seconds": round(start.seconds, 1),
    }
    report["same_model_on_a_unlabeled_frames"] = score(
        prelabel(clip_a, labeled, trained.checkpoint, args.out / "prelabel_a", config).boxes,
        {i: b for i, b in truth_a.items() if i not in {f.index for f in labeled}},
        0.5,
    )

    fp32 = export_onnx(
        trained.checkpoint,
        args.out / "model.onnx",
        class_names=clip_a.class_names,
        frame_width=320,
        frame_height=240,
        source={"clip": "a", "generation": "1"},
    )
    int8 = quantize_onnx(fp32.path, args.out / "model.int8.onnx")
    every = list(range(len(clip_b.frames)))
    torch_ms, torch_boxes = timed(lambda: detect_all(clip_b, trained.checkpoint, config), len(every))
    onnx: dict[str, object] = {
        "torch_ms_per_frame": torch_ms,
        "checkpoint_bytes": trained.checkpoint.path.stat().st_size,
    }
    for name, file in (("fp32", fp32), ("int8", int8)):
        detector = load_onnx_detector(file.path, threads=1)
        ms, boxes = timed(lambda d=detector: dict(predict_frames(d, clip_b, every, config)), len(every))
        same = sum(
            any(o.label == t.label and iou(o, t) >= 0.9 for o in boxes.get(i, ()))
            for i, f in torch_boxes.items()
            for t in f
        )
        onnx[name] = {
            "bytes": file.path.stat().st_size,
            "ms_per_frame": ms,
            "torch_boxes_reproduced_iou_0.9": f"{same}/{sum(map(len, torch_boxes.values()))}",
        }
    report["onnx"] = onnx

    redaction: dict[str, object] = {}
    for size in ((320, 240), (640, 480)):
        images = [
            np.asarray(cv2.resize(np.asarray(cv2.imread(str(p))), size), dtype=np.uint8)
            for p in clip_b.frames
        ]
        sx, sy = size[0] / 320, size[1] / 240
        rects = [[Rect(b.x * sx, b.y * sy, b.w * sx, b.h * sy) for b in truth_b[i]] for i in every]
        for style in ("blur", "pixelate"):
            started = time.perf_counter()
            write_redacted(
                zip(images, rects, strict=True),
                args.out / f"redacted-{size[0]}-{style}.mp4",
                fps=10.0,
                width=size[0],
                height=size[1],
                style=style,
                block=16,
                progress=lambda _done: None,
            )
            redaction[f"{size[0]}x{size[1]} {style}"] = round(
                len(images) / (time.perf_counter() - started), 1
            )
    report["redaction_frames_per_second"] = redaction
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
