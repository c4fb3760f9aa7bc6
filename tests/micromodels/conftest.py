"""Tiny generated clips for the engine's tests (no database, nothing downloaded)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.make_clips import make_clip
from micromodels import Box, Clip, LabeledFrame, TrainConfig, train
from micromodels.types import TrainResult


@dataclass(frozen=True)
class SyntheticClip:
    clip: Clip
    truth: dict[int, tuple[Box, ...]]
    root: Path

    def labeled(self, indices: list[int]) -> list[LabeledFrame]:
        return [LabeledFrame(i, self.truth[i]) for i in indices]


def synthetic_clip(out_dir: Path, frames: int = 30, objects: int = 2, seed: int = 0) -> SyntheticClip:
    made = make_clip(out_dir, frames=frames, width=160, height=128, objects=objects, seed=seed, video=False)
    assert made.frames_dir is not None
    names = tuple(made.classes)
    truth = {
        i: tuple(Box(b.x, b.y, b.w, b.h, names.index(b.label), 1.0, b.track_id) for b in boxes)
        for i, boxes in enumerate(made.frames)
    }
    paths = tuple(sorted(made.frames_dir.glob("*.png")))
    return SyntheticClip(Clip(paths, names, made.width, made.height), truth, out_dir)


# The CPU default path: ClipNet, two "epochs" of 20 steps on small crops.
TINY = TrainConfig(
    time_budget_seconds=None,
    pseudo_labels=False,
    device="cpu",
    detector="clipnet",
    clipnet_max_steps=40,
    clipnet_steps_per_epoch=20,
    clipnet_crop=64,
    clipnet_batch=4,
    clipnet_width=16,
)
# The ultralytics path (base weights or a GPU), tiny.
TINY_YOLO = TrainConfig(
    epochs=2,
    time_budget_seconds=None,
    imgsz=64,
    batch=4,
    repeats=2,
    pseudo_labels=False,
    workers=0,
    device="cpu",
    detector="yolo",
)


@pytest.fixture(scope="session")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> SyntheticClip:
    return synthetic_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="session")
def trained(small_clip: SyntheticClip, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(small_clip.clip, small_clip.labeled([0, 15, 29]), tmp_path_factory.mktemp("train"), TINY)


@pytest.fixture(scope="session")
def trained_yolo(small_clip: SyntheticClip, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(small_clip.clip, small_clip.labeled([0, 15, 29]), tmp_path_factory.mktemp("yolo"), TINY_YOLO)
