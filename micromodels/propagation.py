"""Human boxes carried to the frames between them: tracker runs forward and backward from each
labeled frame, combined per track and frame into candidates the fusion step then checks against
the detector. Also the interpolation baseline."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

import cv2
import numpy as np
from numpy.typing import NDArray

from micromodels.chains import Chain, Trellis, best_chain, eligible, follow, trellis
from micromodels.config import TrackerConfig
from micromodels.frames import read_frame
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
    chain: Box | None = None  # the detector chain's detection on this frame, when the link had one


def assign_track_ids(labeled: Sequence[LabeledFrame]) -> list[LabeledFrame]:
    """Give every human box a track id: kept when set, else linked to the previous labeled frame's box
    of the same label with the highest IoU (or nearest centre), else a new id.

    A cheap heuristic for adjacent frames only (no images needed): labeled frames far apart need
    ``link_tracks``, which follows each object with the tracker."""
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


Passes = list[dict[int, TrackedBox]]


@dataclass(frozen=True)
class LinkedTracks:
    """Labeled frames with a track id on every box, and the tracker passes that linked them.

    passes[(a, b)] holds the forward pass from labeled frame a to the next labeled frame b and the
    backward pass from b to a (as returned by ``propagate``), for reuse by ``propagate_tracks``.
    chains[(a, track id)] holds the detector chain of that track between a and the next labeled
    frame (frame index -> detection), where one was good enough (``chains.py``). ends[(a, track id)],
    for a track that ends or starts between a and the next labeled frame, is the last (or first)
    frame the detector saw its object on, where the detector has a say about it (``_detector_end``);
    elsewhere such a track is carried as far as the tracker holds it."""

    frames: list[LabeledFrame]
    passes: dict[tuple[int, int], tuple[Passes, Passes]]
    chains: dict[tuple[int, int], dict[int, Box]] = field(default_factory=dict)
    ends: dict[tuple[int, int], int] = field(default_factory=dict)


def link_tracks(
    clip: Clip,
    labeled: Sequence[LabeledFrame],
    cfg: TrackerConfig,
    should_stop: StopCheck | None = None,
    *,
    detections: Mapping[int, Sequence[Box]] | None = None,
) -> LinkedTracks:
    """Give every human box a track id by tracking, as the labeling UI sends boxes without one.

    Given ids are kept. A box without an id on labeled frame b may take the id of a box on the
    previous labeled frame a (same label) when the evidence ties them: a forward pass ends on it or
    its backward pass ends on a's box (IoU >= cfg.link_iou), the two passes meet in the gap (IoU >=
    cfg.meet_iou), a pass ends within cfg.link_distance box sizes of it, or, with detections, the
    cheapest chain of detections from one to the other costs under cfg.chain_max_cost per frame
    (``chains.best_chain``). Pairs go best first by that evidence plus cfg.link_appearance_weight
    times how alike the two boxes' colours are. A box nothing ties to a box on the other side is a
    track that ends in the gap (the object left) or starts there (it entered), never a forced match;
    without detections the only box of its label left on both frames is still taken as one object
    both passes lost when neither pass left the image (the tracker alone has no other evidence).

    The detector's silence counts only about objects it is seen to detect (a labeled box it finds on
    its own frame, ``_confirmed``) and only where it detects anything at all. A pair of boxes it does
    not both find, or with too few detections between them for a chain, is neither parted by the
    frames no detection backs nor denied the last-box-left link; a track it does not find, or whose
    object it loses where it detects nothing of the label, is not ended (or started) there: the
    tracker alone decides, as without a detector, so a detector that has learned nothing yet, or one
    that finds only the frames it trained on, leaves the tracker's pre-labels as they were."""
    frames = sorted(labeled, key=lambda f: f.index)
    used = [b.track_id for f in frames for b in f.boxes if b.track_id is not None]
    next_id = max(used, default=0) + 1
    out: list[LabeledFrame] = []
    passes: dict[tuple[int, int], tuple[Passes, Passes]] = {}
    chain_boxes: dict[tuple[int, int], dict[int, Box]] = {}
    end_at: dict[tuple[int, int], int] = {}
    previous: LabeledFrame | None = None
    for frame in frames:
        boxes = list(frame.boxes)
        grid: Trellis | None = None
        sure_a: list[bool] = []
        sure_b: list[bool] = []
        if previous is not None and (detections is not None or any(b.track_id is None for b in boxes)):
            a = previous
            fwd = propagate(clip, a.boxes, range(a.index, frame.index + 1), cfg, should_stop)
            bwd = propagate(clip, frame.boxes, range(frame.index, a.index - 1, -1), cfg, should_stop)
            passes[(a.index, frame.index)] = (fwd, bwd)
            taken: set[int | None] = {b.track_id for b in boxes if b.track_id is not None}
            look_a = appearances(read_frame(clip.frames[a.index]), a.boxes)
            look_b = appearances(read_frame(clip.frames[frame.index]), boxes)
            grid = _trellis(clip, a.index, frame.index, detections, cfg) if detections is not None else None
            if detections is not None:
                sure_a = [_confirmed(box, detections.get(a.index, ()), cfg) for box in a.boxes]
                sure_b = [_confirmed(box, detections.get(frame.index, ()), cfg) for box in boxes]
            costs: dict[tuple[int, int], Chain] = {}
            holes: set[tuple[int, int]] = set()
            for ka, box_a in enumerate(a.boxes):
                for kb, box_b in enumerate(boxes):
                    if grid is None or box_a.label != box_b.label:
                        continue
                    chain = best_chain(grid, box_a, look_a[ka], box_b, look_b[kb], cfg)
                    if chain is not None:
                        costs[(ka, kb)] = chain
                    if (
                        sure_a[ka]
                        and sure_b[kb]
                        and _unbacked_run(fwd, bwd, ka, kb, grid, cfg) > cfg.chain_max_skip
                    ):
                        # Both passes held on to something no detection, however unsure, backs: the
                        # object left, and what the passes then met does not link the two.
                        holes.add((ka, kb))
            found = {pair: chain for pair, chain in costs.items() if chain.cost < cfg.chain_max_cost}
            pairs: list[tuple[float, int, int]] = []
            for ka, box_a in enumerate(a.boxes):
                for kb, box_b in enumerate(boxes):
                    if box_a.label != box_b.label:
                        continue
                    if box_b.track_id is not None or box_a.track_id in taken:
                        continue
                    end_f = fwd[-1].get(ka) if fwd else None
                    end_b = bwd[-1].get(kb) if bwd else None
                    ends = [(end_f.box, box_b)] if end_f is not None and not end_f.lost else []
                    ends += [(end_b.box, box_a)] if end_b is not None and not end_b.lost else []
                    # Crossing people swap the tracker's boxes: how alike the two labeled boxes look
                    # weighs in, so a pass that jumped to a neighbour does not carry the id over.
                    look = cfg.link_appearance_weight * similarity(look_a[ka], look_b[kb])
                    overlap = max((iou(e, box) for e, box in ends), default=0.0)
                    meeting = _meeting(fwd, bwd, ka, kb)
                    distance = min((_centre_distance(e, box) for e, box in ends), default=math.inf)
                    evidence = max(
                        overlap if overlap >= cfg.link_iou else 0.0,
                        meeting if meeting >= cfg.meet_iou else 0.0,
                        0.5 * (1.0 - distance / cfg.link_distance) if distance < cfg.link_distance else 0.0,
                    )
                    evidence += -1.0 if (ka, kb) in holes else _chain_evidence(ka, kb, costs, found, cfg)
                    if evidence > 0:
                        pairs.append((-evidence - look, ka, kb))
            # Best pair first, by the evidence (a pass ending on the box, passes meeting inside the
            # gap as each lost the object in a different half, a pass ending close by, for an object
            # partly hidden on a labeled frame, a chain of detections) plus how alike the boxes look.
            linked_a: set[int] = set()
            for _, ka, kb in sorted(pairs):
                tid = a.boxes[ka].track_id
                if tid is None or ka in linked_a or boxes[kb].track_id is not None or tid in taken:
                    continue
                boxes[kb] = replace(boxes[kb], track_id=tid)
                linked_a.add(ka)
                taken.add(tid)
            # The detector has a say about a pair it finds both boxes of, with detections enough in the
            # gap for a chain between them (cheap or not); elsewhere the tracker's rule links them.
            judged = {(ka, kb) for ka, kb in costs if sure_a[ka] and sure_b[kb]}
            _last_left(a, boxes, fwd, bwd, linked_a, taken, judged)
            claimed: dict[int, list[Box]] = {}
            for (ka, kb), chain in found.items():
                tid = a.boxes[ka].track_id
                if tid is not None and boxes[kb].track_id == tid:
                    chain_boxes[(a.index, tid)] = _filled(
                        a.boxes[ka], a.index, boxes[kb], frame.index, chain.boxes
                    )
                    for i, box in chain.boxes.items():
                        claimed.setdefault(i, []).append(box)
        for k, box in enumerate(boxes):
            if box.track_id is None:
                boxes[k] = replace(box, track_id=next_id)
                next_id += 1
        if previous is not None and grid is not None:
            a = previous
            # Tracks that end or start in the gap: where the detector still sees their object.
            a_ids = {box.track_id for box in a.boxes}
            b_ids = {box.track_id for box in boxes}
            for step, side, sure, other in ((1, a.boxes, sure_a, b_ids), (-1, boxes, sure_b, a_ids)):
                for box, found_it in zip(side, sure, strict=True):
                    if box.track_id is None or box.track_id in other or not found_it:
                        continue  # linked, or an object the detector is not seen to detect
                    seen = follow(grid, box, step, claimed, cfg)
                    chain_boxes[(a.index, box.track_id)] = seen
                    end = _detector_end(grid, seen, step, box.label, cfg)
                    if end is not None:
                        end_at[(a.index, box.track_id)] = end
        previous = LabeledFrame(frame.index, tuple(boxes))
        out.append(previous)
    return LinkedTracks(out, passes, chain_boxes, end_at)


