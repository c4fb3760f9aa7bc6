"""A classical single-object tracker built from OpenCV primitives, run over many boxes at once.

Each step moves a box by the median of pyramidal Lucas-Kanade flow of a grid of points inside it,
keeping only points whose forward-backward error is small (median flow), with the scale from the
median change of pairwise point distances. The result is then checked by normalised cross-correlation
(NCC) against an appearance template, and re-detected by template matching in a window around the
prediction when the flow failed or the template fits much better elsewhere. The NCC at the final box
is the step's confidence. Frames are read one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from micromodels.config import TrackerConfig
from micromodels.errors import Cancelled
from micromodels.frames import read_frame
from micromodels.types import Box, Clip, StopCheck

Gray = NDArray[np.uint8]
_LK = {
    "winSize": (15, 15),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
}
_TEMPLATE_SIDE = 40


@dataclass(frozen=True)
class TrackedBox:
    box: Box  # in frame pixels
    confidence: float  # NCC of the box with the object's template, 0..1
    lost: bool = False


@dataclass
class _State:
    box: NDArray[np.float64]  # x, y, w, h at tracking scale
    reference: NDArray[np.float32]  # template from the anchor frame
    running: NDArray[np.float32]  # template following the object
    template_size: tuple[int, int]
    lost: bool = False
    seed: Box | None = None


def _scale_for(clip: Clip, cfg: TrackerConfig) -> float:
    return min(1.0, cfg.max_side / max(clip.width, clip.height))


def _gray(image: NDArray[np.uint8], scale: float) -> Gray:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.asarray(gray, dtype=np.uint8)


def _template_size(w: float, h: float) -> tuple[int, int]:
    k = _TEMPLATE_SIDE / max(w, h, 1.0)
    return max(4, round(w * k)), max(4, round(h * k))


def _crop(gray: Gray, box: NDArray[np.float64], size: tuple[int, int]) -> NDArray[np.float32] | None:
    """The box's pixels resampled to size (sub-pixel, border replicated); None when off the image."""
    x, y, w, h = (float(v) for v in box)
    height, width = gray.shape
    if w < 2 or h < 2 or x + w < 1 or y + h < 1 or x > width - 1 or y > height - 1:
        return None
    tw, th = size
    affine = np.array([[w / tw, 0, x], [0, h / th, y]], dtype=np.float64)
    patch = cv2.warpAffine(
        gray, affine, (tw, th), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(patch, dtype=np.float32)


def _ncc(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    a0, b0 = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
    return float((a0 * b0).sum() / denom) if denom > 1e-6 else 0.0


def _flow(prev: Gray, cur: Gray, box: NDArray[np.float64], cfg: TrackerConfig) -> NDArray[np.float64] | None:
    x, y, w, h = box
    n = cfg.grid_points
    xs = np.linspace(x + 0.1 * w, x + 0.9 * w, n)
    ys = np.linspace(y + 0.1 * h, y + 0.9 * h, n)
    pts = np.array([[px, py] for py in ys for px in xs], dtype=np.float32).reshape(-1, 1, 2)
    nxt, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, **_LK)  # type: ignore[call-overload]
    if nxt is None:
        return None
    back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, nxt, None, **_LK)  # type: ignore[call-overload]
    if back is None:
        return None
    p0, p1 = pts.reshape(-1, 2).astype(np.float64), nxt.reshape(-1, 2).astype(np.float64)
    fb = np.linalg.norm(p0 - back.reshape(-1, 2), axis=1)
    ok = (st1.ravel() == 1) & (st2.ravel() == 1) & np.isfinite(fb)
    if ok.sum() < 4:
        return None
    ok &= fb <= min(float(np.median(fb[ok])), cfg.fb_error_max) + 1e-6
    if ok.sum() < 4:
        return None
    a, b = p0[ok], p1[ok]
    dx, dy = np.median(b - a, axis=0)
    i, j = np.triu_indices(len(a), k=1)
    da = np.linalg.norm(a[i] - a[j], axis=1)
    db = np.linalg.norm(b[i] - b[j], axis=1)
    valid = da > 1.0
    lo, hi = 1.0 / cfg.max_scale_change, cfg.max_scale_change
    scale = float(np.clip(np.median(db[valid] / da[valid]), lo, hi)) if valid.any() else 1.0
    cx, cy = x + w / 2 + dx, y + h / 2 + dy
    return np.array([cx - w * scale / 2, cy - h * scale / 2, w * scale, h * scale])


