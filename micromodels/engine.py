"""The three calls the platform makes: suggest_initial, train, prelabel."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

from micromodels.calibration import agreement_samples, calibrate, fit_platt
from micromodels.checkpoints import verify_checkpoint
from micromodels.clipnet import read_checkpoint
from micromodels.clipnet_trainer import train_clipnet
from micromodels.config import PrelabelConfig, TrackerConfig, TrainConfig
from micromodels.dataset import build_dataset
from micromodels.device import resolve_device
from micromodels.errors import Cancelled, EngineError
from micromodels.frames import check_clip, check_labeled, clip_box
from micromodels.fusion import FrameNotes, detector_tracks, drop_duplicates, fuse_frame
from micromodels.predictor import load_detector, predict_frames
from micromodels.propagation import Candidate, assign_track_ids, link_tracks, propagate_tracks
from micromodels.suggest import rank_frames, suggest_initial_frames
from micromodels.threads import torch_threads
from micromodels.trainer import train_detector
from micromodels.types import (
    Box,
    Checkpoint,
    Clip,
    FrameSuggestion,
    LabeledFrame,
    PrelabelResult,
    ProgressCallback,
    StopCheck,
    TrainResult,
)

log = logging.getLogger(__name__)


def suggest_initial(clip: Clip, count: int) -> tuple[FrameSuggestion, ...]:
    """Before any label: count diverse frames (appearance and time), deterministic, with reasons."""
    check_clip(clip)
    if count < 0:
        raise EngineError("count must be >= 0")
    return suggest_initial_frames(clip, count)


def pseudo_labels(
    clip: Clip, labeled: Sequence[LabeledFrame], candidates: dict[int, list[Candidate]], config: TrainConfig
) -> list[LabeledFrame]:
    """Frames whose every human track was propagated confidently from both sides, evenly spread."""
    tracks_between: dict[int, int] = {}
    frames = sorted(labeled, key=lambda f: f.index)
    for a, b in pairwise(frames):
        common = {x.track_id for x in a.boxes} & {x.track_id for x in b.boxes}
        for i in range(a.index + 1, b.index):
            tracks_between[i] = len(common) if len(common) == len(a.boxes) == len(b.boxes) else -1
    good: list[LabeledFrame] = []
    for index, cands in sorted(candidates.items()):
        expected = tracks_between.get(index, -1)
        if expected <= 0 or len(cands) != expected:
            continue
        if all(
            len(c.options) == 1
            and c.two_sided
            and c.agreement >= 0.6
            and c.confidence >= config.pseudo_min_score
            for c in cands
        ):
            boxes = tuple(clip_box(c.options[0][0], clip.width, clip.height) for c in cands)
            good.append(LabeledFrame(index, boxes))
    if len(good) > config.pseudo_max_frames:
        step = len(good) / config.pseudo_max_frames
        good = [good[int(k * step)] for k in range(config.pseudo_max_frames)]
    return good


def choose_detector(config: TrainConfig) -> str:
    """ "clipnet" or "yolo" for config.detector ("auto": YOLO when the base weights are a YOLO file
    or a GPU is there, else ClipNet; a ClipNet checkpoint as base weights is a ClipNet warm start)."""
    if config.detector in ("clipnet", "yolo"):
        return config.detector
    if config.detector != "auto":
        raise EngineError(f"unknown detector {config.detector!r} (auto, clipnet, yolo)")
    base = Path(config.base_weights) if config.base_weights else None
    if base is not None and base.is_file():
        return "clipnet" if read_checkpoint(base) is not None else "yolo"
    return "yolo" if resolve_device(config.device).startswith("cuda") else "clipnet"


def train(
    clip: Clip,
    labeled: Sequence[LabeledFrame],
    work_dir: Path,
    config: TrainConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    tracker: TrackerConfig | None = None,
) -> TrainResult:
    """Train the clip's detector on the labeled frames (plus confident tracker pseudo-labels)."""
    wall_start = time.time()
    config = config or TrainConfig()
    check_clip(clip)
    frames = check_labeled(clip, labeled)
    if not frames:
        raise EngineError("no labeled frames to train on")
    if not any(f.boxes for f in frames):
        raise EngineError("the labeled frames have no boxes to learn from")
    work_dir.mkdir(parents=True, exist_ok=True)
    pseudo: list[LabeledFrame] = []
    if config.pseudo_labels and len(frames) >= 2:
        started = time.monotonic()
        linked = link_tracks(clip, frames, tracker or TrackerConfig(), should_stop)
        candidates = propagate_tracks(clip, frames, tracker or TrackerConfig(), should_stop, linked=linked)
        pseudo = pseudo_labels(clip, linked.frames, candidates, config)
        log.info("%d pseudo-labeled frames in %.1fs", len(pseudo), time.monotonic() - started)
    if should_stop is not None and should_stop():
        raise Cancelled("training cancelled")
    if choose_detector(config) == "clipnet":
        with torch_threads(config.cpu_threads):
            return train_clipnet(
                clip,
                [*frames, *pseudo],
                work_dir,
                config,
                progress=progress,
                should_stop=should_stop,
                wall_start=wall_start,
            )
    dataset = build_dataset(clip, frames, work_dir / "dataset", pseudo=pseudo, repeats=config.repeats)
    return train_detector(
        dataset, work_dir, config, progress=progress, should_stop=should_stop, wall_start=wall_start
    )