def _confirmed(box: Box, detections: Sequence[Box], cfg: TrackerConfig) -> bool:
    """The detector finds this labeled box on its own frame (a detection of its label, raw score >=
    cfg.chain_min_score, IoU >= cfg.confirm_iou): it is seen to detect this object, so where it no
    longer does, that says something."""
    return any(
        d.label == box.label and d.score >= cfg.chain_min_score and iou(d, box) >= cfg.confirm_iou
        for d in detections
    )


def _detector_end(
    grid: Trellis, seen: Mapping[int, Box], step: int, label: int, cfg: TrackerConfig
) -> int | None:
    """The last frame (step 1; the first, step -1) the detector saw a one-sided track's object on,
    when that is where the object left: on every frame ``follow`` searched after it without finding
    the object, the detector saw something of its label (it was detecting, not silent). None when
    the detector was silent there: its silence then says nothing, and the tracker carries the track."""
    last = max(seen, default=grid.first) if step > 0 else min(seen, default=grid.last)
    searched = [last + step * k for k in range(1, cfg.chain_max_skip + 2)]
    inside = [i for i in searched if grid.first < i < grid.last]
    if all(any(d.label == label for d in grid.nodes.get(i, ())) for i in inside):
        return last
    return None


def _filled(start: Box, first: int, end: Box, last: int, chain: dict[int, Box]) -> dict[int, Box]:
    """The chain with the frames it skipped (at most cfg.chain_max_skip in a row) filled by
    interpolating between its neighbouring boxes: one object's path, so it moved between them."""
    known = {first: start, **chain, last: end}
    steps = sorted(known)
    out = dict(chain)
    for i, j in pairwise(steps):
        for k in range(i + 1, j):
            box = lerp(known[i], known[j], (k - i) / (j - i))
            out[k] = replace(box, score=min(known[i].score, known[j].score), source="interpolation")
    return out


