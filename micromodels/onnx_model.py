"""A generation's detector as an ONNX file, and the same detector run from that file by onnxruntime.

Either kind of checkpoint the engine writes is exported:

- ClipNet (the CPU default): the network with its input normalisation folded in, written by
  ``torch.onnx`` (the ``torch.export`` based exporter, opset ONNX_OPSET) with dynamic batch, height
  and width. Input ``images``: float32 N x 3 x H x W, BGR pixels 0..255, the frame resized by the
  ``scale`` in the metadata and padded to multiples of 8. Outputs the three heads as the torch module
  returns them: ``heatmap`` logits (N x classes x H/4 x W/4), ``size`` (log of box w, h in cells of 4
  input pixels) and ``offset`` logits (the centre within its cell after a sigmoid); decode as
  ``micromodels.clipnet.decode`` does.
- YOLO (ultralytics): ultralytics' own ONNX export at the training image size; its metadata (names,
  imgsz, stride) is kept and ours is added.

The metadata (``metadata_props``) names the classes, the input size and where the model came from
(the caller's ``source``: project, clip, generation). ``quantize_onnx`` writes an 8-bit copy by
onnxruntime's dynamic quantization (weights as int8, activations quantized at run time).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from micromodels.checkpoints import verify_checkpoint
from micromodels.clipnet import CHECKPOINT_FORMAT, ClipNet, load_model, read_checkpoint
from micromodels.device import ultralytics_offline
from micromodels.errors import EngineError
from micromodels.predictor import ClipNetDetector
from micromodels.types import Checkpoint

ONNX_OPSET = 18  # run by onnxruntime >= 1.14; the torch.export based exporter's default
_PAD = 114  # the grey the torch path pads frames with
KIND_KEY = "micromodels.kind"


@dataclass(frozen=True)
class OnnxFile:
    path: Path
    kind: str  # "clipnet" or "yolo"
    quantized: bool
    metadata: dict[str, str]


class _Normalised(nn.Module):
    """ClipNet taking raw BGR pixels, so a user of the file needs no knowledge of its normalisation."""

    def __init__(self, model: ClipNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        heatmap, size, offset = self.model(images / 255.0 - 0.5)
        return heatmap, size, offset


def _clipnet_input_size(scale: float, width: int, height: int) -> tuple[int, int]:
    w, h = (
        (max(8, round(width * scale)), max(8, round(height * scale)))
        if abs(scale - 1) >= 1e-3
        else (width, height)
    )
    return w + (-w % 8), h + (-h % 8)


def export_onnx(
    checkpoint: Checkpoint,
    target: Path,
    *,
    class_names: Sequence[str],
    frame_width: int,
    frame_height: int,
    source: Mapping[str, str],
    yolo_imgsz: int = 320,
) -> OnnxFile:
    """Write the checkpoint's detector to ``target`` (replaced whole, never half written)."""
    weights = verify_checkpoint(checkpoint)
    data = read_checkpoint(weights)
    target.parent.mkdir(parents=True, exist_ok=True)
    meta: dict[str, str] = {
        "micromodels.classes": json.dumps(list(class_names)),
        "micromodels.checkpoint_sha256": checkpoint.sha256,
        "micromodels.opset": str(ONNX_OPSET),
        **{f"micromodels.source.{k}": str(v) for k, v in source.items()},
    }
    with _temporary(target) as temp:
        if data is not None:
            model, shape = load_model(data)
            if shape.classes != len(class_names):
                raise EngineError(
                    f"the checkpoint has {shape.classes} classes, {len(class_names)} names were given"
                )
            in_w, in_h = _clipnet_input_size(shape.scale, frame_width, frame_height)
            meta |= {
                KIND_KEY: "clipnet",
                "micromodels.format": CHECKPOINT_FORMAT,
                "micromodels.scale": repr(shape.scale),
                "micromodels.input_width": str(in_w),
                "micromodels.input_height": str(in_h),
                "micromodels.input": "images: float32 N x 3 x H x W, BGR 0..255, frame resized by scale, "
                "padded with 114 to multiples of 8",
                "micromodels.outputs": "heatmap logits, size (log w/4, log h/4), offset logits; stride 4",
            }
            _export_clipnet(model, temp, in_w, in_h)
        else:
            meta |= {
                KIND_KEY: "yolo",
                "micromodels.input_width": str(yolo_imgsz),
                "micromodels.input_height": str(yolo_imgsz),
                "micromodels.input": "ultralytics letterboxed RGB 0..1, N x 3 x imgsz x imgsz",
            }
            _export_yolo(weights, temp, yolo_imgsz)
        _set_metadata(temp, meta)
    return OnnxFile(path=target, kind=meta[KIND_KEY], quantized=False, metadata=meta)


