"""Which frames a person should label next.

Before any label: farthest-point sampling over a per-frame feature made of a small appearance
thumbnail (grey layout + colour histogram) and the frame's position in time, starting from the
first frame, so the picks cover both what the clip looks like and when. After a generation: frames
ranked by disagreement between tracker passes or tracker and detector, low fused scores, track
births and deaths, and distance to the nearest label, kept apart in time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from micromodels.frames import read_frame
from micromodels.fusion import FrameNotes
from micromodels.types import Clip, FrameSuggestion

_MAX_FEATURE_FRAMES = 2000


def _feature(image: NDArray[np.uint8]) -> NDArray[np.float64]:
    small = cv2.resize(image, (16, 12), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float64).ravel()
    grey = (grey - grey.mean()) / (grey.std() + 1e-6)
    hsv = cv2.cvtColor(cv2.resize(image, (64, 48), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [8, 4], [0, 180, 0, 256]).ravel().astype(np.float64)
    hist = np.sqrt(hist / (hist.sum() + 1e-9))
    return np.concatenate([grey / np.sqrt(grey.size), hist])


def suggest_initial_frames(clip: Clip, count: int, time_weight: float = 1.0) -> tuple[FrameSuggestion, ...]:
    n = len(clip.frames)
    count = max(0, min(count, n))
    if count == 0:
        return ()
    stride = max(1, int(np.ceil(n / _MAX_FEATURE_FRAMES)))
    indices = list(range(0, n, stride))
    if indices[-1] != n - 1:
        indices.append(n - 1)
    feats = np.stack([_feature(read_frame(clip.frames[i])) for i in indices])
    centre = feats.mean(axis=0)
    spread = float(np.percentile(np.linalg.norm(feats - centre, axis=1), 90)) + 1e-9
    appearance = feats / spread
    times = np.array(indices, dtype=np.float64) / max(1, n - 1)

    def distances(k: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        app = np.linalg.norm(appearance - appearance[k], axis=1)
        return app, 2.0 * time_weight * np.abs(times - times[k])

    chosen = [0]
    app, tim = distances(0)
    nearest_app, nearest_time, nearest = app, tim, app + tim
    out = [FrameSuggestion(indices[0], "first frame: where every object starts", 1.0)]
    while len(chosen) < min(count, len(indices)):
        k = int(np.argmax(nearest))
        if nearest[k] <= 0:
            break
        a, t = float(nearest_app[k]), float(nearest_time[k])
        reason = (
            f"looks unlike the frames picked so far (appearance distance {a:.2f})"
            if a >= t
            else f"far in time from the frames picked so far ({round(t / 2 / time_weight * (n - 1))} frames)"
        )
        out.append(FrameSuggestion(indices[k], reason, round(float(nearest[k]), 4)))
        chosen.append(k)
        app, tim = distances(k)
        total = app + tim
        closer = total < nearest
        nearest_app = np.where(closer, app, nearest_app)
        nearest_time = np.where(closer, tim, nearest_time)
        nearest = np.minimum(nearest, total)
    return tuple(out)


def rank_frames(
    n_frames: int,
    labeled: Sequence[int],
    notes: Mapping[int, FrameNotes],
    count: int,
    spacing: int,
) -> tuple[FrameSuggestion, ...]:
    """The count most useful unlabeled frames to label next, each with its main reason.

    Greedy: each pick counts as labeled for the next one, so the distance term spreads the picks over
    the clip instead of clumping them in the single longest unlabeled stretch.
    """
    taken = sorted(set(labeled))
    typical_gap = max(1.0, n_frames / max(2, len(taken) + count + 1))
    candidates = [i for i in range(n_frames) if i not in set(taken)]
    picked: list[FrameSuggestion] = []
    while len(picked) < count and candidates:
        arr = np.array(taken, dtype=np.int64)
        best: tuple[float, int, str] | None = None
        for index in candidates:
            gap = int(np.min(np.abs(arr - index))) if arr.size else n_frames
            if gap < spacing:
                continue
            note = notes.get(index, FrameNotes())
            terms = {
                f"disagreement between tracker passes or detector {note.disagreement:.2f}": 0.45
                * note.disagreement,
                f"uncertain pre-label (lowest score {1 - note.uncertainty:.2f})": 0.3 * note.uncertainty,
                "; ".join(note.events[:2]): 0.35 if note.events else 0.0,
                f"{gap} frames from the nearest labeled frame": 0.25 * min(1.0, gap / typical_gap),
            }
            total = sum(terms.values())
            if best is None or total > best[0]:
                best = (total, index, max(terms, key=lambda k: terms[k]))
        if best is None:
            break
        picked.append(FrameSuggestion(best[1], best[2], round(best[0], 4)))
        taken.append(best[1])
        candidates.remove(best[1])
    return tuple(picked)