def _unbacked_run(fwd: Passes, bwd: Passes, ka: int, kb: int, grid: Trellis, cfg: TrackerConfig) -> int:
    """The most frames in a row on which neither seed ka's forward pass nor seed kb's backward pass
    has a box that any detection, however unsure, overlaps (IoU >= cfg.link_iou); frames without
    any detection at all are skipped (a silent detector backs nothing and denies nothing)."""
    run = longest = 0
    for k in range(len(fwd) - 1):
        seen = grid.seen.get(grid.first + k + 1, [])
        if not seen:
            continue  # the detector saw nothing at all here: silence, neither backing nor not
        boxes = [
            t.box for t in (fwd[k].get(ka), bwd[len(fwd) - 2 - k].get(kb)) if t is not None and not t.lost
        ]
        backed = any(iou(box, d) >= cfg.link_iou for box in boxes for d in seen)
        run = 0 if backed else run + 1
        longest = max(longest, run)
    return longest


def _chain_evidence(
    ka: int,
    kb: int,
    costs: Mapping[tuple[int, int], Chain],
    found: Mapping[tuple[int, int], Chain],
    cfg: TrackerConfig,
) -> float:
    """What the detector chains say about linking box ka to box kb, -1..1: for, as much as their
    chain costs less per frame than cfg.chain_max_cost (a chain of misses); against, as much as a
    good chain ties either box to another partner more cheaply (the detector explains it better
    otherwise). A weak detector, whose chains skip many frames, neither links nor parts anything."""
    own = costs.get((ka, kb))
    if own is None:
        return 0.0
    rivals = [c.cost for (i, j), c in found.items() if (i == ka) != (j == kb)]
    against = max(0.0, min(1.0, own.cost - min(rivals))) if rivals else 0.0
    return max(0.0, min(1.0, cfg.chain_max_cost - own.cost)) - against


