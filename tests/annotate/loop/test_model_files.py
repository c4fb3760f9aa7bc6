"""A generation's model leaves the platform: checkpoint, ONNX and 8-bit ONNX, by the API and the CLI."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from django.core.management import call_command

from annotate.models import Generation, JobStatus
from annotate.services.generations import generation_execute, generation_start
from micromodels.onnx_model import read_metadata
from tests.annotate.loop.conftest import label_from_truth

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(clip_video, truth, tiny_training, django_capture_on_commit_callbacks) -> Generation:
    label_from_truth(clip_video, truth, [0, 13, 26, 39])
    with django_capture_on_commit_callbacks(execute=False):
        generation, _ = generation_start(video=clip_video)
    generation_execute(generation_id=generation.id)  # what the worker runs
    generation.refresh_from_db()
    assert generation.status == JobStatus.SUCCEEDED, generation.error
    return generation


def _download(client, generation: Generation, file: str, tmp_path: Path) -> Path:
    response = client.get(f"/api/generations/{generation.id}/model/", {"file": file})
    assert response.status_code == 200, response.content
    target = tmp_path / response["Content-Disposition"].split('filename="')[1].rstrip('"')
    target.write_bytes(b"".join(response.streaming_content))
    return target


def test_a_manager_downloads_the_checkpoint_the_onnx_file_and_its_8_bit_copy(
    api_client, trained, clip_video, truth, tmp_path
):
    checkpoint = _download(api_client, trained, "checkpoint", tmp_path)
    assert hashlib.sha256(checkpoint.read_bytes()).hexdigest() == trained.checkpoint_sha256
    onnx = _download(api_client, trained, "onnx", tmp_path)
    int8 = _download(api_client, trained, "onnx_int8", tmp_path)
    assert onnx.name.endswith("-generation1.onnx") and int8.name.endswith("-generation1.int8.onnx")
    assert int8.stat().st_size < onnx.stat().st_size

    meta = read_metadata(onnx)
    assert json.loads(meta["micromodels.classes"]) == ["square", "disc"]
    assert meta["micromodels.source.clip"] == f"{clip_video.name} (id {clip_video.id})"
    assert meta["micromodels.source.generation"] == "1"
    assert meta["micromodels.checkpoint_sha256"] == trained.checkpoint_sha256
    width, height = int(meta["micromodels.input_width"]), int(meta["micromodels.input_height"])
    # The file runs on a frame of the clip at the input size its metadata gives.
    frame = cv2.imread(str(truth.frames_dir / "000005.png"))
    scale = float(meta["micromodels.scale"])
    resized = cv2.resize(frame, (round(truth.width * scale), round(truth.height * scale)))
    padded = np.full((height, width, 3), 114, np.uint8)
    padded[: resized.shape[0], : resized.shape[1]] = resized
    for path in (onnx, int8):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        heatmap = session.run(["heatmap"], {"images": padded.transpose(2, 0, 1)[None].astype(np.float32)})[0]
        assert heatmap.shape == (1, 2, height // 4, width // 4)


def test_a_model_that_does_not_exist_yet_or_a_bad_file_name_is_refused(api_client, trained):
    queued = Generation.objects.create(video=trained.video, number=2)
    response = api_client.get(f"/api/generations/{queued.id}/model/", {"file": "onnx"})
    assert response.status_code == 409 and "has no model" in response.json()["detail"]
    response = api_client.get(f"/api/generations/{trained.id}/model/", {"file": "tflite"})
    assert response.status_code == 400 and "file" in response.json()


def test_the_export_model_command_writes_all_three_files(trained, clip_video, tmp_path):
    out = io.StringIO()
    call_command("export_model", str(clip_video.id), "--out", str(tmp_path / "model"), "--int8", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["generation"] == 1 and set(result["bytes"]) == {"checkpoint", "onnx", "onnx_int8"}
    assert all(Path(result[kind]).is_file() for kind in result["bytes"])
    assert result["metadata"]["micromodels.source.generation"] == "1"