def _redetect(
    cur: Gray, box: NDArray[np.float64], template: NDArray[np.float32], margin: float, penalty: float
) -> tuple[NDArray[np.float64], float] | None:
    """Best NCC match of the template (at the box's size) in a window around the box."""
    x, y, w, h = box
    tw, th = template.shape[1], template.shape[0]
    k = tw / max(w, 1.0)  # resample the window so the box has the template's size
    mx, my = margin * max(w, h), margin * max(w, h)
    wx0, wy0 = max(0.0, x - mx), max(0.0, y - my)
    wx1, wy1 = min(float(cur.shape[1]), x + w + mx), min(float(cur.shape[0]), y + h + my)
    if wx1 - wx0 < w or wy1 - wy0 < h:
        return None
    crop = cur[int(wy0) : int(np.ceil(wy1)), int(wx0) : int(np.ceil(wx1))]
    window = cv2.resize(crop, None, fx=k, fy=th / max(h, 1.0), interpolation=cv2.INTER_LINEAR)
    if window.shape[0] < th or window.shape[1] < tw:
        return None
    result = cv2.matchTemplate(window.astype(np.float32), template, cv2.TM_CCOEFF_NORMED)
    # Motion prior: a match one box size away from the prediction costs `penalty` of correlation,
    # so a similar-looking neighbour does not win over the object near where it should be.
    ky = th / max(h, 1.0)
    cols = (int(wx0) + np.arange(result.shape[1]) / k - x) / max(w, 1.0)
    rows = (int(wy0) + np.arange(result.shape[0]) / ky - y) / max(h, 1.0)
    scored = result - penalty * (rows[:, None] ** 2 + cols[None, :] ** 2)
    py, px = np.unravel_index(int(np.argmax(scored)), scored.shape)
    found = np.array([int(wx0) + px / k, int(wy0) + py / ky, w, h])
    return found, float(scored[py, px])


def _start(gray: Gray, box: Box, scale: float) -> _State | None:
    b = np.array([box.x, box.y, box.w, box.h], dtype=np.float64) * scale
    size = _template_size(b[2], b[3])
    patch = _crop(gray, b, size)
    if patch is None:
        return None
    return _State(box=b, reference=patch, running=patch.copy(), template_size=size, seed=box)


def _step(state: _State, prev: Gray, cur: Gray, cfg: TrackerConfig) -> float:
    """Move state.box from prev to cur; returns the confidence of the new box.

    Flow predicts; template matching at three scales in a window around the prediction decides,
    which stops the slow lag and shrink median flow shows when background points dominate the box.
    """
    moved = _flow(prev, cur, state.box, cfg)
    if moved is not None:  # damp the flow's scale: single-frame scale estimates are noisy
        cx, cy = moved[0] + moved[2] / 2, moved[1] + moved[3] / 2
        k = 1.0 + cfg.scale_damping * (moved[2] / state.box[2] - 1.0)
        w, h = state.box[2] * k, state.box[3] * k
        predicted = np.array([cx - w / 2, cy - h / 2, w, h])
    else:
        predicted = state.box.copy()
    margin = cfg.search_scale * (cfg.flow_search_share if moved is not None else 1.0)
    best, best_score = predicted, -1.0
    for factor in (1.0, 1.0 - cfg.scale_step, 1.0 + cfg.scale_step):
        w, h = predicted[2] * factor, predicted[3] * factor
        box = np.array([predicted[0] + (predicted[2] - w) / 2, predicted[1] + (predicted[3] - h) / 2, w, h])
        for template in (state.reference, state.running):
            found = _redetect(cur, box, template, margin, cfg.motion_penalty)
            if found is None:
                continue
            score = found[1] - (0.0 if factor == 1.0 else 0.01)  # prefer the unchanged size on ties
            if score > best_score:
                best, best_score = found[0], score
    patch = _crop(cur, best, state.template_size)
    confidence = max(_ncc(patch, state.reference), _ncc(patch, state.running)) if patch is not None else 0.0
    state.box = best
    confidence = max(0.0, confidence)
    if patch is not None and confidence > cfg.template_update_min_confidence:
        state.running = ((1 - cfg.template_update) * state.running + cfg.template_update * patch).astype(
            np.float32
        )
    return confidence


