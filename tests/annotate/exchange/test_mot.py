"""MOT exports (one folder per clip) and imports, including fixtures/make_clips ground truth."""

from __future__ import annotations

import json
import zipfile

import pytest

from annotate.models import Box, ExportFormat, Frame, LabelClass, Track
from annotate.services.exports import ExportOptions, export_write
from annotate.services.imports import labels_import
from fixtures.make_clips import make_clip
from tests.annotate.exchange.conftest import box_summary

pytestmark = pytest.mark.django_db


def test_mot_zip_holds_gt_lines_per_clip_with_fresh_ids_for_untracked_boxes(project, make_video, tmp_path):
    video, truth = make_video(project, frames=3, name="Street A")
    Box.objects.filter(frame__video=video, frame__index=2).update(track=None)
    target = tmp_path / "mot.zip"
    result = export_write(project=project, format=ExportFormat.MOT, options=ExportOptions(), target=target)

    folder = f"street-a-{video.id}"
    with zipfile.ZipFile(target) as archive:
        lines = archive.read(f"{folder}/gt/gt.txt").decode().splitlines()
        id_classes = json.loads(archive.read(f"{folder}/gt/id_classes.json"))
        labels = archive.read(f"{folder}/gt/labels.txt").decode().splitlines()
        seqinfo = archive.read(f"{folder}/seqinfo.ini").decode()
    first = truth.frames[0][0]
    # MOT16/17 columns (consider, class, visibility) with the class as a line of labels.txt.
    assert lines[0] == f"1,1,{first.x},{first.y},{first.w},{first.h},1,1,1"
    assert labels == ["square", "disc"]
    assert "imDir=img1" in seqinfo and "imExt=.jpg" in seqinfo
    assert len(lines) == result.boxes == 6
    assert [line.split(",")[1] for line in lines] == ["1", "2", "1", "2", "3", "4"]
    assert id_classes == {"1": "square", "2": "disc", "3": "square", "4": "disc"}
    assert "seqLength=3" in seqinfo and "imWidth=128" in seqinfo


def test_mot_round_trip_gives_identical_boxes_classes_tracks_and_frames(project, make_video, tmp_path):
    video, _ = make_video(project, frames=5, seed=2)
    target = tmp_path / "mot.zip"
    export_write(
        project=project, format=ExportFormat.MOT, options=ExportOptions(video=video.id), target=target
    )
    fresh, _ = make_video(project, frames=5, seed=2, labeled=False)

    result = labels_import(video=fresh, path=target, format="mot")

    assert box_summary(fresh) == box_summary(video)
    assert result.tracks == 2
    assert set(Track.objects.filter(video=fresh).values_list("external_id", flat=True)) == {"1", "2"}


def test_make_clips_ground_truth_imports_with_its_class_column(project, make_video, tmp_path):
    video, truth = make_video(project, frames=4, labeled=False)
    make_clip(tmp_path / "gen", frames=4, width=128, height=96, video=False, images=False)

    result = labels_import(video=video, path=tmp_path / "gen" / "gt.txt", format="mot")

    assert result.boxes == 8 and result.frames == 4 and result.tracks == 2
    square = LabelClass.objects.get(project=project, name="square")
    first = truth.frames[0][0]
    box = Box.objects.get(frame__video=video, frame__index=0, label_class=square)
    assert (box.x, box.y, box.w, box.h) == (first.x, first.y, first.w, first.h)
    assert not Frame.objects.filter(video=video, touched_at__isnull=True).exists()
