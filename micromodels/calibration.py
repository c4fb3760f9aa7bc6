"""Detector score calibration fit on the clip itself, from tracker/detector agreement.

The heatmap peak of a small per-clip detector is a ranking, not a probability. Where the tracker is
sure of an object (carried from both sides, forward and backward passes agreeing, high appearance
confidence), its box stands in for the truth (see ``agreement_samples``). A Platt fit (logistic on
the logit of the raw score) over those detections maps raw scores to the share that are right. Too
few samples (a short clip, a tracker that is nowhere sure) leave the raw scores unchanged.

Biases, stated: objects the tracker is sure of are easier than the rest, and an object nobody
labeled counts its detection as wrong, so the fit errs on the low side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from micromodels.config import PrelabelConfig
from micromodels.metrics import iou, match
from micromodels.propagation import Candidate
from micromodels.types import Box


@dataclass(frozen=True)
class Calibration:
    a: float = 1.0  # slope on logit(raw score)
    b: float = 0.0  # intercept
    samples: int = 0  # detections the fit used (0: identity, raw scores kept)

    def __call__(self, score: float) -> float:
        if self.samples == 0:
            return score
        s = min(max(score, 1e-4), 1 - 1e-4)
        return 1.0 / (1.0 + math.exp(-(self.a * math.log(s / (1 - s)) + self.b)))


def agreement_samples(
    detections: Mapping[int, Sequence[Box]],
    candidates: Mapping[int, Sequence[Candidate]],
    cfg: PrelabelConfig,
) -> tuple[list[float], list[float]]:
    """(raw scores, 1.0 right / 0.0 wrong) of detections the tracker can vouch for or against.

    Near a track the tracker is sure of (two-sided, passes agreeing, confident), the detection that
    matches its box at IoU >= 0.5 is right and any other touching it is wrong. On frames where every
    object is a two-sided track (none enters or leaves there), a detection touching no hypothesis of
    any track is wrong."""
    scores: list[float] = []
    hits: list[float] = []
    for index, cands in candidates.items():
        dets = list(detections.get(index, ()))
        if not dets or not cands:
            continue
        sure = [
            c.options[0][0]
            for c in cands
            if c.two_sided
            and c.agreement >= cfg.calibration_agreement
            and c.confidence >= cfg.calibration_confidence
        ]
        right = {p for p, _, _ in match(dets, sure, 0.5)}
        closed = all(c.two_sided for c in cands)
        hypotheses = [box for c in cands for box, _ in c.options] + [
            c.interpolated for c in cands if c.interpolated is not None
        ]
        for k, d in enumerate(dets):
            if k in right:
                scores.append(d.score)
                hits.append(1.0)
            elif any(iou(d, box) > 0.1 for box in sure) or (
                closed and not any(iou(d, box) > 0.1 for box in hypotheses)
            ):
                scores.append(d.score)
                hits.append(0.0)
    return scores, hits


def fit_platt(scores: Sequence[float], hits: Sequence[float], min_samples: int = 30) -> Calibration:
    """Logistic regression of hits on logit(score) by Newton's method (tiny ridge for stability)."""
    y = np.asarray(hits, dtype=np.float64)
    if len(y) < min_samples or y.sum() < 3 or (1 - y).sum() < 3:
        return Calibration()
    s = np.clip(np.asarray(scores, dtype=np.float64), 1e-4, 1 - 1e-4)
    x = np.log(s / (1 - s))
    design = np.stack([x, np.ones_like(x)], axis=1)
    w = np.array([1.0, 0.0])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + 1e-3 * w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-3 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-6:
            break
    return Calibration(float(w[0]), float(w[1]), len(y))


def calibrate(
    detections: Mapping[int, Sequence[Box]], calibration: Calibration
) -> dict[int, tuple[Box, ...]]:
    return {
        i: tuple(replace(d, score=round(calibration(d.score), 4)) for d in dets)
        for i, dets in detections.items()
    }
