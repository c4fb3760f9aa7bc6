"""Fuse tracker candidates, interpolation and detections into one pre-label per track and frame.

Per human track and frame: of the track's hypotheses (the forward and backward tracker boxes, their
mix, and the detector chain's detection that linked the track, ``chains.py``, unless both tracker
passes agree on that object), the one a detection backs most wins, and a confident backing detection
pulls the box toward itself (weight ``detector_pull``); an unbacked box falls back to the
interpolation between the labeled boxes where the tracker is unsure or its passes part ways.
Detections left over are linked into tracks (IoU, frame to frame); a detector-only track is shown
when it is long and confident enough and every labeled frame it reaches has a box there, whose track
id it then takes. Two output boxes on one object are never both kept (``drop_duplicates``). Every
threshold is a PrelabelConfig field.

The score is a logistic of the evidence (tracker NCC, forward/backward agreement, detector support
with the detector's calibrated score, distance to the nearest label) with fixed prior weights, not
fit to any clip; its measured calibration (the replay prints the expected calibration error) is in
docs/benchmarks.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from micromodels.config import PrelabelConfig
from micromodels.metrics import iou
from micromodels.propagation import Candidate
from micromodels.types import Box, LabeledFrame


@dataclass
class FrameNotes:
    """What the suggestion ranking needs to know about one unlabeled frame."""

    disagreement: float = 0.0  # 1 - IoU between tracker passes or between tracker and detector
    uncertainty: float = 0.0  # 1 - lowest fused score on the frame
    events: list[str] = field(default_factory=list)  # track births/deaths, detector-only objects


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _score(confidence: float, agreement: float, support: float, distance: int, two_sided: bool) -> float:
    z = (
        -2.0
        + 2.5 * confidence
        + 1.5 * agreement
        + 2.5 * support
        - 0.03 * distance
        + (0.5 if two_sided else 0)
    )
    return _sigmoid(z)


def _average(a: Box, wa: float, b: Box, wb: float) -> Box:
    s = wa + wb
    return replace(
        a,
        x=(a.x * wa + b.x * wb) / s,
        y=(a.y * wa + b.y * wb) / s,
        w=(a.w * wa + b.w * wb) / s,
        h=(a.h * wa + b.h * wb) / s,
    )


def _best_detection(box: Box, detections: Sequence[Box], used: set[int]) -> tuple[int, float]:
    best, best_iou = -1, 0.0
    for k, d in enumerate(detections):
        if k in used or d.label != box.label:
            continue
        v = iou(box, d)
        if v > best_iou:
            best, best_iou = k, v
    return best, best_iou


def _support(box: Box, det: Box, overlap: float, cfg: PrelabelConfig) -> float:
    """How much a detection backs a box: its (calibrated) score, discounted when it overlaps loosely."""
    return det.score * min(1.0, overlap / cfg.full_support_iou)


def fuse_frame(
    candidates: Sequence[Candidate], detections: Sequence[Box], cfg: PrelabelConfig, notes: FrameNotes
) -> tuple[list[Box], set[int]]:
    """Fused boxes of the human tracks on one frame, and the detections they used.

    Each track's hypotheses (the tracker options, and the interpolation between its labeled boxes)
    are checked against the detections: the one a detection backs most wins (ties: the tracker's
    weight), and a backing detection pulls the box onto itself (the detector sees the object's
    extent on this very frame, the tracker carries it from elsewhere). A hypothesis nothing backs is
    kept when the tracker is sure of it; a one-sided track nothing backs and the tracker has lost is
    taken as gone (the object left)."""
    used: set[int] = set()
    out: list[Box] = []
    for cand in sorted(candidates, key=lambda c: -c.confidence):
        if cand.two_sided:  # forward and backward passes should land on the same box
            notes.disagreement = max(notes.disagreement, 1.0 - cand.agreement)
        hypotheses = [(box, w) for box, w in cand.options]
        if cand.interpolated is not None and cfg.interpolation_weight > 0:
            hypotheses.append((cand.interpolated, cfg.interpolation_weight))
        total = sum(w for _, w in hypotheses) or 1.0
        # The chain's detection is a hypothesis weighed as much as all the tracker's options together,
        # except where the tracker is sure: both passes agree on a box on the chain's object. There
        # the detection backs and pulls that box as any detection does (a tracker sure from both
        # sides localises better than one detection; where its passes part, the chain corrects it).
        sure = cand.two_sided and cand.agreement >= cfg.chain_defer_agreement
        if cand.chain is not None and not (
            sure and any(iou(box, cand.chain) >= cfg.match_iou for box, _ in cand.options)
        ):
            hypotheses.append((replace(cand.chain, track_id=cand.track_id), cfg.chain_weight * total))
            total += cfg.chain_weight * total
        best: tuple[float, Box, int, float] | None = None
        for box, w in hypotheses:
            k, overlap = _best_detection(box, detections, used)
            support = (
                _support(box, detections[k], overlap, cfg) if k >= 0 and overlap >= cfg.match_iou else 0.0
            )
            value = support + cfg.tracker_weight * w / total
            if best is None or value > best[0]:
                best = (value, box, k if support > 0 else -1, overlap)
        assert best is not None
        _, choice, k, overlap = best
        box, support = choice, 0.0
        if k >= 0:
            det = detections[k]
            support = _support(choice, det, overlap, cfg)
            notes.disagreement = max(
                notes.disagreement, 1.0 - overlap if det.score >= cfg.confirm_score else 0.0
            )
            if det.score >= cfg.confirm_score:
                box = _average(choice, max(cand.confidence, 0.1), det, cfg.detector_pull * det.score)
            used.add(k)
        elif cand.interpolated is not None and (
            cand.confidence < cfg.interpolate_below
            or (cand.two_sided and cand.agreement < cfg.interpolate_disagreement)
        ):
            box = cand.interpolated
        if support == 0.0 and not cand.two_sided and cand.confidence < cfg.one_sided_min_confidence:
            continue  # a one-sided track the detector no longer sees and the tracker lost: gone
        score = _score(cand.confidence, cand.agreement, support, cand.anchor_distance, cand.two_sided)
        source = "fused" if support > 0 else box.source
        out.append(replace(box, score=round(score, 4), track_id=cand.track_id, source=source))
    return out, used


def drop_duplicates(boxes: Sequence[Box], cfg: PrelabelConfig) -> list[Box]:
    """Never two boxes on one object: of boxes overlapping more than cfg.duplicate_iou, the one of a
    human track (else the higher score) stays."""
    order = sorted(boxes, key=lambda b: (b.source == "detector", -b.score))
    kept: list[Box] = []
    for b in order:
        if not any(k.label == b.label and iou(k, b) > cfg.duplicate_iou for k in kept):
            kept.append(b)
    return kept


def _link(leftovers: Mapping[int, Sequence[Box]], cfg: PrelabelConfig) -> list[list[tuple[int, Box]]]:
    """Greedy IoU linking of detections into tracks, allowing one missed frame."""
    tracks: list[list[tuple[int, Box]]] = []
    open_tracks: list[list[tuple[int, Box]]] = []
    for index in sorted(leftovers):
        open_tracks = [t for t in open_tracks if index - t[-1][0] <= cfg.link_max_gap]
        taken: set[int] = set()
        for det in sorted(leftovers[index], key=lambda d: -d.score):
            best, best_iou = None, cfg.link_iou
            for t in open_tracks:
                if id(t) in taken or t[-1][1].label != det.label:
                    continue
                v = iou(t[-1][1], det)
                if v >= best_iou:
                    best, best_iou = t, v
            if best is None:
                best = []
                tracks.append(best)
                open_tracks.append(best)
            best.append((index, det))
            taken.add(id(best))
    return tracks


def detector_tracks(
    leftovers: Mapping[int, Sequence[Box]],
    labeled: Sequence[LabeledFrame],
    cfg: PrelabelConfig,
    first_id: int,
) -> list[list[tuple[int, Box]]]:
    """Detector-only tracks worth showing: (frame index, box) with track ids and scores.

    A track that reaches a labeled frame must match a box there (a labeled frame has every object
    boxed, so anything else is a false alarm), and then takes that box's track id: it is the same
    object, which the tracker lost. Otherwise it is an object nobody labeled (one that entered and
    left between labeled frames) and gets a new id."""
    by_index = {f.index: f.boxes for f in labeled}
    kept: list[list[tuple[int, Box]]] = []
    next_id = first_id
    for track in _link(leftovers, cfg):
        if len(track) < cfg.new_track_min_length:
            continue
        mean = sum(b.score for _, b in track) / len(track)
        if mean < cfg.new_track_score:
            continue
        start, end = track[0][0], track[-1][0]
        contradicted = False
        adopted: int | None = None
        for index, human in by_index.items():
            if start - 1 <= index <= end + 1:
                near = min(track, key=lambda t: abs(t[0] - index))[1]
                matches = [h for h in human if h.label == near.label and iou(near, h) >= cfg.match_iou]
                if not matches:
                    contradicted = True
                    break
                adopted = max(matches, key=lambda h: iou(near, h)).track_id
        if contradicted:
            continue
        tid = adopted if adopted is not None else next_id
        score = _sigmoid(-3.0 + 4.0 * mean + 0.05 * min(len(track), 20))
        kept.append(
            [
                (i, replace(b, track_id=tid, score=round(min(score, b.score + 0.2), 4), source="detector"))
                for i, b in track
            ]
        )
        if adopted is None:
            next_id += 1
    return kept
