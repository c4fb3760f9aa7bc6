"""Replay benchmark: the labeling loop with an oracle labeler that labels exactly the suggested frames.

    python -m micromodels.replay --frames DIR --truth FILE --format otb|vot|mot|json \\
        [--generations 3] [--per-generation 5] [--work DIR] [--time-budget S] [--epochs N] [--imgsz PX]
        [--pseudo-labels] [--first suggested|even] [--keep-track-ids] [--detector auto|clipnet|yolo]
        [--no-warm-start] [--reuse-checkpoints] [--json OUT]

Each generation calls the engine's own ``train`` and ``prelabel`` (the code the platform runs), warm
starting from the previous generation's checkpoint as the platform does. Per generation it prints, on
the frames nobody labeled: recall and precision at IoU 0.5, label efficiency, human actions still
needed (add/fix/delete), seconds for training and pre-labeling, the engine's expected calibration
error, how many of the suggested frames carry a wrong pre-label, peak RSS; and the same figures for
the baselines from the same labeled frames: linear interpolation (with the truth's track ids), the
tracker alone (``prelabel(use_detector=False)``) and the detector alone
(``PrelabelResult.detector_boxes``; it trained on the labeled frames only, so every frame scored is
one it never saw).

The oracle's boxes come without track ids, as the labeling UI sends them, so the engine links them
itself; --keep-track-ids passes the truth's ids instead.

--reuse-checkpoints (with --work) keeps a generation's checkpoint from an earlier run into the same
folder when that generation labeled the same frames, instead of training again: comparing two
versions of fusion or linking on the same detector removes the training noise of a loaded CPU. The
train seconds printed are then the earlier run's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from micromodels.checkpoints import file_sha256
from micromodels.config import PrelabelConfig, TrainConfig
from micromodels.engine import prelabel, suggest_initial, train
from micromodels.frames import clip_box
from micromodels.metrics import Score, calibration_error, score_clip
from micromodels.propagation import interpolate
from micromodels.truth import load_frames, read_truth
from micromodels.types import Box, Checkpoint, LabeledFrame


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


def _wrong_frames(
    boxes: dict[int, tuple[Box, ...]], truth: dict[int, tuple[Box, ...]], frames: list[int]
) -> set[int]:
    """Frames whose pre-label a labeler would have to change (an add, a fix or a delete)."""
    wrong = set()
    for index in frames:
        s = score_clip(boxes, truth, [index])
        if s.add or s.fix or s.delete:
            wrong.add(index)
    return wrong


def run(args: argparse.Namespace) -> list[dict[str, object]]:
    probe = load_frames(args.frames, ("object",))
    truth, names = read_truth(args.truth, args.format, len(probe.frames))
    clip = replace(probe, class_names=names)
    # Truth boxes that run past the image edge (MOT does) are labeled as their visible part, as a
    # person drawing on the frame would.
    truth = {i: tuple(clip_box(b, clip.width, clip.height) for b in bs) for i, bs in truth.items()}
    work = args.work or Path(tempfile.mkdtemp(prefix="replay_"))
    train_cfg = TrainConfig(
        time_budget_seconds=args.time_budget or None,
        epochs=args.epochs,
        imgsz=args.imgsz,
        seed=args.seed,
        pseudo_labels=args.pseudo_labels,
        detector=args.detector,
        clipnet_max_steps=args.clipnet_steps,
    )
    pre_cfg = PrelabelConfig(imgsz=args.imgsz)
    rows: list[dict[str, object]] = []
    labeled: dict[int, LabeledFrame] = {}
    if args.first == "even":  # the README protocol: evenly spaced frames, first and last included
        count = max(1, min(args.per_generation, len(clip.frames)))
        next_frames = sorted({round(k * (len(clip.frames) - 1) / max(1, count - 1)) for k in range(count)})
    else:
        next_frames = [s.frame_index for s in suggest_initial(clip, args.per_generation)]
    previous: Path | None = None
    for generation in range(1, args.generations + 1):
        for index in next_frames:
            # The oracle labels the suggested frames; like the labeling UI, without track ids.
            boxes = (
                truth[index]
                if args.keep_track_ids
                else tuple(replace(b, track_id=None) for b in truth[index])
            )
            labeled[index] = LabeledFrame(index, boxes)
        frames = list(labeled.values())
        others = [i for i in range(len(clip.frames)) if i not in labeled]
        gen_dir = work / f"gen{generation}"
        # Warm start from the previous generation's checkpoint, as the platform does.
        cfg = replace(train_cfg, base_weights=str(previous) if previous and args.warm_start else None)
        cached = _cached_training(gen_dir, sorted(labeled)) if args.reuse_checkpoints else None
        if cached is not None:
            checkpoint, train_s, model = cached
        else:
            t0 = time.monotonic()
            result = train(clip, frames, gen_dir, cfg)
            train_s = time.monotonic() - t0
            checkpoint, model = result.checkpoint, result.model
            _record_training(gen_dir, sorted(labeled), checkpoint, train_s, model)
        previous = checkpoint.path
        t0 = time.monotonic()
        pre = prelabel(
            clip, frames, checkpoint, gen_dir / "prelabel", pre_cfg, suggestions=args.per_generation
        )
        prelabel_s = time.monotonic() - t0
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.monotonic()
        tracker_only = prelabel(
            clip, frames, checkpoint, gen_dir / "tracker", pre_cfg, suggestions=0, use_detector=False
        )
        track_s = time.monotonic() - t0
        t0 = time.monotonic()
        # Interpolation with the truth's track ids: the strongest form of that baseline.
        interp = interpolate([LabeledFrame(i, truth[i]) for i in sorted(labeled)], len(clip.frames))
        interp_s = time.monotonic() - t0
        n_labeled = len(labeled)
        engine_row = _row("engine", n_labeled, score_clip(pre.boxes, truth, others), train_s, prelabel_s)
        ece, mean_score = calibration_error(pre.boxes, truth, others)
        det_ece, _ = calibration_error(pre.detector_boxes, truth, others)
        wrong = _wrong_frames(pre.boxes, truth, others)
        hits = sum(1 for s in pre.suggestions if s.frame_index in wrong)
        engine_row.update(
            calibration_error=round(ece, 4),
            mean_score=round(mean_score, 4),
            detector_calibration_error=round(det_ece, 4),
            wrong_frames=len(wrong),
            suggestion_hits=hits,
            suggestions=len(pre.suggestions),
            generation_s=round(train_s + prelabel_s, 1),
            peak_rss_mb=round(rss_mb),
            model=model,
        )
        detector_score = score_clip(pre.detector_boxes, truth, others)
        rows += [
            {"generation": generation, **engine_row},
            {
                "generation": generation,
                **_row("interpolation", n_labeled, score_clip(interp, truth, others), 0, interp_s),
            },
            {
                "generation": generation,
                **_row("tracker only", n_labeled, score_clip(tracker_only.boxes, truth, others), 0, track_s),
            },
            {
                "generation": generation,
                **_row("detector only", n_labeled, detector_score, train_s, prelabel_s),
            },
        ]
        for row in rows[-4:]:
            print(_format(row), flush=True)
        cached_note = " (cached checkpoint)" if cached else ""
        print(
            f"  {model}{cached_note}; one generation {train_s + prelabel_s:.1f}s, peak RSS {rss_mb:.0f} MB; "
            f"detector-alone ECE {det_ece:.3f}; suggestions: {hits} of {len(pre.suggestions)} carry a wrong "
            f"pre-label ({len(wrong)} frames do); next: "
            + ", ".join(f"{s.frame_index} ({s.reason})" for s in pre.suggestions),
            flush=True,
        )
        next_frames = [s.frame_index for s in pre.suggestions]
    return rows


def _cached_training(gen_dir: Path, labeled: list[int]) -> tuple[Checkpoint, float, str] | None:
    """An earlier run's checkpoint for this generation when it trained on the same frames."""
    record = gen_dir / "replay_training.json"
    if not record.is_file():
        return None
    data = json.loads(record.read_text())
    path = Path(data["checkpoint"])
    if data["labeled"] != labeled or not path.is_file() or file_sha256(path) != data["sha256"]:
        return None
    return Checkpoint(path, data["sha256"]), float(data["train_s"]), str(data["model"])


def _record_training(
    gen_dir: Path, labeled: list[int], checkpoint: Checkpoint, train_s: float, model: str
) -> None:
    record = {
        "labeled": labeled,
        "checkpoint": str(checkpoint.path),
        "sha256": checkpoint.sha256,
        "train_s": train_s,
        "model": model,
    }
    (gen_dir / "replay_training.json").write_text(json.dumps(record))


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
    parser.add_argument(
        "--clipnet-steps",
        type=int,
        default=TrainConfig.clipnet_max_steps,
        help="ClipNet step cap per generation",
    )
    parser.add_argument("--detector", choices=("auto", "clipnet", "yolo"), default=TrainConfig.detector)
    parser.add_argument(
        "--no-warm-start", dest="warm_start", action="store_false", help="train every generation from scratch"
    )
    parser.add_argument(
        "--reuse-checkpoints",
        action="store_true",
        help="with --work: reuse a generation's checkpoint from an earlier run on the same labeled frames",
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