def _inside_fraction(box: NDArray[np.float64], width: int, height: int) -> float:
    x, y, w, h = box
    iw = max(0.0, min(x + w, width) - max(x, 0.0))
    ih = max(0.0, min(y + h, height) - max(y, 0.0))
    return float(iw * ih / max(w * h, 1e-9))


def propagate(
    clip: Clip,
    seeds: Sequence[Box],
    indices: Iterable[int],
    cfg: TrackerConfig,
    should_stop: StopCheck | None = None,
) -> list[dict[int, TrackedBox]]:
    """Track the seed boxes through the frames at indices (first index = the seeds' frame).

    Returns, for each index after the first, {seed position: tracked box}. Works backward in time
    as well: pass a decreasing range. ``should_stop`` is asked before every frame (a pass over a
    long clip takes minutes: the caller's cancel and heartbeat must not wait for its end).
    """
    scale = _scale_for(clip, cfg)
    order = list(indices)
    if not order or not seeds:
        return [{} for _ in order[1:]]
    prev = _gray(read_frame(clip.frames[order[0]]), scale)
    states = [_start(prev, seed, scale) for seed in seeds]
    out: list[dict[int, TrackedBox]] = []
    for index in order[1:]:
        if should_stop is not None and should_stop():
            raise Cancelled("stopped while tracking")
        cur = _gray(read_frame(clip.frames[index]), scale)
        step: dict[int, TrackedBox] = {}
        for k, state in enumerate(states):
            if state is None or state.lost or state.seed is None:
                continue
            confidence = _step(state, prev, cur, cfg)
            inside = _inside_fraction(state.box, cur.shape[1], cur.shape[0])
            if inside < cfg.lost_inside:
                state.lost = True
            x, y, w, h = (float(v) / scale for v in state.box)
            box = Box(x, y, w, h, state.seed.label, confidence, state.seed.track_id, "tracker")
            step[k] = TrackedBox(
                box=box, confidence=confidence * min(1.0, inside / cfg.full_inside), lost=state.lost
            )
        out.append(step)
        prev = cur
    return out


class AppearanceCheck:
    """How much boxes on other frames look like one object's labeled boxes (mean NCC over anchors)."""

    def __init__(self, clip: Clip, anchors: Sequence[tuple[int, Box]], cfg: TrackerConfig) -> None:
        self.clip = clip
        self.scale = _scale_for(clip, cfg)
        self.templates: list[NDArray[np.float32]] = []
        self.size = (4, 4)
        for index, box in anchors:
            gray = _gray(read_frame(clip.frames[index]), self.scale)
            state = _start(gray, box, self.scale)
            if state is None:
                continue
            if not self.templates:
                self.size = state.template_size
                self.templates.append(state.reference)
            else:
                self.templates.append(np.asarray(cv2.resize(state.reference, self.size), dtype=np.float32))

    def scores(self, index: int, boxes: Sequence[Box]) -> list[float]:
        if not self.templates:
            return [0.0 for _ in boxes]
        gray = _gray(read_frame(self.clip.frames[index]), self.scale)
        out = []
        for box in boxes:
            b = np.array([box.x, box.y, box.w, box.h], dtype=np.float64) * self.scale
            patch = _crop(gray, b, self.size)
            out.append(0.0 if patch is None else float(np.mean([_ncc(patch, t) for t in self.templates])))
        return out
