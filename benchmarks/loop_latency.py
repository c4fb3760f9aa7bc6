"""Loop latency and overhead (issue 14, item 1), side by side in one invocation.

    python benchmarks/loop_latency.py [--frames 200] [--width 640] [--height 480] [--objects 4]
                                      [--steps 300] [--budget 120] [--generations 2]
                                      [--yolo-epochs 3] [--no-raw] [--json FILE]
    python benchmarks/loop_latency.py --cache-ab 3 [--steps 100]   # only the frame cache A/B

On one generated clip (fixtures/make_clips.py) it measures:

1. **platform**: an embedded instance (benchmarks/platform_loop.py: SQLite, file-system broker,
   ``manage.py run_worker`` and gunicorn as separate processes). Per generation the oracle labeler
   finishes the 5 suggested frames through the REST API; auto-train queues the run; the wall time
   from the 5th frame's accept-all response to "pre-labels visible" (the run succeeded and its boxes
   listed through the API) is split with the generation row's ``metrics["timings"]`` into queue wait,
   setup (before the first training step), training, pre-labeling and commit. "Visible" is the
   row's ``finished_at`` (same host, same clock) plus listing the boxes, so the poll interval (1.5 s,
   as the workspace polls) adds neither latency nor load; what is left ("rest") is the broker's
   delivery, the transaction's commit, the box listing and the labeler's last ``leave`` call.
2. **engine alone**: right after each platform generation (the worker idle), ``micromodels.train``
   and ``micromodels.prelabel`` called in this process on the same frame files (those the platform
   stored at ingest) with the same labeled boxes and the same settings (ClipNet, ``--steps``
   optimiser steps, the platform's image size and suggestion count), the frame cache cleared before
   generation 1 as a fresh worker has it.
3. **raw Ultralytics** (unless ``--no-raw``): ``YOLO("yolo11n.yaml").train`` on the engine's dataset
   of the generation-1 frames and ``YOLO.predict`` over every frame fed by ``cv2.imread``; beside it the
   engine's YOLO path (``TrainConfig(detector="yolo")``, same epochs and image size): its detector
   pass and its whole pre-labeling (detector, tracker passes, fusion, suggestions).

Training is bounded by steps (``--steps``, the budget set high enough not to cut it), so the
platform and the engine do the same work. It prints every figure and the ratios with the targets:
setup <= 2 s, platform total <= 1.10x the engine alone, engine pre-label throughput >= 0.9x raw
Ultralytics predict fed by raw OpenCV decode.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gpu_generation import make_inputs  # noqa: E402
from platform_loop import (  # noqa: E402
    DONE,
    PASSWORD,
    USERNAME,
    Client,
    embedded_instance,
    label_round,
    upload_clip,
)

from micromodels.types import Box, Clip, LabeledFrame  # noqa: E402

IMGSZ = 320  # the platform's default ANNOTATE_TRAIN_IMGSZ
SUGGESTIONS = 5  # the platform's default ANNOTATE_SUGGESTIONS
POLL = 1.5  # seconds between reads of the generation row, as the workspace polls (training.js)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--objects", type=int, default=4)
    parser.add_argument("--steps", type=int, default=300, help="ClipNet optimiser steps per generation")
    parser.add_argument("--budget", type=int, default=120, help="training time budget, s (above the steps)")
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--yolo-epochs", type=int, default=3)
    parser.add_argument("--no-raw", action="store_true", help="skip the Ultralytics comparison")
    parser.add_argument(
        "--cache-ab",
        type=int,
        default=0,
        metavar="N",
        help="only the frame cache A/B: N rounds of engine pre-labeling with the cache off, cold, warm",
    )
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


# -- 1. the platform ---------------------------------------------------------------------------------


def run_platform(
    args: argparse.Namespace,
    work: Path,
    frames: list[Path],
    classes: list[str],
    truth: dict[int, tuple[Box, ...]],
    engine: EngineAlone,
) -> list[dict[str, Any]]:
    """Each platform generation, then the engine alone on the same labeled frames while the worker
    idles: the two runs of a pair see about the same load from the rest of the machine."""
    os.environ["ANNOTATE_CLIPNET_MAX_STEPS"] = str(args.steps)
    os.environ["ANNOTATE_TRAIN_DEVICE"] = "cpu"
    os.environ["ANNOTATE_TRAIN_IMGSZ"] = str(IMGSZ)
    os.environ["ANNOTATE_SUGGESTIONS"] = str(SUGGESTIONS)
    rows: list[dict[str, Any]] = []
    with embedded_instance(work / "instance", time_budget=args.budget, epochs=None) as instance:
        client = Client(instance.base_url)
        client.token = client.post("/api/auth/token/", {"username": USERNAME, "password": PASSWORD})["token"]
        project = client.post(
            "/api/projects/", {"name": "latency", "classes": [{"name": n} for n in classes]}
        )
        listed = sorted(
            client.list(f"/api/projects/{project['id']}/classes/"), key=lambda c: c.get("order", 0)
        )
        by_name = {c["name"]: c["id"] for c in listed}
        class_ids = [by_name[n] for n in classes]
        video = upload_clip(client, project["id"], "latency", frames)
        vid = video["id"]
        # The engine alone and raw Ultralytics read the very files the worker reads (the ingested
        # frames, re-encoded by the platform), not the generated PNGs.
        stored = sorted((instance.data_dir / "media" / "frames" / str(vid)).iterdir())
        if len(stored) != len(frames):
            raise RuntimeError(f"{len(stored)} stored frames for {len(frames)} uploaded")
        engine.clip = replace(engine.clip, frames=tuple(stored))
        labeled: list[int] = []
        for _ in range(args.generations):
            done = label_round(client, vid, truth, class_ids, SUGGESTIONS)
            finished_wall = time.time() - (time.monotonic() - done.last_finished)
            labeled += done.frames
            gen = client.request("POST", f"/api/videos/{vid}/generations/", {})  # the run auto-train queued
            while gen["status"] not in DONE:
                time.sleep(POLL)
                gen = client.get(f"/api/generations/{gen['id']}/")
            if gen["status"] != "succeeded":
                raise RuntimeError(f"generation {gen['number']} {gen['status']}: {gen.get('error')}")
            listing = time.monotonic()
            client.get(f"/api/videos/{vid}/boxes/?frame_start=0&frame_end={len(frames) - 1}")
            listing = time.monotonic() - listing
            # Same host, same clock: the row's finished_at, not when a poll happened to see it.
            ended = datetime.fromisoformat(gen["finished_at"].replace("Z", "+00:00")).timestamp()
            visible = ended - finished_wall + listing
            timings = dict(gen["metrics"].get("timings") or {})
            rows.append(
                {
                    "generation": gen["number"],
                    "labeled": sorted(labeled),
                    "total_s": round(visible, 3),
                    **timings,
                    "rest_s": round(
                        visible
                        - sum(
                            timings.get(k, 0.0)
                            for k in ("queue_wait_s", "setup_s", "train_s", "prelabel_s", "commit_s")
                        ),
                        3,
                    ),
                    "model": gen["model"],
                }
            )
            print(f"platform gen {gen['number']}: {json.dumps(rows[-1])}", flush=True)
            engine.generation(sorted(labeled))
    if client.errors:
        raise RuntimeError(f"HTTP errors: {client.errors}")
    return rows


# -- 2. the engine alone -----------------------------------------------------------------------------


def labeled_frames(indices: list[int], truth: dict[int, tuple[Box, ...]]) -> list[LabeledFrame]:
    """The truth boxes of these frames, without track ids (as the oracle drew them in the platform)."""
    return [
        LabeledFrame(i, tuple(replace(b, track_id=None, source="human") for b in truth[i]))
        for i in sorted(indices)
    ]


class EngineAlone:
    """The engine called directly in this process, one generation at a time, as the platform runs it."""

    def __init__(
        self, args: argparse.Namespace, work: Path, clip: Clip, truth: dict[int, tuple[Box, ...]]
    ) -> None:
        from micromodels.frames import clear_frame_cache

        clear_frame_cache()  # a fresh worker starts with none
        self.args, self.work, self.clip, self.truth = args, work, clip, truth
        self.base: str | None = None
        self.rows: list[dict[str, Any]] = []

    def generation(self, indices: list[int]) -> dict[str, Any]:
        import micromodels
        from micromodels import PrelabelConfig, TrainConfig
        from micromodels.frames import frame_cache_stats

        number = len(self.rows) + 1
        labeled = labeled_frames(indices, self.truth)
        config = TrainConfig(
            base_weights=self.base,
            clipnet_max_steps=self.args.steps,
            time_budget_seconds=float(self.args.budget),
            imgsz=IMGSZ,
            device="cpu",
        )
        folder = self.work / f"engine-{number}"
        t0 = time.monotonic()
        trained = micromodels.train(self.clip, labeled, folder, config)
        train_wall = time.monotonic() - t0
        t1 = time.monotonic()
        pre_cfg = PrelabelConfig(imgsz=IMGSZ, device="cpu")
        micromodels.prelabel(self.clip, labeled, trained.checkpoint, folder, pre_cfg, suggestions=SUGGESTIONS)
        prelabel_s = time.monotonic() - t1
        self.base = str(trained.checkpoint.path)
        stats = frame_cache_stats()
        row = {
            "generation": number,
            "total_s": round(train_wall + prelabel_s, 3),
            "setup_s": round(train_wall - trained.seconds, 3),
            "train_s": round(trained.seconds, 3),
            "prelabel_s": round(prelabel_s, 3),
            "cache_hits": stats.hits,
            "cache_misses": stats.misses,
            "model": trained.model,
        }
        self.rows.append(row)
        print(f"engine gen {number}: {json.dumps(row)}", flush=True)
        return row


# -- 3. raw Ultralytics beside the engine's YOLO path -------------------------------------------------


def run_raw(
    args: argparse.Namespace, work: Path, clip: Clip, truth: dict[int, tuple[Box, ...]], indices: list[int]
) -> dict[str, Any]:
    import cv2

    import micromodels
    from micromodels import PrelabelConfig, TrainConfig
    from micromodels.dataset import build_dataset
    from micromodels.device import ultralytics_offline
    from micromodels.engine import detect_all
    from micromodels.frames import clear_frame_cache

    labeled = labeled_frames(indices, truth)
    pre_cfg = PrelabelConfig(imgsz=IMGSZ, device="cpu")
    config = TrainConfig(
        detector="yolo", epochs=args.yolo_epochs, time_budget_seconds=None, imgsz=IMGSZ, device="cpu"
    )
    t0 = time.monotonic()
    trained = micromodels.train(clip, labeled, work / "engine-yolo", config)
    engine_train = time.monotonic() - t0
    clear_frame_cache()  # the raw predict below decodes every frame: so does the engine here
    t0 = time.monotonic()
    detect_all(clip, trained.checkpoint, pre_cfg)
    engine_detect = time.monotonic() - t0
    clear_frame_cache()
    t0 = time.monotonic()
    micromodels.prelabel(
        clip, labeled, trained.checkpoint, work / "engine-yolo", pre_cfg, suggestions=SUGGESTIONS
    )
    engine_prelabel = time.monotonic() - t0

    ultralytics_offline()
    from ultralytics import YOLO

    dataset = build_dataset(clip, labeled, work / "raw-dataset", repeats=config.repeats)
    raw = YOLO(config.model)
    t0 = time.monotonic()
    raw.train(
        data=str(dataset.yaml_path),
        epochs=args.yolo_epochs,
        imgsz=IMGSZ,
        batch=config.batch,
        device="cpu",
        workers=0,
        project=str(work),
        name="raw",
        exist_ok=True,
        plots=False,
        val=False,
        amp=False,
        verbose=False,
        pretrained=False,
    )
    raw_train = time.monotonic() - t0
    if raw.trainer is None:
        raise RuntimeError("raw ultralytics training did not start")
    model = YOLO(str(Path(raw.trainer.last)))
    t0 = time.monotonic()
    for start in range(0, len(clip.frames), pre_cfg.batch):
        images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in clip.frames[start : start + pre_cfg.batch]]
        model.predict(
            images, imgsz=IMGSZ, conf=pre_cfg.detector_conf, iou=pre_cfg.nms_iou, device="cpu", verbose=False
        )
    raw_predict = time.monotonic() - t0
    n = len(clip.frames)
    return {
        "epochs": args.yolo_epochs,
        "engine_train_s": round(engine_train, 3),
        "raw_train_s": round(raw_train, 3),
        "engine_detect_s": round(engine_detect, 3),
        "engine_prelabel_s": round(engine_prelabel, 3),
        "raw_predict_s": round(raw_predict, 3),
        "engine_detect_fps": round(n / engine_detect, 2),
        "engine_prelabel_fps": round(n / engine_prelabel, 2),
        "raw_predict_fps": round(n / raw_predict, 2),
    }


# -- the frame cache, A/B in one process ---------------------------------------------------------------


def run_cache_ab(args: argparse.Namespace, work: Path, clip: Clip, truth: dict[int, tuple[Box, ...]]) -> None:
    """On the frames re-encoded as the platform stores them (JPEG), one ClipNet generation, then its
    pre-labeling repeated in rounds of three, back to back in this process: cache off, cache on and
    cold (a fresh worker's first generation), cache on and warm (the next generation of the same
    clip). Alternating within each round spreads the machine's load over the three alike."""
    import cv2

    import micromodels
    from annotate.ingest import JPEG_QUALITY
    from micromodels import PrelabelConfig, TrainConfig
    from micromodels.frames import (
        DEFAULT_FRAME_CACHE_BYTES,
        clear_frame_cache,
        read_frame,
        set_frame_cache_limit,
    )

    jpegs = work / "jpeg"  # the frames as the platform stores them at ingest
    jpegs.mkdir(parents=True, exist_ok=True)
    for k, path in enumerate(clip.frames):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise RuntimeError(f"cannot read the generated frame {path}")
        cv2.imwrite(str(jpegs / f"{k:06d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    clip = replace(clip, frames=tuple(sorted(jpegs.iterdir())))
    for _ in range(3):  # what one read costs: decoding the file, or a copy out of the cache
        t0 = time.perf_counter()
        for path in clip.frames:
            cv2.imread(str(path), cv2.IMREAD_COLOR)
        decode_ms = 1000 * (time.perf_counter() - t0) / len(clip.frames)
        clear_frame_cache()
        for path in clip.frames:
            read_frame(path)
        t0 = time.perf_counter()
        for path in clip.frames:
            read_frame(path)
        hit_ms = 1000 * (time.perf_counter() - t0) / len(clip.frames)
        print(
            f"one frame: cv2.imread {decode_ms:.2f} ms, read_frame from the cache {hit_ms:.2f} ms", flush=True
        )
    step = max(1, (len(clip.frames) - 1) // (SUGGESTIONS - 1))
    labeled = labeled_frames(sorted({min(k * step, len(clip.frames) - 1) for k in range(SUGGESTIONS)}), truth)
    config = TrainConfig(clipnet_max_steps=args.steps, time_budget_seconds=float(args.budget), device="cpu")
    trained = micromodels.train(clip, labeled, work / "ab", config)
    pre_cfg = PrelabelConfig(imgsz=IMGSZ, device="cpu")
    seconds: dict[str, list[float]] = {"off": [], "cold": [], "warm": []}
    for _ in range(args.cache_ab):
        for mode in seconds:
            if mode != "warm":
                clear_frame_cache()
            set_frame_cache_limit(0 if mode == "off" else DEFAULT_FRAME_CACHE_BYTES)
            t0 = time.monotonic()
            micromodels.prelabel(
                clip, labeled, trained.checkpoint, work / "ab", pre_cfg, suggestions=SUGGESTIONS
            )
            seconds[mode].append(round(time.monotonic() - t0, 3))
            print(f"pre-label, cache {mode}: {seconds[mode][-1]:.2f} s", flush=True)
    medians = {mode: sorted(values)[len(values) // 2] for mode, values in seconds.items()}
    print(f"frame cache A/B over {args.cache_ab} rounds, seconds: {json.dumps(seconds)}")
    print(
        f"median pre-label s: off {medians['off']:.2f}, cold {medians['cold']:.2f} "
        f"({medians['off'] / medians['cold']:.2f}x), warm {medians['warm']:.2f} "
        f"({medians['off'] / medians['warm']:.2f}x)"
    )


# -- report ------------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


HEADER = (
    "| gen | platform total s | queue wait | setup | train | pre-label | commit | rest "
    "| engine alone total s | engine setup | engine train | engine pre-label | platform / engine "
    "| platform / its own engine calls |"
)


def report(
    platform: list[dict[str, Any]], engine: list[dict[str, Any]], raw: dict[str, Any] | None
) -> dict[str, Any]:
    """The table and the ratios against the targets. "Its own engine calls": the platform's total over
    the training and pre-labeling seconds its worker measured around the same engine calls, the
    platform's share without the run-to-run noise of two separate runs on a shared machine."""
    print("\n" + HEADER)
    print("|---" * (HEADER.count("|") - 1) + "|")
    ratios, own = [], []
    for p, e in zip(platform, engine, strict=True):
        ratios.append(p["total_s"] / e["total_s"])
        own.append(p["total_s"] / (p["train_s"] + p["prelabel_s"]))
        cells = [p["total_s"], p.get("queue_wait_s", float("nan")), p["setup_s"], p["train_s"]]
        cells += [p["prelabel_s"], p["commit_s"], p["rest_s"], e["total_s"], e["setup_s"], e["train_s"]]
        cells += [e["prelabel_s"]]
        text = " | ".join(f"{c:.2f}" for c in cells)
        print(f"| {p['generation']} | {text} | {ratios[-1]:.3f} | {own[-1]:.3f} |")
    summary: dict[str, Any] = {
        "setup_s": [p["setup_s"] for p in platform],
        "setup_target_met": all(p["setup_s"] <= 2.0 for p in platform),
        "platform_over_engine": [round(r, 3) for r in ratios],
        "platform_over_own_engine_calls": [round(r, 3) for r in own],
        "overhead_target_met": all(r <= 1.10 for r in ratios),
    }
    print(f"\nsetup (target <= 2 s): {summary['setup_s']} -> {_verdict(summary['setup_target_met'])}")
    print(
        f"platform total / engine alone (target <= 1.10x): {summary['platform_over_engine']} "
        f"-> {_verdict(summary['overhead_target_met'])}; over its own engine calls: "
        f"{summary['platform_over_own_engine_calls']}"
    )
    if raw is not None:
        print(f"\nraw Ultralytics beside the engine's YOLO path (imgsz {IMGSZ}): {json.dumps(raw)}")
        detect_ratio = raw["engine_detect_fps"] / raw["raw_predict_fps"]
        prelabel_ratio = raw["engine_prelabel_fps"] / raw["raw_predict_fps"]
        summary |= {
            "engine_detect_over_raw": round(detect_ratio, 3),
            "engine_prelabel_over_raw": round(prelabel_ratio, 3),
            "throughput_target_met": prelabel_ratio >= 0.9,
            "engine_train_over_raw": round(raw["engine_train_s"] / raw["raw_train_s"], 3),
        }
        print(f"engine detector pass / raw predict, frames/s: {detect_ratio:.3f}")
        print(
            f"engine pre-labeling / raw predict, frames/s (target >= 0.9x): {prelabel_ratio:.3f} "
            f"-> {_verdict(prelabel_ratio >= 0.9)}"
        )
        print(f"engine YOLO training / raw training, s: {summary['engine_train_over_raw']:.3f}")
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="loop_latency_"))
    args.labeled = SUGGESTIONS  # make_inputs also picks evenly spaced frames; the platform's are used
    clip, _, truth = make_inputs(args, work)  # gpu_generation's clip: fixtures/make_clips.py
    frames, classes = list(clip.frames), list(clip.class_names)
    size = f"{args.frames} frames {args.width}x{args.height}, {args.objects} objects"
    print(f"clip: {size}; load average {os.getloadavg()}", flush=True)
    if args.cache_ab:
        run_cache_ab(args, work, clip, truth)
        return 0
    engine = EngineAlone(args, work, clip, truth)
    platform = run_platform(args, work, frames, classes, truth, engine)
    raw = None if args.no_raw else run_raw(args, work, engine.clip, truth, platform[0]["labeled"])
    summary = report(platform, engine.rows, raw)
    print(f"load average at the end {os.getloadavg()}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"platform": platform, "engine": engine.rows, "raw": raw, "summary": summary}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
