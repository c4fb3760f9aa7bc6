"""A generation's detector exported to ONNX finds the same boxes as the torch model it came from."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from micromodels import PrelabelConfig, train
from micromodels.engine import detect_all
from micromodels.metrics import iou
from micromodels.onnx_model import (
    ONNX_OPSET,
    OnnxFile,
    export_onnx,
    load_onnx_detector,
    quantize_onnx,
    read_metadata,
)
from micromodels.predictor import predict_frames
from micromodels.types import Box, Clip, TrainResult
from tests.micromodels.conftest import TINY, SyntheticClip

SOURCE = {"project": "road survey", "clip": "clip one (id 7)", "generation": "3"}
CONFIG = PrelabelConfig(device="cpu", detector_conf=0.1)


@pytest.fixture(scope="module")
def learned(small_clip: SyntheticClip, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """A ClipNet that has learned enough to find the objects (a few hundred steps)."""
    config = dataclasses.replace(TINY, clipnet_max_steps=300, clipnet_steps_per_epoch=100)
    return train(
        small_clip.clip, small_clip.labeled([0, 10, 20, 29]), tmp_path_factory.mktemp("onnx"), config
    )


def _agreement(
    torch_boxes: dict[int, tuple[Box, ...]], onnx_boxes: dict[int, tuple[Box, ...]]
) -> tuple[int, int]:
    """(torch boxes with an ONNX box of the same class at IoU >= 0.9, torch boxes)."""
    matched = total = 0
    for index, boxes in torch_boxes.items():
        for box in boxes:
            total += 1
            if any(o.label == box.label and iou(o, box) >= 0.9 for o in onnx_boxes.get(index, ())):
                matched += 1
    return matched, total


def _export(clip: Clip, trained: TrainResult, target: Path, **extra: Any) -> OnnxFile:
    return export_onnx(
        trained.checkpoint,
        target,
        class_names=clip.class_names,
        frame_width=clip.width,
        frame_height=clip.height,
        source=SOURCE,
        **extra,
    )


def test_the_onnx_file_finds_the_torch_models_boxes(small_clip, learned, tmp_path: Path) -> None:
    clip = small_clip.clip
    exported = _export(clip, learned, tmp_path / "model.onnx")
    torch_boxes = detect_all(clip, learned.checkpoint, CONFIG)
    detector = load_onnx_detector(exported.path)
    onnx_boxes = dict(predict_frames(detector, clip, list(range(len(clip.frames))), CONFIG))

    matched, total = _agreement(torch_boxes, onnx_boxes)
    assert total >= len(clip.frames)  # the model finds the objects, so there is something to compare
    assert matched >= 0.95 * total, (matched, total)
    assert sum(map(len, onnx_boxes.values())) <= total * 1.05  # and no extra boxes


def test_the_metadata_names_classes_input_size_and_source(small_clip, learned, tmp_path: Path) -> None:
    clip = small_clip.clip
    exported = _export(clip, learned, tmp_path / "model.onnx")
    meta = read_metadata(exported.path)
    assert json.loads(meta["micromodels.classes"]) == ["square", "disc"]
    assert meta["micromodels.kind"] == "clipnet" and meta["micromodels.opset"] == str(ONNX_OPSET)
    assert int(meta["micromodels.input_width"]) % 8 == 0 and int(meta["micromodels.input_height"]) % 8 == 0
    assert (
        meta["micromodels.source.clip"] == "clip one (id 7)" and meta["micromodels.source.generation"] == "3"
    )
    assert meta["micromodels.checkpoint_sha256"] == learned.checkpoint.sha256
    session = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["images"]
    assert [o.name for o in session.get_outputs()] == ["heatmap", "size", "offset"]


def test_the_8_bit_copy_is_smaller_keeps_the_metadata_and_still_finds_the_objects(
    small_clip, learned, tmp_path: Path
) -> None:
    clip = small_clip.clip
    fp32 = _export(clip, learned, tmp_path / "model.onnx")
    int8 = quantize_onnx(fp32.path, tmp_path / "model.int8.onnx")
    assert int8.path.stat().st_size < 0.5 * fp32.path.stat().st_size
    meta = read_metadata(int8.path)
    assert meta["micromodels.source.clip"] == SOURCE["clip"] and "int8" in meta["micromodels.quantized"]
    boxes = dict(predict_frames(load_onnx_detector(int8.path), clip, list(range(len(clip.frames))), CONFIG))
    truth = small_clip.truth
    found = sum(any(iou(b, t) >= 0.5 for b in boxes[i]) for i, frame in truth.items() for t in frame)
    assert found >= 0.8 * sum(map(len, truth.values()))


def test_a_yolo_generation_exports_through_ultralytics(small_clip, trained_yolo, tmp_path: Path) -> None:
    clip = small_clip.clip
    exported = _export(clip, trained_yolo, tmp_path / "yolo.onnx", yolo_imgsz=64)
    meta = read_metadata(exported.path)
    assert meta["micromodels.kind"] == "yolo" and meta["micromodels.input_width"] == "64"
    assert "names" in meta  # ultralytics' own metadata is kept beside ours
    config = dataclasses.replace(CONFIG, imgsz=64, detector_conf=0.01)
    torch_boxes = detect_all(clip, trained_yolo.checkpoint, config)
    onnx_boxes = dict(
        predict_frames(load_onnx_detector(exported.path), clip, list(range(len(clip.frames))), config)
    )
    matched, total = _agreement(torch_boxes, onnx_boxes)
    assert matched >= 0.95 * total, (matched, total)
