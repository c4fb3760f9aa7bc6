"""Fuse tracker candidates, interpolation and detections into one pre-label per track and frame.

Per human track and frame: when the forward and backward tracker passes disagree, the detector
arbitrates (the option a confident detection supports wins); a weak tracker box that a confident
detection overlaps is pulled onto the detection; where no tracker pass holds, the interpolation
between the labeled boxes is used. Detections left over are linked into tracks (IoU, frame to frame);
a detector-only track is shown when it is long and confident enough and no labeled frame it spans
contradicts it (a labeled frame has every object boxed).

The score is a logistic of the evidence (tracker NCC, forward/backward agreement, detector support,
distance to the nearest label) with fixed prior weights, not fit to any clip; its measured
calibration (the replay prints the expected calibration error) is in docs/benchmarks.md.
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


def fuse_frame(
    candidates: Sequence[Candidate], detections: Sequence[Box], cfg: PrelabelConfig, notes: FrameNotes
) -> tuple[list[Box], set[int]]:
    """Fused boxes of the human tracks on one frame, and the detections they used."""
    used: set[int] = set()
    out: list[Box] = []
    for cand in sorted(candidates, key=lambda c: -c.confidence):
        choice = cand.options[0][0]
        k, overlap = _best_detection(choice, detections, used)
        if cand.two_sided:  # forward and backward passes should land on the same box
            notes.disagreement = max(notes.disagreement, 1.0 - cand.agreement)
        if len(cand.options) > 1:
            # Pick the option the detector supports most (ties: the heavier tracker option).
            scored = []
            for box, w in cand.options:
                kk, ov = _best_detection(box, detections, used)
                support = detections[kk].score * ov if kk >= 0 else 0.0
                scored.append((support + 0.5 * w, box, w, kk, ov))
            scored.sort(key=lambda s: -s[0])
            _, choice, _, k, overlap = scored[0]
        support = 0.0
        box = choice
        if k >= 0 and overlap >= cfg.match_iou:
            det = detections[k]
            support = det.score * min(1.0, overlap / 0.7)
            notes.disagreement = max(
                notes.disagreement, 1.0 - overlap if det.score >= cfg.confirm_score else 0.0
            )
            if det.score >= cfg.confirm_score and cand.confidence < 0.5:
                box = _average(choice, max(cand.confidence, 0.1), det, det.score)
            used.add(k)
        elif cand.confidence < 0.3 and cand.interpolated is not None:
            box = cand.interpolated
        score = _score(cand.confidence, cand.agreement, support, cand.anchor_distance, cand.two_sided)
        if not cand.two_sided and support == 0.0 and cand.confidence < cfg.tracker.min_confidence:
            continue  # a one-sided track the detector no longer sees: treat it as gone
        source = "fused" if support > 0 else box.source
        out.append(replace(box, score=round(score, 4), track_id=cand.track_id, source=source))
    return out, used


def _link(leftovers: Mapping[int, Sequence[Box]], cfg: PrelabelConfig) -> list[list[tuple[int, Box]]]:
    """Greedy IoU linking of detections into tracks, allowing one missed frame."""
    tracks: list[list[tuple[int, Box]]] = []
    open_tracks: list[list[tuple[int, Box]]] = []
    for index in sorted(leftovers):
        open_tracks = [t for t in open_tracks if index - t[-1][0] <= 2]
        taken: set[int] = set()
        for det in sorted(leftovers[index], key=lambda d: -d.score):
            best, best_iou = None, cfg.match_iou
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
    """Detector-only tracks worth showing: (frame index, box) with track ids and calibrated scores."""
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
        for index, human in by_index.items():
            if start - 1 <= index <= end + 1:
                near = min(track, key=lambda t: abs(t[0] - index))[1]
                if not any(iou(near, h) >= 0.3 for h in human):
                    contradicted = True
                    break
        if contradicted:
            continue
        score = _sigmoid(-3.0 + 4.0 * mean + 0.05 * min(len(track), 20))
        kept.append(
            [
                (
                    i,
                    replace(
                        b, track_id=next_id, score=round(min(score, b.score + 0.2), 4), source="detector"
                    ),
                )
                for i, b in track
            ]
        )
        next_id += 1
    return kept
