from dataclasses import replace
from pathlib import Path

import pytest
import torch

from micromodels import PrelabelConfig, train
from micromodels.clipnet import CHECKPOINT_FORMAT, read_checkpoint, working_scale
from micromodels.engine import choose_detector, detect_all
from micromodels.metrics import score_clip
from micromodels.predictor import ClipNetDetector, load_detector
from micromodels.types import Box, TrainResult

from .conftest import TINY, SyntheticClip

# Enough steps for two shapes on a generated clip: still a few seconds on one CPU core.
LEARNS = replace(
    TINY,
    clipnet_max_steps=500,
    clipnet_steps_per_epoch=100,
    clipnet_batch=8,
    clipnet_width=16,
    clipnet_crop=96,
)


def test_clipnet_learns_the_objects_from_three_labeled_frames(
    small_clip: SyntheticClip, tmp_path: Path
) -> None:
    labeled = [0, 15, 29]
    result = train(small_clip.clip, small_clip.labeled(labeled), tmp_path, LEARNS)
    detections = detect_all(small_clip.clip, result.checkpoint, PrelabelConfig())
    others = [i for i in range(30) if i not in labeled]
    shown = {i: tuple(b for b in boxes if b.score >= 0.3) for i, boxes in detections.items()}
    score = score_clip(shown, small_clip.truth, others)
    # Measured only on frames it never trained on.
    assert score.recall >= 0.8 and score.precision >= 0.8, score


def test_the_checkpoint_says_what_it_holds_and_loads_without_pickled_code(trained: TrainResult) -> None:
    data = read_checkpoint(trained.checkpoint.path)
    assert data is not None and data["format"] == CHECKPOINT_FORMAT
    assert data["classes"] == 2 and data["scale"] > 0
    assert isinstance(load_detector(trained.checkpoint.path), ClipNetDetector)
    # A plain dict of tensors and numbers: torch's safe loader accepts it.
    assert torch.load(trained.checkpoint.path, weights_only=True)["format"] == CHECKPOINT_FORMAT


def test_a_yolo_file_is_not_mistaken_for_a_clipnet_checkpoint(trained_yolo: TrainResult) -> None:
    assert read_checkpoint(trained_yolo.checkpoint.path) is None
    assert not isinstance(load_detector(trained_yolo.checkpoint.path), ClipNetDetector)


def test_the_next_generation_warm_starts_from_the_previous_clipnet(
    small_clip: SyntheticClip, trained: TrainResult, tmp_path: Path
) -> None:
    config = replace(TINY, base_weights=str(trained.checkpoint.path), detector="auto")
    result = train(small_clip.clip, small_clip.labeled([0, 10, 20, 29]), tmp_path, config)
    assert result.base_weights == str(trained.checkpoint.path)
    assert "warm-started" in result.model


def test_auto_picks_yolo_for_yolo_base_weights_and_clipnet_on_a_cpu_without_them(
    trained: TrainResult, trained_yolo: TrainResult
) -> None:
    cpu = replace(TINY, detector="auto", device="cpu")
    assert choose_detector(cpu) == "clipnet"
    assert choose_detector(replace(cpu, base_weights=str(trained_yolo.checkpoint.path))) == "yolo"
    assert choose_detector(replace(cpu, base_weights=str(trained.checkpoint.path))) == "clipnet"
    assert choose_detector(replace(cpu, device="cuda:0")) == "yolo"


def test_the_working_scale_brings_objects_to_the_configured_size() -> None:
    boxes = [Box(0, 0, 100, 100, 0), Box(0, 0, 64, 64, 0), Box(0, 0, 200, 200, 0)]
    assert working_scale(boxes, 32.0, 0.1, 2.0) == pytest.approx(0.32)
    assert working_scale([Box(0, 0, 4, 4, 0)], 32.0, 0.1, 2.0) == 2.0


def test_the_working_scale_never_makes_a_frame_bigger_than_the_pixel_cap(
    small_clip: SyntheticClip, tmp_path: Path
) -> None:
    # The clip is 160x128 with objects that would be enlarged 1.33x; a 10,000-pixel cap shrinks it.
    result = train(
        small_clip.clip, small_clip.labeled([0]), tmp_path, replace(TINY, clipnet_max_input_pixels=10_000)
    )
    data = read_checkpoint(result.checkpoint.path)
    assert data is not None and data["scale"] * data["scale"] * 160 * 128 <= 10_000 + 1
