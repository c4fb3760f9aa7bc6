"""Detector chains decide which labeled boxes are one object, and let objects end and start in a gap.

Generated clips (no downloads): look-alike squares crossing, one leaving while another enters. The
detector is the clip's truth (every visible object, score 0.9): these tests pin the linking rules,
not a trained model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from fixtures.make_clips import _background
from micromodels import Clip, LabeledFrame, PrelabelConfig
from micromodels.chains import best_chain, trellis
from micromodels.engine import fuse_all
from micromodels.fusion import FrameNotes, fuse_frame
from micromodels.metrics import iou, score_clip
from micromodels.propagation import Candidate, link_tracks, propagate_tracks
from micromodels.types import Box

WIDTH, HEIGHT, SIDE = 224, 128, 30


def _square(image: np.ndarray, x: float, y: float) -> None:
    x0, y0 = round(x), round(y)
    cv2.rectangle(image, (x0, y0), (x0 + SIDE - 1, y0 + SIDE - 1), (50, 60, 200), thickness=-1)
    cv2.circle(image, (x0 + SIDE // 2, y0 + SIDE // 2), SIDE // 4, (230, 230, 230), 2)


def _write(root: Path, scenes: list[list[Box]], seed: int) -> Clip:
    """Frames with the squares drawn in list order (later ones in front)."""
    background = _background(WIDTH, HEIGHT, np.random.default_rng(seed))
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, boxes in enumerate(scenes):
        image = background.copy()
        for b in boxes:
            _square(image, b.x, b.y)
        path = root / f"{i:06d}.png"
        cv2.imwrite(str(path), image)
        paths.append(path)
    return Clip(tuple(paths), ("square",), WIDTH, HEIGHT)


def _detections(scenes: list[list[Box]]) -> dict[int, tuple[Box, ...]]:
    """What a good detector sees: each square more than half visible (the front one hides the other)."""
    out: dict[int, tuple[Box, ...]] = {}
    for i, boxes in enumerate(scenes):
        seen = [
            replace(b, score=0.9, track_id=None, source="detector")
            for k, b in enumerate(boxes)
            if not any(iou(b, front) > 0.5 for front in boxes[k + 1 :])
        ]
        out[i] = tuple(seen)
    return out


def _bare(scenes: list[list[Box]], indices: list[int]) -> list[LabeledFrame]:
    return [LabeledFrame(i, tuple(replace(b, track_id=None) for b in scenes[i])) for i in indices]


def _link_ends(root: Path, scenes: list[list[Box]], seed: int) -> tuple[LabeledFrame, LabeledFrame]:
    """The first and last frames, labeled without track ids, after linking over what a good detector
    sees (``_detections``)."""
    clip = _write(root, scenes, seed=seed)
    labeled = _bare(scenes, [0, len(scenes) - 1])
    linked = link_tracks(clip, labeled, PrelabelConfig().tracker, detections=_detections(scenes))
    first, last = linked.frames
    return first, last


def _crossing(frames: int) -> list[list[Box]]:
    """Two look-alike squares crossing at mid-clip at nearly the same height, track 2 in front."""
    scenes = []
    for i in range(frames):
        t = i / (frames - 1)
        left = Box(10 + t * (WIDTH - 20 - SIDE), 50, SIDE, SIDE, 0, 1.0, 1)
        right = Box(WIDTH - 10 - SIDE - t * (WIDTH - 20 - SIDE), 56, SIDE, SIDE, 0, 1.0, 2)
        scenes.append([left, right])
    return scenes


def test_look_alikes_that_cross_keep_their_ids_by_the_detector_chain(tmp_path: Path) -> None:
    scenes = _crossing(40)
    first, last = _link_ends(tmp_path / "crossing", scenes, seed=4)
    # Same object = same position in the truth's order on both frames (the truth keeps its order).
    assert first.boxes[0].track_id == last.boxes[0].track_id
    assert first.boxes[1].track_id == last.boxes[1].track_id
    assert first.boxes[0].track_id != first.boxes[1].track_id


def _exchange(frames: int) -> list[list[Box]]:
    """A resident crossing the top; a leaver walking out at the right edge by frame 14, and a newcomer
    entering at the right edge at frame 24, walking back the way the leaver came."""
    scenes = []
    for i in range(frames):
        boxes = [Box(10 + 3 * i, 10, SIDE, SIDE, 0, 1.0, 1)]
        if i <= 14:
            boxes.append(Box(WIDTH - 16 - SIDE + 6 * i - 60, 80, SIDE, SIDE, 0, 1.0, 2))
        if i >= 24:
            boxes.append(Box(WIDTH - 6 * (i - 24) - 8, 80, SIDE, SIDE, 0, 1.0, 3))
        scenes.append([replace(b, x=min(b.x, WIDTH - 1.0)) for b in boxes])
    return scenes


def test_an_object_that_left_is_not_linked_to_one_that_entered(tmp_path: Path) -> None:
    scenes = _exchange(40)
    first, last = _link_ends(tmp_path / "exchange", scenes, seed=5)
    assert first.boxes[0].track_id == last.boxes[0].track_id  # the resident
    assert first.boxes[1].track_id != last.boxes[1].track_id  # the leaver is not the newcomer


def test_a_chain_costs_the_same_per_frame_whatever_the_object_size() -> None:
    cfg = PrelabelConfig().tracker
    costs = []
    for scale in (1.0, 4.0):
        boxes = {
            i: (Box(scale * (10 + 2 * i), scale * 20, scale * 10, scale * 10, 0, 0.8),) for i in range(21)
        }
        grid = trellis(0, 20, boxes, {i: np.full((1, 128), 1 / 128, np.float32) for i in range(1, 20)}, cfg)
        look = np.full(128, 1 / 128, np.float32)
        chain = best_chain(
            grid, replace(boxes[0][0], score=1.0), look, replace(boxes[20][0], score=1.0), look, cfg
        )
        assert chain is not None and len(chain.boxes) == 19
        costs.append(chain.cost)
    assert abs(costs[0] - costs[1]) < 1e-6


def _door(frames: int) -> list[list[Box]]:
    """A resident crossing the top; a walker crossing the bottom right to left; a stander by a door at
    the bottom, gone through it after frame 12 as the walker passes in front of it."""
    scenes = []
    for i in range(frames):
        boxes = [Box(10 + 3 * i, 10, SIDE, SIDE, 0, 1.0, 1)]
        if i <= 12:
            boxes.append(Box(96, 84, SIDE, SIDE, 0, 1.0, 2))
        boxes.append(Box(135 - 3 * i, 84, SIDE, SIDE, 0, 1.0, 3))  # over the door at frame 13
        scenes.append(boxes)
    return scenes


def test_a_track_that_ends_in_a_gap_ends_where_the_detector_last_saw_its_object(tmp_path: Path) -> None:
    scenes = _door(40)
    clip = _write(tmp_path / "door", scenes, seed=6)
    config = PrelabelConfig()
    labeled = _bare(scenes, [0, 39])
    detections = _detections(scenes)
    linked = link_tracks(clip, labeled, config.tracker, detections=detections)
    stander = linked.frames[0].boxes[1].track_id
    candidates = propagate_tracks(clip, linked.frames, config.tracker, linked=linked)
    boxes, _ = fuse_all(40, clip, linked.frames, detections, candidates, config, 0)
    assert all(any(b.track_id == stander for b in boxes[i]) for i in range(1, 7))  # before the walker
    # Gone after frame 12: no box of its track is left on the background or on the walker.
    assert not [i for i in range(13, 39) if any(b.track_id == stander for b in boxes[i])]
    truth = {i: tuple(scenes[i]) for i in range(40)}
    assert score_clip(boxes, truth, list(range(1, 39))).precision == 1.0


def test_frames_a_linked_chain_skipped_are_filled_along_its_path(tmp_path: Path) -> None:
    scenes = _crossing(40)
    clip = _write(tmp_path / "skips", scenes, seed=7)
    detections = _detections(scenes)
    for i in (5, 6, 20, 30):  # the detector misses both squares on these frames
        detections[i] = ()
    linked = link_tracks(clip, _bare(scenes, [0, 39]), PrelabelConfig().tracker, detections=detections)
    tid = linked.frames[0].boxes[0].track_id
    assert tid is not None
    chain = linked.chains[(0, tid)]
    assert sorted(chain) == list(range(1, 39))
    assert all(iou(chain[i], scenes[i][0]) > 0.7 for i in (5, 6, 30))  # the square in the open


def _prelabels(
    clip: Clip, labeled: list[LabeledFrame], detections: dict[int, tuple[Box, ...]] | None, n: int
) -> dict[int, tuple[Box, ...]]:
    config = PrelabelConfig()
    linked = link_tracks(clip, labeled, config.tracker, detections=detections)
    candidates = propagate_tracks(clip, linked.frames, config.tracker, linked=linked)
    boxes, _ = fuse_all(n, clip, linked.frames, detections or {}, candidates, config, 0)
    return boxes


def _shape(
    boxes: dict[int, tuple[Box, ...]],
) -> dict[int, list[tuple[float, float, float, float, int | None]]]:
    return {i: sorted((b.x, b.y, b.w, b.h, b.track_id) for b in out) for i, out in boxes.items()}


def test_a_silent_detector_leaves_the_tracker_prelabels_as_they_were(tmp_path: Path) -> None:
    # A detector that has learned nothing yet (a first generation on a tiny budget) finds nothing:
    # its silence must not end, start or part any track.
    # The resident of the exchange and the door scenes crosses the whole gap in the open; the crossing
    # squares hide each other half way, so only equality with the tracker is asked there.
    for name, scenes, open_track in (
        ("exchange", _exchange(40), True),
        ("door", _door(40), True),
        ("crossing", _crossing(40), False),
    ):
        clip = _write(tmp_path / name, scenes, seed=8)
        labeled = _bare(scenes, [0, 39])
        tracker = _prelabels(clip, labeled, None, 40)
        silent = _prelabels(clip, labeled, {i: () for i in range(40)}, 40)
        assert _shape(silent) == _shape(tracker), name
        # The tracker carries the resident (first box) on every frame: the pre-labels are not empty.
        assert not open_track or all(
            any(iou(b, scenes[i][0]) >= 0.5 for b in silent[i]) for i in range(1, 39)
        ), name


def test_a_detector_that_finds_only_its_training_frames_leaves_the_tracker_prelabels(tmp_path: Path) -> None:
    # It confirms the labeled boxes (it trained on them) and is silent on every other frame: no
    # stretch of the gap where it detects anything, so no track ends or starts on its account.
    scenes = _exchange(40)
    clip = _write(tmp_path / "exchange", scenes, seed=9)
    labeled = _bare(scenes, [0, 39])
    memorised = {i: () for i in range(40)} | {
        f.index: tuple(replace(b, score=0.9, source="detector") for b in f.boxes) for f in labeled
    }
    tracker = _prelabels(clip, labeled, None, 40)
    assert _shape(_prelabels(clip, labeled, memorised, 40)) == _shape(tracker)


def test_a_chain_detection_corrects_the_tracker_where_it_drifted_and_only_pulls_it_where_it_is_sure() -> None:
    config = PrelabelConfig()
    tracker = Box(100, 40, 30, 30, 0, 1.0, 1, "tracker")
    off = Box(112, 40, 30, 30, 0, 0.9, None, "detector")  # 12 px off the object: IoU 0.43 with it
    candidate = Candidate(1, ((tracker, 1.0),), 0.9, 0.9, 5, True, chain=off)  # passes agree (0.9)
    [agreed], _ = fuse_frame([candidate], [off], config, FrameNotes())
    # Same object: the tracker's box stays the base, pulled part way (not replaced by the detection).
    assert iou(agreed, tracker) >= 0.5 and agreed.x > tracker.x
    drifted = replace(tracker, x=20)  # the tracker left the object for the background
    [corrected], _ = fuse_frame([replace(candidate, options=((drifted, 1.0),))], [off], config, FrameNotes())
    assert iou(corrected, off) > 0.99
    # Passes that part ways (agreement 0.2): the tracker is not sure, and the chain's detection wins.
    unsure = replace(candidate, agreement=0.2)
    [chosen], _ = fuse_frame([unsure], [off], config, FrameNotes())
    assert iou(chosen, off) > 0.99
