"""All or nothing: every invalid item is reported and nothing at all is written."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from annotate.models import Box, ExportFormat, LabelClass, Track
from annotate.services.exports import ExportOptions, export_write
from annotate.services.imports import LabelImportError, labels_import

pytestmark = pytest.mark.django_db


def _coco(tmp_path: Path, annotations: list[dict], images=None, categories=None) -> Path:
    document = {
        "images": images if images is not None else [{"id": 1, "file_name": "000000.png", "frame_index": 0}],
        "annotations": annotations,
        "categories": categories if categories is not None else [{"id": 1, "name": "square"}],
    }
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(document))
    return path


def _ann(n: int, bbox, **extra) -> dict:
    return {"id": n, "image_id": 1, "category_id": 1, "bbox": bbox, **extra}


def _refused(video, path: Path, format: str = "coco", **options) -> list[str]:
    before = (Box.objects.count(), Track.objects.count(), LabelClass.objects.count())
    with pytest.raises(LabelImportError) as caught:
        labels_import(video=video, path=path, format=format, **options)
    assert (Box.objects.count(), Track.objects.count(), LabelClass.objects.count()) == before
    return caught.value.errors


@pytest.fixture
def clip(project, make_video):
    return make_video(project, frames=3, labeled=False)[0]


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ([5, 5, 0, 10], "annotation 7: bbox [5, 5, 0, 10] has no area"),
        ([5, 5, -3, 10], "has no area"),
        ([5, "NaN", 3, 10], "bbox must be 4 finite numbers"),
        ([5, 5, 3], "bbox must be 4 finite numbers"),
    ],
)
def test_a_bad_box_fails_the_whole_import(clip, tmp_path, bbox, message):
    good = _ann(1, [1, 1, 10, 10])
    errors = _refused(clip, _coco(tmp_path, [good, _ann(7, bbox)]))
    assert len(errors) == 1 and message in errors[0], errors


def test_nan_in_json_is_refused(clip, tmp_path):
    path = tmp_path / "nan.json"
    path.write_text(
        '{"images":[{"id":1,"frame_index":0}],"categories":[{"id":1,"name":"square"}],'
        '"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[NaN,1,2,3]}]}'
    )
    assert "nan.json: not valid JSON" in _refused(clip, path)[0]
    path.write_text(
        '{"images":[{"id":1,"frame_index":0}],"categories":[{"id":1,"name":"square"}],'
        '"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[1e400,1,2,3]}]}'
    )
    assert "nan.json: not valid JSON" in _refused(clip, path)[0]


def test_unknown_frame_class_image_and_duplicate_ids_are_all_listed(clip, tmp_path):
    images = [
        {"id": 1, "frame_index": 0},
        {"id": 2, "frame_index": 99},
        {"id": 3, "file_name": "holiday.jpg"},
        {"id": 1, "frame_index": 1},
    ]
    categories = [{"id": 1, "name": "square"}, {"id": 2, "name": "cat"}]
    annotations = [
        _ann(1, [1, 1, 5, 5]),
        _ann(2, [1, 1, 5, 5], image_id=2),
        _ann(3, [1, 1, 5, 5], image_id=3),
        _ann(4, [1, 1, 5, 5], category_id=2),
        _ann(5, [1, 1, 5, 5], category_id=9),
        _ann(6, [1, 1, 5, 5], image_id=42),
        _ann(1, [1, 1, 5, 5]),
        _ann(8, [1, 1, 5, 5], track_id=3),
        _ann(9, [2, 2, 5, 5], track_id=3),
    ]
    errors = _refused(clip, _coco(tmp_path, annotations, images, categories))
    text = "\n".join(errors)
    assert "image 1: duplicate id" in text
    assert "annotation 1: duplicate id" in text
    assert "annotation 2: frame 99 matches no frame of clip" in text and "(frames 0-2)" in text
    assert "annotation 3: image 'holiday.jpg' matches no frame" in text
    assert "annotation 4: unknown class 'cat' (allow create_classes to add it)" in text
    assert "annotation 5: unknown category_id 9" in text
    assert "annotation 6: unknown image_id 42" in text
    assert "annotation 9: track 3 appears twice on frame 0 (also annotation 8)" in text
    assert len(errors) == 8


def test_create_classes_adds_the_unknown_class(clip, tmp_path):
    path = _coco(tmp_path, [_ann(1, [1, 1, 5, 5])], categories=[{"id": 1, "name": "cat"}])
    result = labels_import(video=clip, path=path, format="coco", create_classes=True)
    assert result.classes_created == ["cat"]
    cat = LabelClass.objects.get(project=clip.project, name="cat")
    assert cat.index == 2 and Box.objects.get(frame__video=clip).label_class == cat


def test_malformed_json_and_lines_are_refused(clip, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"images": [')
    assert "not valid JSON" in _refused(clip, broken)[0]
    mot = tmp_path / "gt.txt"
    mot.write_text("1,1,2,3,4,5,1,1,1\n1,1,x,3,4,5,1,1,1\n2,1,2,3\n0,2,1,1,2,2,1,1,1\n1,1,5,5,5,5,1,1,1\n")
    (tmp_path / "labels.txt").write_text("square\ndisc\n")
    errors = _refused(clip, mot, "mot")
    assert errors == [
        "gt.txt line 2: not numbers: '1,1,x,3,4,5,1,1,1'",
        "gt.txt line 3: expected 'frame,id,x,y,w,h,...', got '2,1,2,3'",
        "gt.txt line 4: frame 0 (MOT frames start at 1)",
        "gt.txt line 5: id 1 appears twice on frame 1 (also line 1)",
    ]
    mot.write_text("1,1,2,3,4,5,1,3,1\n1,2,2,3,4,5,1,inf,1\n")
    assert _refused(clip, mot, "mot") == [
        "gt.txt line 1: class 3 is not in labels.txt (1-2); add a labels.txt with one class name a line",
        "gt.txt line 2: not numbers: '1,2,2,3,4,5,1,inf,1'",
    ]


def test_yolo_bad_lines_and_unknown_class_ids_are_refused(clip, tmp_path):
    root = tmp_path / "yolo"
    (root / "labels" / "train").mkdir(parents=True)
    (root / "data.yaml").write_text("names: [square, disc]\n")
    (root / "labels" / "train" / "000000.txt").write_text("0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n0 0.5 0.5\n")
    (root / "labels" / "train" / "000001.txt").write_text("1 0.95 0.5 0.2 0.2\n1 nan 0.5 0.2 0.2\n")
    errors = _refused(clip, root, "yolo", first_frame=0)
    assert errors == [
        "labels/train/000000.txt line 2: class 7 is not in the class names",
        "labels/train/000000.txt line 3: expected 'class cx cy w h [conf]' (a detection box), got 3 fields",
        "labels/train/000001.txt line 2: coordinates must be finite numbers",
    ]


def test_a_yolo_folder_without_data_yaml_is_refused(clip, tmp_path):
    (tmp_path / "y" / "labels").mkdir(parents=True)
    (tmp_path / "y" / "labels" / "000000.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    assert _refused(clip, tmp_path / "y", "yolo") == [
        "no class names: data.yaml (Ultralytics), obj.names (Darknet) or classes.txt (Label Studio)"
    ]


def test_labels_of_several_clips_must_be_imported_one_clip_at_a_time(project, make_video, clip, tmp_path):
    make_video(project, frames=2, seed=5)
    make_video(project, frames=2, seed=6)
    target = tmp_path / "all.json"
    export_write(project=project, format=ExportFormat.COCO, options=ExportOptions(), target=target)
    errors = _refused(clip, target)
    assert any("import one clip at a time" in e for e in errors)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.txt", "path climbs out of the archive ('..')"),
        ("/etc/passwd", "absolute path"),
        ("C:\\temp\\x.txt", "absolute path"),
    ],
)
def test_zip_members_that_escape_are_refused(clip, tmp_path, name, problem):
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("gt.txt", "1,1,1,1,5,5,1,-1,-1,-1\n")
        archive.writestr(zipfile.ZipInfo(name), "x")
    errors = _refused(clip, path, "mot")
    assert errors == [f"zip refused: {name!r}: {problem}"]


def test_zip_symlinks_are_refused(clip, tmp_path):
    path = tmp_path / "link.zip"
    link = zipfile.ZipInfo("gt.txt")
    link.external_attr = (0o120777) << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(link, "/etc/passwd")
    assert _refused(clip, path, "mot") == ["zip refused: 'gt.txt': symbolic link"]


def test_zip_entry_count_and_uncompressed_size_are_capped(clip, tmp_path, settings):
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("gt.txt", "1,1,1,1,5,5,1,-1,-1,-1\n")
        archive.writestr("padding.bin", b"\0" * 100_000)
    settings.ANNOTATE_IMPORT_MAX_UNCOMPRESSED_BYTES = 50_000
    assert "more than the limit of 50000" in _refused(clip, path, "mot")[0]
    settings.ANNOTATE_IMPORT_MAX_UNCOMPRESSED_BYTES = 1_000_000
    settings.ANNOTATE_IMPORT_MAX_ENTRIES = 1
    assert _refused(clip, path, "mot") == ["zip refused: 2 entries, more than the limit of 1"]
