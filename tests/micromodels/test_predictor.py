from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from micromodels import EngineError, PrelabelConfig, prelabel
from micromodels.frames import read_frame
from micromodels.predictor import load_detector, predict_frames
from micromodels.types import TrainResult

from .conftest import SyntheticClip


@pytest.mark.parametrize("kind", ["trained", "trained_yolo"])
def test_prediction_streams_one_batch_of_frames_at_a_time_for_either_checkpoint(
    small_clip: SyntheticClip, kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained: TrainResult = request.getfixturevalue(kind)
    reads: list[Path] = []

    def counting(path: Path) -> NDArray[np.uint8]:
        reads.append(path)
        return read_frame(path)

    monkeypatch.setattr("micromodels.predictor.read_frame", counting)
    model = load_detector(trained.checkpoint.path)
    config = PrelabelConfig(imgsz=64, batch=4)
    stream = predict_frames(model, small_clip.clip, list(range(30)), config)
    assert reads == []  # nothing is read before the first result is asked for
    first_index, first_boxes = next(stream)
    assert first_index == 0 and len(reads) == 4
    rest = list(stream)
    assert [i for i, _ in rest] == list(range(1, 30)) and len(reads) == 30
    for _, boxes in [(first_index, first_boxes), *rest]:
        assert all(b.source == "detector" and 0 <= b.score <= 1 for b in boxes)


def test_prelabel_refuses_a_checkpoint_whose_hash_does_not_match(
    small_clip: SyntheticClip, trained: TrainResult, tmp_path: Path
) -> None:
    forged = replace(trained.checkpoint, sha256="0" * 64)
    with pytest.raises(EngineError, match="hash mismatch"):
        prelabel(small_clip.clip, small_clip.labeled([0]), forged, tmp_path)


def test_prelabel_returns_boxes_for_every_unlabeled_frame_only(
    small_clip: SyntheticClip, trained: TrainResult, tmp_path: Path
) -> None:
    labeled = small_clip.labeled([0, 15, 29])
    result = prelabel(
        small_clip.clip, labeled, trained.checkpoint, tmp_path, PrelabelConfig(imgsz=64), suggestions=3
    )
    assert sorted(result.boxes) == [i for i in range(30) if i not in (0, 15, 29)]
    assert len(result.suggestions) == 3
    assert all(s.frame_index not in (0, 15, 29) and s.reason for s in result.suggestions)
    for boxes in result.boxes.values():
        for b in boxes:
            assert 0 <= b.score <= 1 and b.track_id is not None
            assert b.x >= 0 and b.x + b.w <= 160 and b.y >= 0 and b.y + b.h <= 128


def test_prelabel_stops_when_asked(small_clip: SyntheticClip, trained: TrainResult, tmp_path: Path) -> None:
    from micromodels import Cancelled

    with pytest.raises(Cancelled):
        prelabel(
            small_clip.clip, small_clip.labeled([0]), trained.checkpoint, tmp_path, should_stop=lambda: True
        )
