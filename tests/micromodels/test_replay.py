import json
from pathlib import Path

import pytest

from micromodels.replay import main

from .conftest import SyntheticClip


def test_the_replay_runs_end_to_end_on_a_generated_clip(
    small_clip: SyntheticClip, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rows.json"
    main(
        [
            "--frames", str(small_clip.root / "frames"),
            "--truth", str(small_clip.root / "gt.txt"),
            "--format", "mot",
            "--generations", "2",
            "--per-generation", "3",
            "--epochs", "1",
            "--clipnet-steps", "100",
            "--imgsz", "64",
            "--time-budget", "0",
            "--work", str(tmp_path / "work"),
            "--json", str(out),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())
    assert [(r["generation"], r["method"]) for r in rows] == [
        (g, m) for g in (1, 2) for m in ("engine", "interpolation", "tracker only", "detector only")
    ]
    assert [r["labeled"] for r in rows if r["method"] == "engine"] == [3, 6]
    engine = [r for r in rows if r["method"] == "engine"]
    assert all(0 <= r["recall"] <= 1 and 0 <= r["precision"] <= 1 for r in rows)
    assert engine[-1]["recall"] >= 0.9  # two bouncing squares are easy to track
    assert "gen 2 engine" in printed and "load average" in printed


def test_reuse_checkpoints_keeps_a_generation_trained_on_the_same_frames(
    small_clip: SyntheticClip, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "--frames", str(small_clip.root / "frames"),
        "--truth", str(small_clip.root / "gt.txt"),
        "--format", "mot",
        "--generations", "1",
        "--per-generation", "3",
        "--clipnet-steps", "40",
        "--time-budget", "0",
        "--work", str(tmp_path / "work"),
        "--reuse-checkpoints",
    ]  # fmt: skip
    main(args)
    checkpoint = tmp_path / "work" / "gen1" / "checkpoint.pt"
    written = checkpoint.stat().st_mtime_ns
    assert "(cached checkpoint)" not in capsys.readouterr().out
    main(args)
    assert "(cached checkpoint)" in capsys.readouterr().out
    assert checkpoint.stat().st_mtime_ns == written  # not trained again
    checkpoint.write_bytes(checkpoint.read_bytes() + b"x")  # a changed file is never reused
    main(args)
    assert "(cached checkpoint)" not in capsys.readouterr().out