def detect_all(
    clip: Clip, checkpoint: Checkpoint, config: PrelabelConfig, should_stop: StopCheck | None = None
) -> dict[int, tuple[Box, ...]]:
    """Detections for every frame (boxes only are kept in memory)."""
    model = load_detector(verify_checkpoint(checkpoint))
    with torch_threads(config.cpu_threads):
        return dict(predict_frames(model, clip, list(range(len(clip.frames))), config, should_stop))


def prelabel(
    clip: Clip,
    labeled: Sequence[LabeledFrame],
    checkpoint: Checkpoint,
    work_dir: Path,
    config: PrelabelConfig | None = None,
    *,
    suggestions: int = 5,
    should_stop: StopCheck | None = None,
    use_detector: bool = True,
    use_tracker: bool = True,
) -> PrelabelResult:
    """Pre-label every frame a person did not label, and rank frames to label next."""
    started = time.monotonic()
    config = config or PrelabelConfig()
    check_clip(clip)
    frames = check_labeled(clip, labeled)
    verify_checkpoint(checkpoint)
    work_dir.mkdir(parents=True, exist_ok=True)
    detections = detect_all(clip, checkpoint, config, should_stop) if use_detector else {}
    if should_stop is not None and should_stop():
        raise Cancelled("pre-labeling cancelled")
    candidates: dict[int, list[Candidate]] = {}
    if use_tracker:  # boxes come without track ids from the UI: link them by tracking
        # The detections as they come (calibration needs the tracks first): chains compare them
        # with each other, not with the calibrated scores.
        linked = link_tracks(clip, frames, config.tracker, should_stop, detections=detections or None)
        frames = linked.frames
        candidates = propagate_tracks(clip, frames, config.tracker, should_stop, linked=linked)
    else:
        frames = assign_track_ids(frames)
    calibration = fit_platt(*agreement_samples(detections, candidates, config))
    detections = calibrate(detections, calibration)
    log.info("detector calibration from %d tracker-checked detections: %s", calibration.samples, calibration)
    boxes, ranked = fuse_all(len(clip.frames), clip, frames, detections, candidates, config, suggestions)
    labeled_at = {f.index for f in frames}
    alone = {
        index: tuple(
            clip_box(d, clip.width, clip.height) for d in dets if d.score >= config.detector_min_score
        )
        for index, dets in detections.items()
        if index not in labeled_at
    }
    return PrelabelResult(
        boxes=boxes, suggestions=ranked, seconds=time.monotonic() - started, detector_boxes=alone
    )


