"""Human boxes carried to the frames between them: tracker runs forward and backward from each
labeled frame, combined per track and frame into candidates the fusion step then checks against
the detector. Also the interpolation baseline."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from micromodels.config import TrackerConfig
from micromodels.metrics import iou
from micromodels.tracking import AppearanceCheck, TrackedBox, propagate
from micromodels.types import Box, Clip, LabeledFrame, StopCheck


@dataclass(frozen=True)
class Candidate:
    """Where one human track probably is on one unlabeled frame."""

    track_id: int
    options: tuple[tuple[Box, float], ...]  # (box, weight), best first; two when the passes disagree
    agreement: float  # IoU of the forward and backward boxes; 0 when only one pass reached here
    confidence: float  # tracker confidence (NCC), 0..1
    anchor_distance: int  # frames to the nearest labeled frame with this track
    two_sided: bool  # a labeled frame with this track lies on both sides
    interpolated: Box | None = None


def assign_track_ids(labeled: Sequence[LabeledFrame]) -> list[LabeledFrame]:
    """Give every human box a track id: kept when set, else linked to the previous labeled frame's box
    of the same label with the highest IoU (or nearest centre), else a new id."""
    used = [b.track_id for f in labeled for b in f.boxes if b.track_id is not None]
    next_id = max(used, default=0) + 1
    out: list[LabeledFrame] = []
    previous: tuple[Box, ...] = ()
    for frame in sorted(labeled, key=lambda f: f.index):
        taken = {b.track_id for b in frame.boxes if b.track_id is not None}
        boxes: list[Box] = []
        for box in frame.boxes:
            if box.track_id is None:
                options = [p for p in previous if p.label == box.label and p.track_id not in taken]
                best = min(options, key=lambda p: _centre_distance(p, box) - iou(p, box), default=None)
                if best is not None and _centre_distance(best, box) < 2.0:
                    box = replace(box, track_id=best.track_id)
                else:
                    box = replace(box, track_id=next_id)
                    next_id += 1
                taken.add(box.track_id or 0)
            boxes.append(box)
        previous = tuple(boxes)
        out.append(LabeledFrame(frame.index, previous))
    return out


def _centre_distance(a: Box, b: Box) -> float:
    """Centre distance in units of the boxes' mean size."""
    d = math.hypot(a.x + a.w / 2 - b.x - b.w / 2, a.y + a.h / 2 - b.y - b.h / 2)
    return d / max(1.0, (a.w + a.h + b.w + b.h) / 4)


def lerp(a: Box, b: Box, t: float) -> Box:
    return Box(
        a.x + (b.x - a.x) * t,
        a.y + (b.y - a.y) * t,
        a.w + (b.w - a.w) * t,
        a.h + (b.h - a.h) * t,
        a.label,
        1.0,
        a.track_id,
        "interpolation",
    )


def interpolate(labeled: Sequence[LabeledFrame], n_frames: int) -> dict[int, tuple[Box, ...]]:
    """Linear interpolation of each track between its labeled frames (the baseline; no extrapolation)."""
    frames = assign_track_ids(labeled)
    labeled_at = {f.index for f in frames}
    out: dict[int, list[Box]] = {i: [] for i in range(n_frames) if i not in labeled_at}
    for a, b in pairwise(frames):
        ends = {box.track_id: box for box in b.boxes}
        for box in a.boxes:
            end = ends.get(box.track_id)
            if end is None:
                continue
            for i in range(a.index + 1, b.index):
                out[i].append(lerp(box, end, (i - a.index) / (b.index - a.index)))
    return {i: tuple(v) for i, v in out.items()}


MIX_IOU = 0.3  # forward and backward boxes overlapping this much are averaged, else one is chosen


def _reliability(end_iou: float) -> float:
    """How much to trust a pass given how well it reproduced the labeled box at its far end."""
    return 0.2 + 0.8 * min(1.0, end_iou / 0.7)


