"""Box matching and the figures the replay benchmark and the platform report.

recall / precision: one-to-one greedy matching (highest IoU first, same label) at IoU >= 0.5.
label efficiency: of all final boxes (the truth), the share a labeler only had to accept, i.e. a
model box matched it at the accept IoU. Human actions still needed: add (truth box nobody predicted),
fix (matched at the match IoU but not good enough to accept, or wrong label), delete (predicted box
matching nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from micromodels.types import Box


class Rect(Protocol):
    """Anything with a box's geometry in pixels (an engine Box, a platform box row, ...)."""

    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def w(self) -> float: ...
    @property
    def h(self) -> float: ...


def iou(a: Rect, b: Rect) -> float:
    """Intersection over union of two boxes (0 when both are empty)."""
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def iou_matrix(a: Sequence[Box], b: Sequence[Box]) -> NDArray[np.float64]:
    out = np.zeros((len(a), len(b)), dtype=np.float64)
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            out[i, j] = iou(p, q)
    return out


def match(
    predicted: Sequence[Box], truth: Sequence[Box], min_iou: float = 0.5, same_label: bool = True
) -> list[tuple[int, int, float]]:
    """One-to-one pairs (predicted index, truth index, IoU) with IoU >= min_iou, highest IoU first."""
    if not predicted or not truth:
        return []
    m = iou_matrix(predicted, truth)
    if same_label:
        for i, p in enumerate(predicted):
            for j, t in enumerate(truth):
                if p.label != t.label:
                    m[i, j] = 0.0
    pairs: list[tuple[int, int, float]] = []
    used_p: set[int] = set()
    used_t: set[int] = set()
    for flat in np.argsort(-m, axis=None, kind="stable"):
        i, j = divmod(int(flat), m.shape[1])
        if m[i, j] < min_iou:
            break
        if i in used_p or j in used_t:
            continue
        used_p.add(i)
        used_t.add(j)
        pairs.append((i, j, float(m[i, j])))
    return pairs


@dataclass(frozen=True)
class Score:
    truth: int
    predicted: int
    matched: int  # at the match IoU, same label
    accepted: int  # at the accept IoU, same label: the labeler only accepts these
    add: int
    fix: int
    delete: int

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def efficiency(self) -> float:
        """Model boxes a labeler only had to accept / all final boxes."""
        return self.accepted / self.truth if self.truth else 1.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.truth + other.truth,
            self.predicted + other.predicted,
            self.matched + other.matched,
            self.accepted + other.accepted,
            self.add + other.add,
            self.fix + other.fix,
            self.delete + other.delete,
        )


EMPTY = Score(0, 0, 0, 0, 0, 0, 0)


def score_frame(
    predicted: Sequence[Box], truth: Sequence[Box], match_iou: float = 0.5, accept_iou: float = 0.5
) -> Score:
    """Counts for one frame. A prediction overlapping a truth box (any label, IoU >= 0.1) that is not
    accepted is a fix; a truth box with no such prediction is an add; other predictions are deletes."""
    matched = match(predicted, truth, match_iou)
    accepted = len(match(predicted, truth, accept_iou))
    loose = match(predicted, truth, 0.1, same_label=False)
    touched = len(loose)
    fix = max(0, touched - accepted)
    add = len(truth) - max(touched, accepted)
    delete = len(predicted) - max(touched, accepted)
    return Score(len(truth), len(predicted), len(matched), accepted, add, fix, delete)


def score_clip(
    predicted: Mapping[int, Sequence[Box]],
    truth: Mapping[int, Sequence[Box]],
    frames: Sequence[int],
    match_iou: float = 0.5,
    accept_iou: float = 0.5,
) -> Score:
    """Summed counts over the given frames (a frame missing from predicted has no boxes)."""
    total = EMPTY
    for index in frames:
        total = total + score_frame(predicted.get(index, ()), truth.get(index, ()), match_iou, accept_iou)
    return total


def calibration_error(
    predicted: Mapping[int, Sequence[Box]],
    truth: Mapping[int, Sequence[Box]],
    frames: Sequence[int],
    bins: int = 5,
    match_iou: float = 0.5,
) -> tuple[float, float]:
    """(expected calibration error, mean score): how far box scores are from the share of boxes that
    are right (matched at match_iou), averaged over equal-width score bins weighted by box count."""
    scores: list[float] = []
    hits: list[float] = []
    for index in frames:
        boxes = list(predicted.get(index, ()))
        matched = {p for p, _, _ in match(boxes, truth.get(index, ()), match_iou)}
        for k, b in enumerate(boxes):
            scores.append(b.score)
            hits.append(1.0 if k in matched else 0.0)
    if not scores:
        return 0.0, 0.0
    s, h = np.array(scores), np.array(hits)
    which = np.minimum((s * bins).astype(int), bins - 1)
    error = 0.0
    for k in range(bins):
        mask = which == k
        if mask.any():
            error += float(mask.sum()) / len(s) * abs(float(s[mask].mean()) - float(h[mask].mean()))
    return error, float(s.mean())