def _export_clipnet(model: ClipNet, target: Path, width: int, height: int) -> None:
    example = torch.full((1, 3, height, width), float(_PAD))
    side = {"min": 2, "max": 4096}
    dims = {
        0: torch.export.Dim("batch", min=1, max=256),
        2: 8 * torch.export.Dim("height8", **side),
        3: 8 * torch.export.Dim("width8", **side),
    }
    program = torch.onnx.export(
        _Normalised(model).eval(),
        (example,),
        input_names=["images"],
        output_names=["heatmap", "size", "offset"],
        dynamic_shapes={"images": dims},
        opset_version=ONNX_OPSET,
        dynamo=True,
        verbose=False,
    )
    if program is None:
        raise EngineError("torch.onnx.export returned no program")
    program.save(str(target))


def _export_yolo(weights: Path, target: Path, imgsz: int) -> None:
    ultralytics_offline()
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory(dir=target.parent) as folder:
        copy = Path(folder) / "model.pt"  # ultralytics writes the .onnx beside its input
        copy.write_bytes(weights.read_bytes())
        written = YOLO(str(copy)).export(
            format="onnx", opset=ONNX_OPSET, imgsz=imgsz, simplify=False, dynamic=False, device="cpu"
        )
        os.replace(written, target)


def _set_metadata(path: Path, meta: Mapping[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
    kept = {p.key: p.value for p in model.metadata_props if p.key not in meta}
    del model.metadata_props[:]
    for key, value in {**kept, **meta}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def read_metadata(path: Path) -> dict[str, str]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def quantize_onnx(source: Path, target: Path) -> OnnxFile:
    """An 8-bit copy of an exported file (dynamic quantization of the weights), same metadata."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    meta = read_metadata(source)
    if KIND_KEY not in meta:
        raise EngineError(f"{source.name} was not written by micromodels")
    meta["micromodels.quantized"] = "int8 weights, dynamic activations (onnxruntime.quantization)"
    with _temporary(target) as temp:
        quantize_dynamic(str(source), str(temp), weight_type=QuantType.QInt8)
        _set_metadata(temp, meta)
    return OnnxFile(path=target, kind=meta[KIND_KEY], quantized=True, metadata=meta)


class _temporary:
    """A temporary ``.onnx`` beside target, moved onto target when the block ends without an error."""

    def __init__(self, target: Path) -> None:
        self.target = target
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part.onnx", dir=target.parent)
        os.close(fd)
        self.temp = Path(name)

    def __enter__(self) -> Path:
        return self.temp

    def __exit__(self, kind: object, *_: object) -> None:
        try:
            if kind is None:
                os.replace(self.temp, self.target)
        finally:
            self.temp.unlink(missing_ok=True)


# -- running an exported file ------------------------------------------------------------------------


def load_onnx_detector(path: Path, *, threads: int = 1) -> Any:
    """The file's detector for ``predictor.predict_frames`` (decoded exactly as a checkpoint's):
    ClipNet on an onnxruntime session, or an ultralytics YOLO reading the ONNX file."""
    meta = read_metadata(path)
    kind = meta.get(KIND_KEY)
    if kind == "clipnet":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return ClipNetDetector(heads=partial(_onnx_heads, session), scale=float(meta["micromodels.scale"]))
    if kind == "yolo":
        ultralytics_offline()
        from ultralytics import YOLO

        return YOLO(str(path), task="detect")
    raise EngineError(f"{path.name} was not written by micromodels (no {KIND_KEY} in its metadata)")


def _onnx_heads(session: Any, batch: NDArray[np.float32]) -> tuple[Tensor, Tensor, Tensor]:
    inputs = {"images": np.ascontiguousarray(batch.transpose(0, 3, 1, 2))}
    heat, size, offset = (torch.from_numpy(a) for a in session.run(None, inputs))
    return heat, size, offset
