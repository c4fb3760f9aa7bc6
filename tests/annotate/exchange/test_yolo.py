"""YOLO exports in the Ultralytics layout: structure, splits, round trip, and a real training epoch."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from annotate.exchange.yolo import SplitOptions, clip_splits
from annotate.models import ExportFormat, Frame
from annotate.services.exports import ExportOptions, export_write
from annotate.services.imports import labels_import
from tests.annotate.exchange.conftest import box_summary

pytestmark = pytest.mark.django_db


def _export(project, target: Path, **options) -> Path:
    export_write(project=project, format=ExportFormat.YOLO, options=ExportOptions(**options), target=target)
    return target


def test_yolo_zip_has_images_labels_and_data_yaml_with_normalised_lines(project, make_video, tmp_path):
    video, truth = make_video(project, frames=3)
    Frame.objects.filter(video=video, index=2).first().boxes.all().delete()
    target = _export(project, tmp_path / "ds.zip")

    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        data = yaml.safe_load(archive.read("data.yaml"))
        first = archive.read(f"labels/train/v{video.id}_000000.txt").decode()
        empty = archive.read(f"labels/train/v{video.id}_000002.txt")
    assert data["names"] == {0: "square", 1: "disc"} and data["nc"] == 2
    assert data["train"] == "images/train" and data["val"] == "images/train"  # one clip: all in train
    assert "path" not in data
    assert {f"images/train/v{video.id}_{i:06d}.png" for i in range(3)} <= names
    box = truth.frames[0][0]
    cx, cy = (box.x + box.w / 2) / 128, (box.y + box.h / 2) / 96
    assert first.splitlines()[0] == f"0 {cx:.6f} {cy:.6f} {box.w / 128:.6f} {box.h / 96:.6f}"
    assert empty == b""


def test_split_by_clip_never_spreads_a_clip_over_two_splits(project, make_video, tmp_path):
    videos = [make_video(project, frames=3, seed=s)[0] for s in range(4)]
    target = _export(project, tmp_path / "ds", val_fraction=0.25, seed=7)
    seen: dict[int, set[str]] = {}
    for label in (target / "labels").rglob("*.txt"):
        clip = int(label.stem.split("_")[0][1:])
        seen.setdefault(clip, set()).add(label.parent.name)
    assert sorted(seen) == sorted(v.id for v in videos)
    assert all(len(splits) == 1 for splits in seen.values())
    assert sorted(s for splits in seen.values() for s in splits) == ["train", "train", "train", "val"]
    data = yaml.safe_load((target / "data.yaml").read_text())
    # No absolute path: Ultralytics resolves train/val against data.yaml's folder, wherever it moves.
    assert "path" not in data and data["val"] == "images/val"


def test_split_by_clip_is_seeded_and_split_by_frame_mixes_clips():
    options = SplitOptions(val_fraction=0.5, seed=1)
    assert clip_splits([1, 2, 3, 4], options) == clip_splits([4, 3, 2, 1], options)
    assert sorted(clip_splits([1, 2, 3, 4], options).values()) == ["train", "train", "val", "val"]


def test_yolo_round_trip_from_a_zip_gives_identical_boxes(project, make_video, tmp_path):
    video, _ = make_video(project, frames=5, seed=4)
    target = _export(project, tmp_path / "ds.zip", video=video.id, split="frame", val_fraction=0.4)
    fresh, _ = make_video(project, frames=5, seed=4, labeled=False)

    result = labels_import(video=fresh, path=target, format="yolo")

    # YOLO keeps 6 decimals of a fraction and no tracks: compare boxes to a thousandth of a pixel.
    def untracked(rows):
        return [row[:-1] for row in rows]

    assert untracked(box_summary(fresh)) == untracked(box_summary(video))
    assert result.boxes == 10 and result.frames == 5 and result.tracks == 0


def test_ultralytics_trains_one_epoch_on_a_yolo_export_without_label_warnings(project, make_video, tmp_path):
    for seed in range(2):
        make_video(project, frames=4, width=96, height=64, seed=seed)
    target = _export(project, tmp_path / "dataset", val_fraction=0.5)
    config = tmp_path / "ultralytics-config"
    config.mkdir()
    # Ultralytics fetches Arial.ttf when it checks a dataset; a local font stands in (no plots drawn).
    import matplotlib

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    (config / "Arial.ttf").write_bytes(font.read_bytes())
    script = (
        "import json, sys\n"
        "from ultralytics import YOLO\n"
        "model = YOLO('yolo11n.yaml')\n"
        "model.train(data=sys.argv[1], epochs=1, imgsz=64, batch=4, device='cpu', workers=0, plots=False,\n"
        "            project=sys.argv[2], name='run', exist_ok=True, val=True, amp=False, verbose=False)\n"
        "print(json.dumps({'ok': True}))\n"
    )
    env = dict(
        os.environ,
        YOLO_OFFLINE="1",
        YOLO_CONFIG_DIR=str(config),
        YOLO_VERBOSE="true",
        OMP_NUM_THREADS="2",
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(target / "data.yaml"), str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"ok": True}
    warnings = [line for line in output.splitlines() if "WARNING" in line]
    assert not [w for w in warnings if any(k in w.lower() for k in ("label", "corrupt", "ignoring"))], (
        warnings
    )
    assert re.findall(r"(\d+) corrupt", output) and set(re.findall(r"(\d+) corrupt", output)) == {"0"}
    assert "4 images, 0 backgrounds, 0 corrupt" in output