def _last_left(
    a: LabeledFrame,
    boxes: list[Box],
    fwd: Passes,
    bwd: Passes,
    linked_a: set[int],
    taken: set[int | None],
    judged: set[tuple[int, int]],
) -> None:
    """The only box of its label left on each side, when neither pass saw it leave the image, is one
    object both passes lost (two objects that crossed, say); unless the detector judged the pair
    (judged: it finds both boxes and a chain runs between them), whose chains did not link them."""
    for label in {box.label for box in boxes if box.track_id is None}:
        left_a = [
            ka
            for ka, box in enumerate(a.boxes)
            if box.label == label and ka not in linked_a and box.track_id not in taken
        ]
        left_b = [kb for kb, box in enumerate(boxes) if box.label == label and box.track_id is None]
        if (
            len(left_a) == len(left_b) == 1
            and (left_a[0], left_b[0]) not in judged
            and not _left_image(fwd, left_a[0])
            and not _left_image(bwd, left_b[0])
        ):
            boxes[left_b[0]] = replace(boxes[left_b[0]], track_id=a.boxes[left_a[0]].track_id)


def _trellis(
    clip: Clip, first: int, last: int, detections: Mapping[int, Sequence[Box]], cfg: TrackerConfig
) -> Trellis:
    looks: dict[int, NDArray[np.float32]] = {}
    for i in range(first + 1, last):
        nodes = eligible(detections.get(i, ()), cfg)
        rows = appearances(read_frame(clip.frames[i]), nodes) if nodes else []
        looks[i] = np.array(rows, np.float32) if rows else np.zeros((0, _BINS), np.float32)
    return trellis(first, last, detections, looks, cfg)


_BINS = 8 * 4 * 4  # colour histogram bins (hue x saturation x value)


def appearances(image: NDArray[np.uint8], boxes: Sequence[Box]) -> list[NDArray[np.float32]]:
    """A colour histogram (HSV 8x4x4) of each box's inner part (edges hold background)."""
    out: list[NDArray[np.float32]] = []
    h_img, w_img = image.shape[:2]
    for b in boxes:
        x0, x1 = int(max(0, b.x + 0.15 * b.w)), int(min(w_img, b.x + 0.85 * b.w))
        y0, y1 = int(max(0, b.y + 0.1 * b.h)), int(min(h_img, b.y + 0.9 * b.h))
        if x1 - x0 < 2 or y1 - y0 < 2:
            out.append(np.zeros(_BINS, np.float32))
            continue
        hsv = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
        hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).flatten()
        out.append((hist / max(1e-6, float(hist.sum()))).astype(np.float32))
    return out


