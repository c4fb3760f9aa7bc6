"""Pre-labels keep the ids of the human tracks they continue, in every generation, and never put two
boxes on one object (generated clip, the truth as the detector)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from micromodels import PrelabelConfig
from micromodels.engine import fuse_all
from micromodels.metrics import iou
from micromodels.propagation import link_tracks, propagate_tracks
from micromodels.types import Box

from .conftest import synthetic_clip

FRAMES = 60


def test_prelabels_keep_human_track_ids_in_every_generation_and_one_box_per_object(tmp_path: Path) -> None:
    made = synthetic_clip(tmp_path / "clip", frames=FRAMES, objects=3, seed=5)
    detections = {
        i: tuple(replace(b, score=0.9, track_id=None, source="detector") for b in boxes)
        for i, boxes in made.truth.items()
    }
    config = PrelabelConfig()
    for labeled_at in ([0, 29, 59], [0, 15, 29, 44, 59], [0, 8, 15, 22, 29, 37, 44, 52, 59]):
        # People gave ids to the boxes of the first labeled frame (the tracks they made); later
        # frames' boxes come without, as the labeling UI sends them.
        labeled = [
            replace(f, boxes=tuple(b if f.index == 0 else replace(b, track_id=None) for b in f.boxes))
            for f in made.labeled(labeled_at)
        ]
        linked = link_tracks(made.clip, labeled, config.tracker, detections=detections)
        candidates = propagate_tracks(made.clip, linked.frames, config.tracker, linked=linked)
        boxes, _ = fuse_all(FRAMES, made.clip, linked.frames, detections, candidates, config, 0)
        for i, out in boxes.items():
            for truth in made.truth[i]:
                on: list[Box] = [b for b in out if iou(b, truth) >= 0.5]
                assert len(on) <= 1, f"two boxes on one object on frame {i}"
                assert not on or on[0].track_id == truth.track_id, (labeled_at, i, on[0], truth)
