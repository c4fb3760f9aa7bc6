"""Clips ingested with --fps keep only some source frames: frame numbers in MOT, CVAT for video and
COCO files count the source's frames, so every box lands on the frame it was drawn on, boxes on
source frames the clip did not keep are skipped and counted, and exports write the same numbering
(issue 10, the wrong-frame risk)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import cv2
import pytest

from annotate.models import Box, Frame, LabelClass, Video
from annotate.services.exports import ExportOptions, export_write
from annotate.services.imports import NOT_KEPT, labels_import
from fixtures.make_clips import make_clip
from tests.annotate.exchange.conftest import ingest_path

pytestmark = pytest.mark.django_db

SHARED = Path(__file__).resolve().parents[4] / "shared"
TUD = SHARED / "eval" / "TUD-Campus"

Boxes = dict[int, list[tuple[float, float, float, float]]]


def _by_source_frame(video: Video) -> Boxes:
    """The clip's boxes keyed by their frame's number in the source (0-based)."""
    found: Boxes = defaultdict(list)
    for number, x, y, w, h in Box.objects.filter(frame__video=video).values_list(
        "frame__source_index", "x", "y", "w", "h"
    ):
        assert number is not None  # ingest numbers every frame
        found[number].append((round(x, 2), round(y, 2), round(w, 2), round(h, 2)))
    return {n: sorted(b) for n, b in found.items()}


def _mot_rows(gt: Path, width: int, height: int) -> Boxes:
    """gt.txt rows by 0-based source frame, cut to the picture as the import cuts them."""
    rows: Boxes = defaultdict(list)
    for line in gt.read_text().splitlines():
        fields = line.split(",")
        frame = int(fields[0]) - 1
        x, y, w, h = (float(v) for v in fields[2:6])
        x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(float(width), x + w), min(float(height), y + h)
        if x1 > x0 and y1 > y0:
            rows[frame].append((round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)))
    return {n: sorted(b) for n, b in rows.items()}


def _tud_video(folder: Path, fps: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "tud-campus.mp4"
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"mp4v"), fps, (640, 480))
    for picture in sorted((TUD / "img1").glob("*.jpg")):
        image = cv2.imread(str(picture))
        assert image is not None
        writer.write(image)
    writer.release()
    return target


@pytest.mark.skipif(not TUD.is_dir(), reason="../shared/eval/TUD-Campus is absent")
def test_real_mot_ground_truth_lands_on_the_source_frames_a_sampled_clip_kept(project, import_root, tmp_path):
    LabelClass.objects.filter(project=project).exclude(index=0).delete()
    video = ingest_path(project, _tud_video(import_root, fps=25), sample_fps=5)
    kept = list(Frame.objects.filter(video=video).order_by("index").values_list("source_index", flat=True))
    assert kept == list(range(0, 71, 5))  # every fifth source frame
    gt = TUD / "gt" / "gt.txt"
    truth = _mot_rows(gt, 640, 480)
    on_kept = sum(len(truth.get(n, [])) for n in kept)
    lines = len(gt.read_text().splitlines())

    preview = labels_import(video=video, path=gt, format="mot", dry_run=True)
    result = labels_import(video=video, path=gt, format="mot")

    for report in (preview, result):
        assert any("frame numbers of the source video" in note for note in report.notes), report.notes
        assert report.skipped[NOT_KEPT] == lines - on_kept - result.dropped_boxes
    assert result.boxes == on_kept
    assert any("did not keep (sampled at 5 fps) were skipped" in note for note in result.notes)
    assert _by_source_frame(video) == {n: truth[n] for n in kept if n in truth}

    # Out and back in: the export numbers frames as the import reads them.
    before = _by_source_frame(video)
    out = tmp_path / "mot"
    export_write(project=project, format="mot", options=ExportOptions(video=video.id), target=out)
    exported = next(out.glob("*/gt/gt.txt"))
    assert {int(line.split(",")[0]) for line in exported.read_text().splitlines()} == {n + 1 for n in before}
    assert "seqLength=71\n" in (exported.parent.parent / "seqinfo.ini").read_text()
    again = labels_import(video=video, path=exported, format="mot", mode="replace")
    assert again.boxes == result.boxes and NOT_KEPT not in again.skipped
    assert _by_source_frame(video) == before


def test_a_generated_clip_sampled_at_half_rate_takes_source_numbered_files_and_round_trips(
    project, import_root, tmp_path
):
    truth = make_clip(import_root / "gen", frames=20, width=128, height=96, fps=10, seed=3)
    video = ingest_path(project, truth.video_path, sample_fps=5)
    kept = list(Frame.objects.filter(video=video).order_by("index").values_list("source_index", flat=True))
    assert kept == list(range(0, 20, 2))
    expected = {n: sorted((b.x, b.y, b.w, b.h) for b in truth.frames[n]) for n in kept}

    # make_clip's gt.txt is written against the source video (1-based frames of all 20).
    result = labels_import(video=video, path=import_root / "gen" / "gt.txt", format="mot")

    assert _by_source_frame(video) == {n: [tuple(map(float, b)) for b in bs] for n, bs in expected.items()}
    assert result.skipped[NOT_KEPT] == 20  # 2 objects on each of the 10 source frames not kept
    before = _by_source_frame(video)

    cvat = tmp_path / "cvat.zip"
    export_write(project=project, format="cvat", options=ExportOptions(video=video.id), target=cvat)
    again = labels_import(video=video, path=cvat, format="cvat", mode="replace")
    assert again.boxes == result.boxes and NOT_KEPT not in again.skipped
    assert _by_source_frame(video) == before

    coco = tmp_path / "coco.json"
    export_write(project=project, format="coco", options=ExportOptions(video=video.id), target=coco)
    images = json.loads(coco.read_text())["images"]
    assert [i["frame_index"] for i in images] == kept


def test_a_cvat_video_track_on_source_frames_not_kept_is_skipped_not_moved(project, import_root, tmp_path):
    truth = make_clip(import_root / "gen", frames=12, width=96, height=96, fps=10, seed=1)
    video = ingest_path(project, truth.video_path, sample_fps=5)
    track = "".join(
        f'<box frame="{f}" outside="0" occluded="0" keyframe="1" xtl="{10 + f}" ytl="10" '
        f'xbr="{30 + f}" ybr="30"/>'
        for f in (3, 4, 5)
    )
    xml = tmp_path / "annotations.xml"
    xml.write_text(f'<annotations><track id="0" label="square">{track}</track></annotations>')

    result = labels_import(video=video, path=xml, format="cvat")

    # Source frame 4 is kept (clip frame 2); 3 and 5 are not: skipped, never put on frame 2.
    assert list(Box.objects.values_list("frame__index", "frame__source_index", "x")) == [(2, 4, 14.0)]
    assert result.skipped[NOT_KEPT] == 2
