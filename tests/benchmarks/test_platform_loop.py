"""The platform loop benchmark, end to end on a tiny generated clip: its own embedded instance (migrate,
a user, a real ``run_worker``, gunicorn), the oracle labeler through the REST API, one generation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.make_clips import make_clip

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_one_generation_through_the_rest_api_and_a_real_worker(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip", frames=30, width=160, height=120, objects=2, seed=3, video=False)
    rows_path = tmp_path / "rows.json"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/platform_loop.py",
            *("--frames", str(clip.frames_dir), "--truth", str(tmp_path / "clip" / "truth.json")),
            *("--format", "json", "--name", "tiny", "--generations", "1"),
            *("--time-budget", "3", "--epochs", "5", "--data-dir", str(tmp_path / "instance")),
            *("--json", str(rows_path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    logs = "".join(
        f"\n--- {p.name} ---\n{p.read_text(errors='replace')[-4000:]}"
        for p in (tmp_path / "instance").glob("*.log")
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}{logs}"
    [row] = json.loads(rows_path.read_text())
    assert (row["clip"], row["generation"], row["labeled"]) == ("tiny", 1, 5)
    assert 0.0 <= row["recall"] <= 1.0 and 0.0 <= row["precision"] <= 1.0
    assert row["train_s"] > 0 and row["prelabel_s"] > 0 and row["finished_to_visible_s"] > 0
    # The oracle finished the frames generation 1 suggested next, so the dashboard's live figure for
    # generation 1 exists, on exactly those frames, and agrees with what the labeler met there.
    assert row["live"]["frames"] == row["next_frames"] > 0
    actions = row["next_actions"]
    assert (
        row["live"]["final_boxes"]
        == actions["accepted"] + actions["edited"] + actions["added"]
        == 2 * row["next_frames"]
    )
    assert row["live"]["engine"]["recall"] == pytest.approx(row["met_recall"])
    assert row["live"]["engine"]["precision"] == pytest.approx(row["met_precision"])
    assert "| tiny | 1 | 5 |" in done.stdout
