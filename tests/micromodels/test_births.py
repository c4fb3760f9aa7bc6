"""An object that enters and leaves between two labeled frames, never labeled, is still pre-labeled."""

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from fixtures.make_clips import _background
from micromodels import Clip, LabeledFrame, PrelabelConfig, prelabel, train
from micromodels.metrics import match
from micromodels.types import Box

from .conftest import TINY

FRAMES, WIDTH, HEIGHT, SIDE = 40, 192, 144, 28
VISITOR = range(12, 28)  # frames on which the second square is in the picture


def _square(image: np.ndarray, x: int, y: int) -> None:
    cv2.rectangle(image, (x, y), (x + SIDE - 1, y + SIDE - 1), (40, 40, 220), thickness=-1)
    cv2.rectangle(
        image, (x + SIDE // 4, y + SIDE // 4), (x + 3 * SIDE // 4, y + 3 * SIDE // 4), (240, 240, 240), 2
    )


def _clip(root: Path) -> tuple[Clip, dict[int, list[Box]]]:
    rng = np.random.default_rng(3)
    background = _background(WIDTH, HEIGHT, rng)
    root.mkdir(parents=True, exist_ok=True)
    truth: dict[int, list[Box]] = {}
    paths = []
    for i in range(FRAMES):
        image = background.copy()
        boxes = []
        ax, ay = 10 + 3 * i, 12 + (i % 10)  # the resident: crosses the top half, labeled on both ends
        _square(image, ax, ay)
        boxes.append(Box(ax, ay, SIDE, SIDE, 0, 1.0, 1))
        if i in VISITOR:  # the visitor: walks along the bottom, entering and leaving in the gap
            vx, vy = 8 + 9 * (i - VISITOR.start), 96
            _square(image, vx, vy)
            boxes.append(Box(vx, vy, SIDE, SIDE, 0, 1.0, 2))
        truth[i] = boxes
        path = root / f"{i:06d}.png"
        cv2.imwrite(str(path), image)
        paths.append(path)
    return Clip(tuple(paths), ("square",), WIDTH, HEIGHT), truth


def test_an_object_entering_and_leaving_between_labeled_frames_is_pre_labeled(tmp_path: Path) -> None:
    clip, truth = _clip(tmp_path / "frames")
    labeled = [LabeledFrame(i, tuple(replace(b, track_id=None) for b in truth[i])) for i in (0, FRAMES - 1)]
    config = replace(
        TINY, clipnet_max_steps=400, clipnet_steps_per_epoch=100, clipnet_batch=8, clipnet_crop=96
    )
    result = train(clip, labeled, tmp_path / "work", config)
    pre = prelabel(clip, labeled, result.checkpoint, tmp_path / "pre", PrelabelConfig())
    found = 0
    visitor_ids = set()
    for i in VISITOR:
        visitor = truth[i][1]
        pairs = match(list(pre.boxes[i]), [visitor])
        if pairs:
            found += 1
            visitor_ids.add(pre.boxes[i][pairs[0][0]].track_id)
    assert found >= 0.9 * len(VISITOR), f"the visitor is pre-labeled on {found} of {len(VISITOR)} frames"
    resident_ids = {b.track_id for f in labeled for b in f.boxes} | {
        b.track_id for i in pre.boxes for b in pre.boxes[i] if match([b], [truth[i][0]])
    }
    assert not visitor_ids & resident_ids  # a new track of its own, not the resident's
    # And the detector alone found it too (what the platform reports as "the model alone").
    alone = sum(1 for i in VISITOR if match(list(pre.detector_boxes[i]), [truth[i][1]]))
    assert alone >= 0.9 * len(VISITOR)
