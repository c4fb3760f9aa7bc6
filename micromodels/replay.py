"""Replay benchmark: the labeling loop with an oracle labeler that labels exactly the suggested frames.

    python -m micromodels.replay --frames DIR --truth FILE --format otb|vot|mot|json \\
        [--generations 3] [--per-generation 5] [--work DIR] [--time-budget S] [--epochs N] [--imgsz PX]
        [--pseudo-labels] [--first suggested|even] [--keep-track-ids] [--json OUT]

Per generation it prints, on the frames nobody labeled: recall and precision at IoU 0.5, label
efficiency, human actions still needed (add/fix/delete), and seconds for training and pre-labeling;
and the same figures for the interpolation, tracker-only and detector-only baselines computed from the
same labeled frames (the detector-only baseline uses this generation's detector).

The oracle's boxes come without track ids, as the labeling UI sends them, so the engine links them
itself; --keep-track-ids passes the truth's ids instead.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from micromodels.config import PrelabelConfig, TrainConfig
from micromodels.engine import detect_all, fuse_all, suggest_initial, train
from micromodels.frames import check_labeled
from micromodels.metrics import Score, calibration_error, score_clip
from micromodels.propagation import interpolate, link_tracks, propagate_tracks
from micromodels.truth import load_frames, read_truth
from micromodels.types import Box, LabeledFrame

DETECTOR_ONLY_SCORE = 0.25


def _row(name: str, labeled: int, s: Score, train_s: float, prelabel_s: float) -> dict[str, object]:
    return {
        "method": name,
        "labeled": labeled,
        "recall": round(s.recall, 4),
        "precision": round(s.precision, 4),
        "efficiency": round(s.efficiency, 4),
        "add": s.add,
        "fix": s.fix,
        "delete": s.delete,
        "train_s": round(train_s, 1),
        "prelabel_s": round(prelabel_s, 1),
    }


def run(args: argparse.Namespace) -> list[dict[str, object]]:
    probe = load_frames(args.frames, ("object",))
    truth, names = read_truth(args.truth, args.format, len(probe.frames))
    clip = replace(probe, class_names=names)
    work = args.work or Path(tempfile.mkdtemp(prefix="replay_"))
    train_cfg = TrainConfig(
        time_budget_seconds=args.time_budget or None,
        epochs=args.epochs,
        imgsz=args.imgsz,
        seed=args.seed,
        pseudo_labels=args.pseudo_labels,
    )
    pre_cfg = PrelabelConfig(imgsz=args.imgsz)
    rows: list[dict[str, object]] = []
    labeled: dict[int, LabeledFrame] = {}
    if args.first == "even":  # the README protocol: evenly spaced frames, first and last included
        count = max(1, min(args.per_generation, len(clip.frames)))
        next_frames = sorted({round(k * (len(clip.frames) - 1) / max(1, count - 1)) for k in range(count)})
    else:
        next_frames = [s.frame_index for s in suggest_initial(clip, args.per_generation)]
    for generation in range(1, args.generations + 1):
        for index in next_frames:
            # The oracle labels the suggested frames; like the labeling UI, without track ids.
            boxes = (
                truth[index]
                if args.keep_track_ids
                else tuple(replace(b, track_id=None) for b in truth[index])
            )
            labeled[index] = LabeledFrame(index, boxes)
        t0 = time.monotonic()
        linked = link_tracks(clip, check_labeled(clip, list(labeled.values())), pre_cfg.tracker)
        frames = linked.frames
        link_s = time.monotonic() - t0
        others = [i for i in range(len(clip.frames)) if i not in labeled]
        gen_dir = work / f"gen{generation}"
        t0 = time.monotonic()
        result = train(clip, frames, gen_dir, train_cfg)
        train_s = time.monotonic() - t0
        t0 = time.monotonic()
        detections = detect_all(clip, result.checkpoint, pre_cfg)
        detect_s = time.monotonic() - t0
        t0 = time.monotonic()
        candidates = propagate_tracks(clip, frames, pre_cfg.tracker, linked=linked)
        track_s = time.monotonic() - t0 + link_s
        t0 = time.monotonic()
        fused, suggestions = fuse_all(
            len(clip.frames), clip, frames, detections, candidates, pre_cfg, args.per_generation
        )
        fuse_s = time.monotonic() - t0
        tracker_only, _ = fuse_all(len(clip.frames), clip, frames, {}, candidates, pre_cfg, 0)
        t0 = time.monotonic()
        interp = interpolate(frames, len(clip.frames))
        interp_s = time.monotonic() - t0
        detector_only: dict[int, tuple[Box, ...]] = {
            i: tuple(b for b in boxes if b.score >= DETECTOR_ONLY_SCORE) for i, boxes in detections.items()
        }
        n_labeled = len(labeled)
        rows += [
            {
                "generation": generation,
                **_row(
                    "engine",
                    n_labeled,
                    score_clip(fused, truth, others),
                    train_s,
                    detect_s + track_s + fuse_s,
                ),
            },
            {
                "generation": generation,
                **_row("interpolation", n_labeled, score_clip(interp, truth, others), 0, interp_s),
            },
            {
                "generation": generation,
                **_row("tracker only", n_labeled, score_clip(tracker_only, truth, others), 0, track_s),
            },
            {
                "generation": generation,
                **_row(
                    "detector only", n_labeled, score_clip(detector_only, truth, others), train_s, detect_s
                ),
            },
        ]
        ece, mean_score = calibration_error(fused, truth, others)
        rows[-4]["calibration_error"] = round(ece, 4)
        rows[-4]["mean_score"] = round(mean_score, 4)
        for row in rows[-4:]:
            print(_format(row), flush=True)
        print(
            f"  trained {result.epochs} epochs from {result.base_weights} on {result.device}; "
            f"{len(result.trained_frames) - n_labeled} pseudo-labeled frames; next: "
            + ", ".join(f"{s.frame_index} ({s.reason})" for s in suggestions),
            flush=True,
        )
        next_frames = [s.frame_index for s in suggestions]
    return rows


def _format(row: dict[str, object]) -> str:
    return (
        f"gen {row['generation']} {row['method']:<14} labeled {row['labeled']:>3}  "
        f"recall {row['recall']:.3f}  "
        f"precision {row['precision']:.3f}  efficiency {row['efficiency']:.3f}  "
        f"add/fix/delete {row['add']}/{row['fix']}/{row['delete']}  "
        f"train {row['train_s']:.1f}s  prelabel {row['prelabel_s']:.1f}s"
        + (
            f"  score ECE {row['calibration_error']:.3f} (mean {row['mean_score']:.2f})"
            if "mean_score" in row
            else ""
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--format", choices=("otb", "vot", "mot", "json"), required=True)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--per-generation", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--time-budget", type=float, default=TrainConfig.time_budget_seconds, help="0: none")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--imgsz", type=int, default=TrainConfig.imgsz)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pseudo-labels", action="store_true", help="train on tracker pseudo-labels too")
    parser.add_argument(
        "--first",
        choices=("suggested", "even"),
        default="suggested",
        help="how generation 1's frames are chosen",
    )
    parser.add_argument(
        "--keep-track-ids",
        action="store_true",
        help="keep the truth's track ids in the oracle's labels (stripped by default: the UI sends none)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    rows = run(args)
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
