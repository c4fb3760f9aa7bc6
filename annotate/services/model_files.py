"""A generation's model as files that leave the platform: its checkpoint, an ONNX file, an 8-bit copy.

The ONNX files are written beside the checkpoint the first time someone asks for them and kept there
(they go with the clip's work folder when the clip is deleted). A file whose metadata names another
checkpoint hash is written again, so a download always matches the generation's checkpoint.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from annotate import engine_adapter
from annotate.errors import ConflictError, ServiceError
from annotate.models import Generation, JobStatus
from micromodels.checkpoints import verify_checkpoint
from micromodels.errors import EngineError
from micromodels.onnx_model import export_onnx, quantize_onnx, read_metadata

log = logging.getLogger(__name__)

MODEL_FILES = ("checkpoint", "onnx", "onnx_int8")


def _current(path: Path, sha256: str) -> bool:
    if not path.is_file():
        return False
    try:
        return read_metadata(path).get("micromodels.checkpoint_sha256") == sha256
    except Exception:  # unreadable: written again
        return False


def model_source(generation: Generation) -> dict[str, str]:
    """Where the model came from, for the ONNX metadata."""
    video = generation.video
    return {
        "project": f"{video.project.name} (id {video.project_id})",
        "clip": f"{video.name} (id {video.id})",
        "generation": str(generation.number),
        "trained_frames": str(len(generation.trained_frames)),
        "model": generation.model,
    }


def generation_model_file(*, generation: Generation, file: str) -> Path:
    """The file on disk (``checkpoint``, ``onnx`` or ``onnx_int8``), written on first request.
    ConflictError while the generation has no usable checkpoint."""
    if file not in MODEL_FILES:
        raise ServiceError(f"file must be one of: {', '.join(MODEL_FILES)}.", field="file")
    if generation.status != JobStatus.SUCCEEDED or not generation.checkpoint_path:
        raise ConflictError(
            f"Generation {generation.number} is {generation.status}; it has no model to download."
        )
    checkpoint = engine_adapter.checkpoint_of(generation)
    try:
        weights = verify_checkpoint(checkpoint)
    except EngineError as exc:
        raise ConflictError(
            f"The checkpoint of generation {generation.number} is unusable ({exc}); train again."
        ) from exc
    if file == "checkpoint":
        return weights
    onnx = weights.with_name(f"{weights.stem}.onnx")
    video = generation.video
    try:
        if not _current(onnx, checkpoint.sha256):
            log.info("writing the ONNX file of generation %s of video %s", generation.number, video.id)
            export_onnx(
                checkpoint,
                onnx,
                class_names=engine_adapter.class_names(video),
                frame_width=int(video.width or 0),
                frame_height=int(video.height or 0),
                source=model_source(generation),
                yolo_imgsz=settings.ANNOTATE_TRAIN_IMGSZ,
            )
        if file == "onnx":
            return onnx
        int8 = weights.with_name(f"{weights.stem}.int8.onnx")
        if not _current(int8, checkpoint.sha256):
            quantize_onnx(onnx, int8)
        return int8
    except EngineError as exc:
        raise ConflictError(f"Generation {generation.number} cannot be written as ONNX: {exc}") from exc
