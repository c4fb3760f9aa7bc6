"""The GPU benchmark's CPU-safe parts: the refusal without CUDA and the inputs it generates."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_generation", ROOT / "benchmarks" / "gpu_generation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_generation"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the benchmark would run")
def test_without_cuda_it_exits_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--frames", "10"]) == 2
    assert "no CUDA device is usable" in capsys.readouterr().err


def test_a_cpu_device_is_refused_before_any_work() -> None:
    assert "must be a CUDA device" in (_load().cuda_problem("cpu") or "")


def test_it_generates_the_clip_and_evenly_spaced_labeled_frames(tmp_path: Path) -> None:
    module = _load()
    args = module.parse(
        ["--frames", "12", "--width", "96", "--height", "80", "--objects", "2", "--labeled", "4"]
    )
    clip, labeled, truth = module.make_inputs(args, tmp_path)
    assert len(clip.frames) == 12 and (clip.width, clip.height) == (96, 80)
    assert [f.index for f in labeled] == [0, 4, 7, 11]
    assert all(b.track_id is None for f in labeled for b in f.boxes)  # as the UI sends them
    assert len(truth[5]) == 2