def similarity(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """1 - the Bhattacharyya distance of two normalised histograms: 1 alike, 0 nothing in common
    (the distance, not the coefficient, which crowds every pair of people near 1)."""
    return 1.0 - math.sqrt(max(0.0, 1.0 - float(np.sqrt(a * b).sum())))


def _meeting(fwd: Passes, bwd: Passes, ka: int, kb: int) -> float:
    """The best IoU of seed ka's forward pass and seed kb's backward pass on one frame between."""
    best = 0.0
    for k in range(len(fwd) - 1):
        tf, tb = fwd[k].get(ka), bwd[len(fwd) - 2 - k].get(kb)
        if tf is not None and tb is not None and not tf.lost and not tb.lost:
            best = max(best, iou(tf.box, tb.box))
    return best


def _left_image(passes: Passes, seed: int) -> bool:
    return any(step.get(seed) is None or step[seed].lost for step in passes)


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


def _reliability(end_iou: float, cfg: TrackerConfig) -> float:
    """How much to trust a pass given how well it reproduced the labeled box at its far end (a pass
    that missed it entirely still counts a little: it may have lost the object only near the end)."""
    return 0.2 + 0.8 * min(1.0, end_iou / cfg.reliable_end_iou)


def propagate_tracks(
    clip: Clip,
    labeled: Sequence[LabeledFrame],
    cfg: TrackerConfig,
    should_stop: StopCheck | None = None,
    *,
    linked: LinkedTracks | None = None,
) -> dict[int, list[Candidate]]:
    """Candidates for every unlabeled frame, from tracker passes between consecutive labeled frames
    (and outward from the first and last one).

    Boxes without a track id are linked by ``link_tracks`` first; pass its result as ``linked`` (then
    ``labeled`` is not used) to reuse its tracker passes and to know the ids it gave."""
    if linked is None:
        linked = link_tracks(clip, labeled, cfg, should_stop)
    frames = linked.frames
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
        fwd, bwd = linked.passes.get((a.index, b.index)) or (
            propagate(clip, a.boxes, range(a.index, b.index + 1), cfg, should_stop),
            propagate(clip, b.boxes, range(b.index, a.index - 1, -1), cfg, should_stop),
        )
        a_ids = {box.track_id or 0: k for k, box in enumerate(a.boxes)}
        b_ids = {box.track_id or 0: k for k, box in enumerate(b.boxes)}
        gap = b.index - a.index
        for tid, ka in a_ids.items():
            kb = b_ids.get(tid)
            if kb is None:  # the track ends somewhere in the gap: forward pass only
                seen = linked.chains.get((a.index, tid))
                until = linked.ends.get((a.index, tid), b.index)
                for k in range(gap - 1):
                    ahead = fwd[k].get(ka)
                    if ahead is not None and not ahead.lost and a.index + k + 1 <= until:
                        cand = _one_sided(a.boxes[ka], ahead, k + 1)
                        out[a.index + k + 1].append(replace(cand, chain=(seen or {}).get(a.index + k + 1)))
                continue
            end_f = fwd[-1].get(ka)
            end_b = bwd[-1].get(kb)
            rel_f = _reliability(iou(end_f.box, b.boxes[kb]) if end_f else 0.0, cfg)
            rel_b = _reliability(iou(end_b.box, a.boxes[ka]) if end_b else 0.0, cfg)
            check = AppearanceCheck(clip, [(a.index, a.boxes[ka]), (b.index, b.boxes[kb])], cfg)
            chain = linked.chains.get((a.index, tid), {})
            for k in range(gap - 1):
                i = a.index + k + 1
                tf, tb = fwd[k].get(ka), bwd[gap - 2 - k].get(kb)
                interp = lerp(a.boxes[ka], b.boxes[kb], (i - a.index) / gap)
                made = _two_sided(
                    tid,
                    tf,
                    tb,
                    rel_f * (b.index - i) / gap,
                    rel_b * (i - a.index) / gap,
                    interp,
                    min(i - a.index, b.index - i),
                    check,
                    i,
                    cfg.mix_iou,
                )
                out[i].append(replace(made, chain=chain.get(i)))
        for tid, kb in b_ids.items():  # tracks born in the gap: backward pass only
            if tid in a_ids:
                continue
            seen = linked.chains.get((a.index, tid))
            since = linked.ends.get((a.index, tid), a.index)
            for k in range(gap - 1):
                behind = bwd[k].get(kb)
                if behind is not None and not behind.lost and b.index - k - 1 >= since:
                    cand = _one_sided(b.boxes[kb], behind, k + 1)
                    out[b.index - k - 1].append(replace(cand, chain=(seen or {}).get(b.index - k - 1)))
    return {i: _drop_duplicates(cands, cfg) for i, cands in out.items()}


def _drop_duplicates(cands: list[Candidate], cfg: TrackerConfig) -> list[Candidate]:
    """Drop a one-sided candidate on the same object as a two-sided one (or a nearer one-sided one):
    a track that ends in a gap and one that starts there may both follow an object the linking missed."""
    if len(cands) < 2 or all(c.two_sided for c in cands):
        return cands
    kept = [c for c in cands if c.two_sided]
    for c in sorted((c for c in cands if not c.two_sided), key=lambda c: (c.anchor_distance, -c.confidence)):
        box = c.options[0][0]
        if not any(
            k.options[0][0].label == box.label and iou(k.options[0][0], box) > cfg.duplicate_iou for k in kept
        ):
            kept.append(c)
    return [c for c in cands if any(c is k for k in kept)]


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
    mix_iou: float,
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
        if agreement >= mix_iou:
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