def fuse_all(
    n: int,
    clip: Clip,
    frames: Sequence[LabeledFrame],
    detections: dict[int, tuple[Box, ...]],
    candidates: dict[int, list[Candidate]],
    config: PrelabelConfig,
    suggestions: int,
) -> tuple[dict[int, tuple[Box, ...]], tuple[FrameSuggestion, ...]]:
    """Fused boxes for every unlabeled frame and the ranked suggestions (frames have track ids)."""
    labeled_at = {f.index for f in frames}
    notes: dict[int, FrameNotes] = {}
    fused: dict[int, list[Box]] = {}
    leftovers: dict[int, list[Box]] = {}
    for index in range(n):
        if index in labeled_at:
            continue
        note = notes.setdefault(index, FrameNotes())
        dets = detections.get(index, ())
        boxes, used = fuse_frame(candidates.get(index, []), dets, config, note)
        fused[index] = boxes
        leftovers[index] = [d for k, d in enumerate(dets) if k not in used]
    if detections:
        _end_departed_tracks(fused, candidates, config)
    next_id = 1 + max((b.track_id or 0 for f in frames for b in f.boxes), default=0)
    for track in detector_tracks(leftovers, frames, config, next_id):
        for index, box in track:
            # A lost human track's object found again by the detector keeps the track's id, unless
            # the track already has a box on this frame.
            if not any(b.track_id == box.track_id for b in fused[index]):
                fused[index].append(box)
    out: dict[int, tuple[Box, ...]] = {}
    for index, boxes in fused.items():
        kept = [
            clip_box(b, clip.width, clip.height)
            for b in drop_duplicates(boxes, config)
            if b.score >= config.min_output_score or b.source != "detector"
        ]
        out[index] = tuple(kept)
        if kept:
            notes[index].uncertainty = max(notes[index].uncertainty, 1.0 - min(b.score for b in kept))
    _track_events(out, notes)
    ranked = rank_frames(n, sorted(labeled_at), notes, suggestions, config.suggestion_spacing)
    return out, ranked


def _end_departed_tracks(
    fused: dict[int, list[Box]], candidates: dict[int, list[Candidate]], config: PrelabelConfig
) -> None:
    """End one-sided tracks (carried from one labeled frame only) where the object left: once the
    detector has backed such a track, a run of config.end_after_unbacked frames it does not back
    ends the track there (the tracker's box otherwise lingers on the background or a neighbour)."""
    runs: dict[int, list[tuple[int, int]]] = {}  # track id -> (anchor distance, frame) one-sided
    for index, cands in candidates.items():
        for c in cands:
            if not c.two_sided and index in fused:
                runs.setdefault(c.track_id, []).append((c.anchor_distance, index))
    for tid, steps in runs.items():
        # One-sided stretches of a track in different gaps are separate runs: split where frames jump.
        steps.sort(key=lambda s: s[1])
        stretches: list[list[tuple[int, int]]] = []
        for step in steps:
            if stretches and step[1] - stretches[-1][-1][1] == 1:
                stretches[-1].append(step)
            else:
                stretches.append([step])
        for stretch in stretches:
            backed_before, unbacked = False, 0
            ended_from: int | None = None
            for k, (_, index) in enumerate(sorted(stretch)):  # walking away from the labeled frame
                box = next((b for b in fused[index] if b.track_id == tid), None)
                if box is not None and box.source == "fused":
                    backed_before, unbacked = True, 0
                    continue
                unbacked += 1
                if backed_before and unbacked >= config.end_after_unbacked:
                    ended_from = k - unbacked + 1
                    break
            if ended_from is not None:
                for _, index in sorted(stretch)[ended_from:]:
                    fused[index] = [b for b in fused[index] if b.track_id != tid]


def _track_events(boxes: dict[int, tuple[Box, ...]], notes: dict[int, FrameNotes]) -> None:
    """Mark the frames where a pre-labeled track starts or ends inside the unlabeled stretch."""
    spans: dict[int, list[int]] = {}
    for index, frame_boxes in boxes.items():
        for b in frame_boxes:
            if b.track_id is not None:
                spans.setdefault(b.track_id, []).append(index)
    for tid, indices in spans.items():
        first, last = min(indices), max(indices)
        if first - 1 in boxes:  # the frame before is unlabeled, so this is a birth the model decided
            notes[first].events.append(f"track {tid} appears")
        if last + 1 in boxes:
            notes[last].events.append(f"track {tid} disappears")
