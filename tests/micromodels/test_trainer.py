from dataclasses import replace
from pathlib import Path

import pytest

from micromodels import Cancelled, EngineError, TrainProgress, train
from micromodels.checkpoints import file_sha256
from micromodels.types import Box, TrainResult

from .conftest import TINY, SyntheticClip


def test_training_on_cpu_writes_a_hashed_clipnet_checkpoint_from_scratch(trained: TrainResult) -> None:
    assert trained.checkpoint.path.is_file()
    assert trained.checkpoint.sha256 == file_sha256(trained.checkpoint.path)
    assert trained.base_weights == "from scratch"
    assert trained.device == "cpu"
    assert trained.epochs == 2
    assert trained.trained_frames == (0, 15, 29)
    assert trained.model.startswith("per-clip ClipNet") and "from scratch" in trained.model
    assert all("train/heatmap_loss" in h for h in trained.loss_history)
    assert trained.metrics["steps"] == 40


def test_the_ultralytics_path_writes_a_yolo_checkpoint_and_says_so(trained_yolo: TrainResult) -> None:
    assert trained_yolo.checkpoint.sha256 == file_sha256(trained_yolo.checkpoint.path)
    assert trained_yolo.model.startswith("YOLO11N (ultralytics) from scratch")
    assert trained_yolo.epochs == 2
    # No validation runs during training, so no placeholder mAP is reported as a result.
    assert "train/box_loss" in trained_yolo.metrics and not any("mAP" in k for k in trained_yolo.metrics)


def test_progress_reports_each_epoch_and_a_missing_base_file_means_from_scratch(
    small_clip: SyntheticClip, tmp_path: Path
) -> None:
    seen: list[TrainProgress] = []
    config = replace(TINY, clipnet_max_steps=20, base_weights=str(tmp_path / "absent.pt"))
    result = train(small_clip.clip, small_clip.labeled([0, 29]), tmp_path, config, progress=seen.append)
    assert result.base_weights == "from scratch"
    assert [(p.epoch, p.epochs_total) for p in seen] == [(1, 1)]
    assert seen[0].losses and all(v >= 0 for v in seen[0].losses.values())


def test_a_stop_request_cancels_training(small_clip: SyntheticClip, tmp_path: Path) -> None:
    with pytest.raises(Cancelled):
        train(small_clip.clip, small_clip.labeled([0]), tmp_path, TINY, should_stop=lambda: True)


@pytest.mark.parametrize(
    ("box", "message"),
    [
        (Box(150, 10, 40, 40, 0), "outside"),
        (Box(10, 10, 20, 20, 7), "unknown label"),
        (Box(10, 10, 0, 20, 0), "no area"),
    ],
)
def test_bad_boxes_are_refused_with_a_clear_message(
    small_clip: SyntheticClip, tmp_path: Path, box: Box, message: str
) -> None:
    from micromodels import LabeledFrame

    with pytest.raises(EngineError, match=message):
        train(small_clip.clip, [LabeledFrame(0, (box,))], tmp_path, TINY)


def test_an_empty_clip_and_an_unreadable_frame_are_refused(small_clip: SyntheticClip, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="no frames"):
        train(replace(small_clip.clip, frames=()), small_clip.labeled([0]), tmp_path, TINY)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    frames = (broken, *small_clip.clip.frames[1:])
    with pytest.raises(EngineError, match="cannot read"):
        train(replace(small_clip.clip, frames=frames), small_clip.labeled([0]), tmp_path / "w", TINY)
