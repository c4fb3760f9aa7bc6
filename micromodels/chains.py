"""Detector chains: which labeled boxes on two labeled frames are one object, decided by the detector.

Between labeled frames a and b, the detections on the frames in between form a trellis. For each box
A on a and each box B on b (same label), the cheapest chain of detections from A to B (Viterbi, at
most one detection per frame, frames without one allowed at a cost) says how well one object can be
followed from A to B on evidence of the frames themselves: motion (centre shift and size change in
units of the box's size, against the steady motion from A to B, allowing the detections'
localisation noise and a random walk whose variance grows with the frame gap, and each detection's
distance from the straight path between A and B, which a random walk pinned at both may leave most
in the middle of the gap),
detector score, and likeness of each detection's colours to both labeled boxes. The chain's cost per
frame of the gap is independent of the gap's length and of the objects' size, so one threshold
holds on any clip: a pair whose best chain costs more is not the same object by the detector's
account. A box without a good chain is a track that ends in the gap (an object that left) or starts
there (one that entered), never a forced match.

The chain's detections are also where the object is on those frames, which fusion uses as a
hypothesis beside the tracker's boxes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from micromodels.config import TrackerConfig
from micromodels.types import Box

Looks = NDArray[np.float32]  # one normalised colour histogram per row


@dataclass(frozen=True)
class Chain:
    """The best chain of detections from a box on frame a to a box on frame b."""

    cost: float  # per frame of the gap (lower: more surely one object)
    boxes: dict[int, Box]  # frame index -> the chain's detection there (frames it skipped are absent)


@dataclass(frozen=True)
class Trellis:
    """The detections between two labeled frames that may carry a chain, with their colours."""

    first: int  # frame index of the labeled frame a
    last: int  # frame index of the labeled frame b
    nodes: dict[int, list[Box]]  # frame index -> eligible detections (score >= cfg.chain_min_score)
    seen: dict[int, list[Box]]  # frame index -> every detection, however unsure
    looks: dict[int, Looks]  # frame index -> histograms of those detections, one row each


def trellis(
    first: int,
    last: int,
    detections: Mapping[int, Sequence[Box]],
    looks_of: Mapping[int, Looks],
    cfg: TrackerConfig,
) -> Trellis:
    """The trellis between labeled frames first and last; looks_of[i] holds the colours of the
    eligible detections of frame i in order (see ``eligible``)."""
    nodes = {i: eligible(detections.get(i, ()), cfg) for i in range(first + 1, last)}
    seen = {i: list(detections.get(i, ())) for i in nodes}
    return Trellis(first, last, nodes, seen, {i: looks_of[i] for i in nodes})


def eligible(detections: Sequence[Box], cfg: TrackerConfig) -> list[Box]:
    return [d for d in detections if d.score >= cfg.chain_min_score]


def _size(b: Box) -> float:
    return math.sqrt(max(1.0, b.w) * max(1.0, b.h))


def _rate(a: Box, b: Box, gap: int) -> NDArray[np.float64]:
    """The motion from a to b, gap frames apart, per frame: centre x, y in box sizes (the geometric
    mean of the two), log w, log h."""
    size = math.sqrt(_size(a) * _size(b))
    return np.array(
        [
            (b.x + b.w / 2 - a.x - a.w / 2) / size / gap,
            (b.y + b.h / 2 - a.y - a.h / 2) / size / gap,
            math.log(max(1.0, b.w) / max(1.0, a.w)) / gap,
            math.log(max(1.0, b.h) / max(1.0, a.h)) / gap,
        ]
    )


def _transition(
    p: Sequence[Box], q: Sequence[Box], gap: int, rate: NDArray[np.float64], cfg: TrackerConfig
) -> NDArray[np.float64]:
    """Cost of going from each box in p to each box in q, gap frames later (len(p) x len(q)).

    The shift and the log size change are compared with what the pair's own labeled boxes imply
    (rate: centre x, y per frame in box sizes, log w, log h per frame), allowing each detection's
    localisation noise plus a random walk that grows with the gap."""
    pa = np.array([[b.x + b.w / 2, b.y + b.h / 2, max(1.0, b.w), max(1.0, b.h)] for b in p], np.float64)
    qa = np.array([[b.x + b.w / 2, b.y + b.h / 2, max(1.0, b.w), max(1.0, b.h)] for b in q], np.float64)
    size = np.sqrt(np.sqrt(pa[:, None, 2] * pa[:, None, 3]) * np.sqrt(qa[None, :, 2] * qa[None, :, 3]))
    dx = (qa[None, :, 0] - pa[:, None, 0]) / size - rate[0] * gap
    dy = (qa[None, :, 1] - pa[:, None, 1]) / size - rate[1] * gap
    dw = np.log(qa[None, :, 2] / pa[:, None, 2]) - rate[2] * gap
    dh = np.log(qa[None, :, 3] / pa[:, None, 3]) - rate[3] * gap
    place = 2 * cfg.chain_place_sigma**2 + cfg.chain_motion_sigma**2 * gap
    extent = 2 * cfg.chain_extent_sigma**2 + cfg.chain_resize_sigma**2 * gap
    motion = (dx**2 + dy**2) / place + (dw**2 + dh**2) / extent
    labels = np.array([b.label for b in p])[:, None] != np.array([b.label for b in q])[None, :]
    return np.where(labels, np.inf, motion + cfg.chain_miss_cost * (gap - 1))


def _bridge(
    here: Sequence[Box], start: Box, end: Box, done: int, gap: int, size: float, cfg: TrackerConfig
) -> NDArray[np.float64]:
    """Cost of each box's distance from the straight path between the labeled boxes, done frames
    after start: a random walk pinned at both labeled boxes (a Brownian bridge) may stray most in
    the middle of the gap, by cfg.chain_motion_sigma * sqrt(done * (gap - done) / gap) box sizes."""
    t = done / gap
    cx = (1 - t) * (start.x + start.w / 2) + t * (end.x + end.w / 2)
    cy = (1 - t) * (start.y + start.h / 2) + t * (end.y + end.h / 2)
    xy = np.array([[b.x + b.w / 2, b.y + b.h / 2] for b in here], np.float64)
    shift = ((xy[:, 0] - cx) ** 2 + (xy[:, 1] - cy) ** 2) / size**2
    spread = cfg.chain_place_sigma**2 + cfg.chain_motion_sigma**2 * done * (gap - done) / gap
    return np.asarray(shift / spread, np.float64)


def _likeness(looks: Looks, look: Looks) -> NDArray[np.float64]:
    """1 - Bhattacharyya distance of each row of looks to one histogram (as propagation.similarity)."""
    if len(looks) == 0:
        return np.zeros(0)
    coefficient = np.sqrt(looks.astype(np.float64) * look.astype(np.float64)[None, :]).sum(axis=1)
    return np.asarray(1.0 - np.sqrt(np.clip(1.0 - coefficient, 0.0, 1.0)), np.float64)


def best_chain(
    grid: Trellis, start: Box, start_look: Looks, end: Box, end_look: Looks, cfg: TrackerConfig
) -> Chain | None:
    """The cheapest chain from start (on grid.first) to end (on grid.last), or None when none is
    possible (a stretch longer than cfg.chain_max_skip frames without a detection to step on)."""
    gap = grid.last - grid.first
    if start.label != end.label or gap < 1:
        return None
    frames = sorted(grid.nodes)
    size = math.sqrt(_size(start) * _size(end))
    rate = _rate(start, end, gap)
    # costs[i]: best cost of a chain from start ending on each node of frame i; back[i]: where from.
    costs: dict[int, NDArray[np.float64]] = {grid.first: np.zeros(1)}
    back: dict[int, NDArray[np.int64]] = {}
    back_frame: dict[int, NDArray[np.int64]] = {}
    boxes: dict[int, Sequence[Box]] = {grid.first: [start]}
    for i in [*frames, grid.last]:
        here: Sequence[Box] = grid.nodes[i] if i != grid.last else [end]
        if not here:
            continue
        if i == grid.last:
            node = np.zeros(1)
        else:
            # Alike both labeled boxes: a chain that changes object half way looks like each only
            # on its own half.
            look = (_likeness(grid.looks[i], start_look) + _likeness(grid.looks[i], end_look)) / 2
            score = np.array([b.score for b in here])
            node = (
                cfg.chain_score_weight * (1.0 - score)
                + cfg.chain_look_weight * (1.0 - look)
                + _bridge(here, start, end, i - grid.first, gap, size, cfg)
            )
        best = np.full(len(here), np.inf)
        arg = np.zeros(len(here), np.int64)
        arg_frame = np.full(len(here), -1, np.int64)
        for j in range(max(grid.first, i - cfg.chain_max_skip - 1), i):
            if j not in costs:
                continue
            total = costs[j][:, None] + _transition(boxes[j], here, i - j, rate, cfg)
            k = np.argmin(total, axis=0)
            value = total[k, np.arange(len(here))]
            better = value < best
            best[better], arg[better], arg_frame[better] = value[better], k[better], j
        if not np.isfinite(best).any():
            continue
        costs[i] = best + node
        back[i], back_frame[i] = arg, arg_frame
        boxes[i] = here
    if grid.last not in costs:
        return None
    chain: dict[int, Box] = {}
    i, k = grid.last, 0
    while i != grid.first:
        j, k = int(back_frame[i][k]), int(back[i][k])
        if j != grid.first:
            chain[j] = boxes[j][k]
        i = j
    return Chain(float(costs[grid.last][0]) / gap, chain)


def follow(
    grid: Trellis, start: Box, step: int, claimed: Mapping[int, Sequence[Box]], cfg: TrackerConfig
) -> dict[int, Box]:
    """Where the detector sees the object of a box whose track ends (step 1, from grid.first) or
    starts (step -1, from grid.last) inside the gap: frame by frame the unclaimed detection that
    fits its motion best (cost at most cfg.chain_gate; velocity from the last two it stepped on),
    until cfg.chain_max_skip frames in a row have none (the object left, or is someone else's)."""
    out: dict[int, Box] = {}
    last, last_at = start, grid.first if step > 0 else grid.last
    rate = np.zeros(4)
    i = last_at + step
    while grid.first < i < grid.last and abs(i - last_at) <= cfg.chain_max_skip + 1:
        taken = claimed.get(i, ())
        free = [d for d in grid.nodes.get(i, []) if d.label == start.label and not any(d is c for c in taken)]
        if free:
            gap = abs(i - last_at)
            cost = _transition([last], free, gap, rate, cfg)[0] - cfg.chain_miss_cost * (gap - 1)
            k = int(np.argmin(cost))
            if cost[k] <= cfg.chain_gate:
                box = free[k]
                rate = _rate(last, box, gap)
                out[i], last, last_at = box, box, i
        i += step
    return out