def propagate_tracks(
    clip: Clip, labeled: Sequence[LabeledFrame], cfg: TrackerConfig, should_stop: StopCheck | None = None
) -> dict[int, list[Candidate]]:
    """Candidates for every unlabeled frame, from tracker passes between consecutive labeled frames
    (and outward from the first and last one)."""
    frames = assign_track_ids(labeled)
    n = len(clip.frames)
    out: dict[int, list[Candidate]] = {i: [] for i in range(n)}
    for f in frames:
        out.pop(f.index, None)
    if not frames:
        return out
    # Before the first and after the last labeled frame: one pass outward.
    for frame, stop, step in ((frames[0], -1, -1), (frames[-1], n, 1)):
        passes = propagate(clip, frame.boxes, range(frame.index, stop, step), cfg, should_stop)
        for k, tracked in enumerate(passes):
            index = frame.index + step * (k + 1)
            for seed, one in tracked.items():
                if not one.lost:
                    out[index].append(_one_sided(frame.boxes[seed], one, k + 1))
    for a, b in pairwise(frames):
        if b.index - a.index < 2:
            continue
        fwd = propagate(clip, a.boxes, range(a.index, b.index + 1), cfg, should_stop)
        bwd = propagate(clip, b.boxes, range(b.index, a.index - 1, -1), cfg, should_stop)
        a_ids = {box.track_id or 0: k for k, box in enumerate(a.boxes)}
        b_ids = {box.track_id or 0: k for k, box in enumerate(b.boxes)}
        gap = b.index - a.index
        for tid, ka in a_ids.items():
            kb = b_ids.get(tid)
            if kb is None:  # the track ends somewhere in the gap: forward pass only
                for k in range(gap - 1):
                    ahead = fwd[k].get(ka)
                    if ahead is not None and not ahead.lost:
                        out[a.index + k + 1].append(_one_sided(a.boxes[ka], ahead, k + 1))
                continue
            end_f = fwd[-1].get(ka)
            end_b = bwd[-1].get(kb)
            rel_f = _reliability(iou(end_f.box, b.boxes[kb]) if end_f else 0.0)
            rel_b = _reliability(iou(end_b.box, a.boxes[ka]) if end_b else 0.0)
            check = AppearanceCheck(clip, [(a.index, a.boxes[ka]), (b.index, b.boxes[kb])], cfg)
            for k in range(gap - 1):
                i = a.index + k + 1
                tf, tb = fwd[k].get(ka), bwd[gap - 2 - k].get(kb)
                interp = lerp(a.boxes[ka], b.boxes[kb], (i - a.index) / gap)
                out[i].append(
                    _two_sided(
                        tid,
                        tf,
                        tb,
                        rel_f * (b.index - i) / gap,
                        rel_b * (i - a.index) / gap,
                        interp,
                        min(i - a.index, b.index - i),
                        check,
                        i,
                    )
                )
        for tid, kb in b_ids.items():  # tracks born in the gap: backward pass only
            if tid in a_ids:
                continue
            for k in range(gap - 1):
                behind = bwd[k].get(kb)
                if behind is not None and not behind.lost:
                    out[b.index - k - 1].append(_one_sided(b.boxes[kb], behind, k + 1))
    return out


def _one_sided(seed: Box, t: TrackedBox, distance: int) -> Candidate:
    tid = seed.track_id if seed.track_id is not None else 0
    return Candidate(tid, ((t.box, t.confidence),), 0.0, t.confidence, distance, False)


def _two_sided(
    tid: int,
    tf: TrackedBox | None,
    tb: TrackedBox | None,
    wf: float,
    wb: float,
    interp: Box,
    distance: int,
    check: AppearanceCheck,
    index: int,
) -> Candidate:
    options: list[tuple[Box, float]] = []
    if tf is not None and not tf.lost:
        options.append((tf.box, wf * max(tf.confidence, 0.05)))
    if tb is not None and not tb.lost:
        options.append((tb.box, wb * max(tb.confidence, 0.05)))
    if not options:
        return Candidate(tid, ((interp, 0.1),), 0.0, 0.0, distance, True, interp)
    confidence = max(t.confidence for t in (tf, tb) if t is not None and not t.lost)
    if len(options) == 2:
        (bf, w1), (bb, w2) = options
        agreement = iou(bf, bb)
        if agreement >= MIX_IOU:
            s = w1 + w2
            mixed = _mix(bf, w1, bb, w2, confidence, tid)
            return Candidate(tid, ((mixed, s),), agreement, confidence, distance, True, interp)
        # The passes disagree: weigh each by how much it looks like the object on both labeled frames.
        # When they still overlap, their average is a third hypothesis (same object, different extents).
        boxes = [bf, bb]
        weights = [w1, w2]
        if agreement > 0.0:
            boxes.append(_mix(bf, w1, bb, w2, confidence, tid))
            weights.append((w1 + w2) / 2)
        looks = check.scores(index, boxes)
        options = sorted(
            ((b, w * max(0.05, look)) for b, w, look in zip(boxes, weights, looks, strict=True)),
            key=lambda o: -o[1],
        )
        return Candidate(tid, tuple(options), agreement, confidence, distance, True, interp)
    return Candidate(tid, tuple(options), 0.0, confidence, distance, True, interp)


def _mix(a: Box, wa: float, b: Box, wb: float, score: float, tid: int) -> Box:
    s = wa + wb
    return Box(
        (a.x * wa + b.x * wb) / s,
        (a.y * wa + b.y * wb) / s,
        (a.w * wa + b.w * wb) / s,
        (a.h * wa + b.h * wb) / s,
        a.label,
        score,
        tid,
        "tracker",
    )
