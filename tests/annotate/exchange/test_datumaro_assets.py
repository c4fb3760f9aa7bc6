"""Datumaro's own sample datasets (../shared/interop/datumaro-assets, the test assets of CVAT's
dataset library) import with the counts, classes, tracks and frames Datumaro's unit tests state.

Where a sample has pictures, a real clip is ingested from them and the labels are imported into it;
where the pictures differ in size (no single clip can hold them) or are absent, the reader is checked
on its own. Datumaro keeps shapes this platform does not (polygons, points, masks, CVAT "outside"
boxes); the expected values below are Datumaro's boxes, and the other shapes are counted as skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate.exchange import coco, cvat, mot, voc, yolo
from annotate.exchange.sources import DirSource
from annotate.models import Box, Track, Video, VideoStatus
from annotate.services.imports import labels_import
from annotate.services.videos import video_create_from_path, video_ingest
from tests.annotate.exchange.conftest import LIMITS

ASSETS = Path(__file__).resolve().parents[4] / "shared" / "interop" / "datumaro-assets"
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not ASSETS.is_dir(), reason="../shared/interop/datumaro-assets is absent"),
]
LABELS = [f"label_{n}" for n in range(10)]


@pytest.fixture(autouse=True)
def _assets_importable(settings) -> None:
    settings.ANNOTATE_IMPORT_ROOTS = [*settings.ANNOTATE_IMPORT_ROOTS, ASSETS]


def _clip(project, folder: Path) -> Video:
    video = video_create_from_path(project=project, path=folder)
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    assert video.status == VideoStatus.READY, video.error
    return video


def _boxes(video: Video) -> list[tuple[str, str, float, float, float, float]]:
    return [
        (name, label, round(x, 3), round(y, 3), round(w, 3), round(h, 3))
        for name, label, x, y, w, h in Box.objects.filter(frame__video=video)
        .order_by("frame__index", "x")
        .values_list("frame__original_name", "label_class__name", "x", "y", "w", "h")
    ]


# -- COCO (datumaro tests/unit/test_coco_format.py) ------------------------------------------------


def test_coco_instances_train(project):
    # Datumaro: item "a" (10x5) holds Bbox(2, 2, 3, 1, label=1) with categories a, b, c.
    root = ASSETS / "coco_dataset" / "coco_instances"
    video = _clip(project, root / "images" / "train")
    result = labels_import(
        video=video, path=root / "annotations" / "instances_train.json", format="coco", create_classes=True
    )
    assert _boxes(video) == [("a.jpg", "b", 2, 2, 3, 1)]
    assert (result.boxes, result.frames, result.tracks) == (1, 1, 0)


def test_coco_instances_val(project):
    # Datumaro: item "b" (5x10) holds a polygon of class a (bbox [0, 0, 1, 2]) and a crowd mask of
    # class b (bbox [0, 0, 1, 9]); as boxes they are those two bboxes.
    root = ASSETS / "coco_dataset" / "coco_instances"
    video = _clip(project, root / "images" / "val")
    labels_import(
        video=video, path=root / "annotations" / "instances_val.json", format="coco", create_classes=True
    )
    assert _boxes(video) == [("b.jpg", "a", 0, 0, 1, 2), ("b.jpg", "b", 0, 0, 1, 9)]


def test_coco_files_without_boxes_are_read_as_such():
    # captions and image_info hold no bbox: nothing to import, and the reader says why.
    captions = ASSETS / "coco_dataset" / "coco_captions" / "annotations" / "captions_train.json"
    with captions.open("rb") as stream:
        parsed = coco.parse_coco(stream)
    assert not parsed.items and not parsed.errors
    assert parsed.skipped == {"annotations without a bbox (captions, labels, panoptic segments)": 1}


# -- YOLO (datumaro tests/unit/test_yolo_format.py) ------------------------------------------------

YOLO_BOXES = [("1.jpg", "label_2", 0, 2, 4, 2), ("1.jpg", "label_4", 3, 3, 2, 3)]


def test_darknet_yolo_with_obj_names(project):
    # Datumaro: item "1" (15x10) holds Bbox(0, 2, 4, 2, label=2) and Bbox(3, 3, 2, 3, label=4).
    root = ASSETS / "yolo_dataset" / "yolo"
    video = _clip(project, root / "obj_train_data")  # its 1.txt beside 1.jpg is left aside
    labels_import(video=video, path=root, format="yolo", create_classes=True)
    assert [(n, lab, x, y, w, h) for n, lab, x, y, w, h in _boxes(video)] == YOLO_BOXES


@pytest.mark.parametrize(
    "layout",
    [
        "yolov8_detection",
        "yolov8_detection_with_list_of_names",
        "yolov8_detection_with_list_of_imgs",
        "yolov8_detection_with_subset_txt",
    ],
)
def test_ultralytics_yolo_layouts(project, layout):
    root = ASSETS / "yolo_dataset" / layout
    video = _clip(project, ASSETS / "yolo_dataset" / "yolov8_detection" / "images" / "train")
    labels_import(video=video, path=root, format="yolo", create_classes=True)
    assert _boxes(video) == YOLO_BOXES


@pytest.mark.parametrize("layout", ["yolov8_segmentation", "yolov8_pose", "yolov8_oriented_boxes"])
def test_ultralytics_files_that_are_not_detection_boxes_are_refused_by_line(layout):
    parsed = yolo.parse_yolo(DirSource(ASSETS / "yolo_dataset" / layout, limits=LIMITS))
    assert parsed.errors and all("a detection box" in e for e in parsed.errors)


# -- MOT (datumaro tests/unit/test_mot_format.py) --------------------------------------------------


def test_mot_sequence_with_labels_txt(project):
    # Datumaro: item 1 (16x16) holds Bbox(0, 4, 4, 8, label=2, occluded False, visibility 1.0,
    # ignored False), labels label_0 ... label_9, no track (id -1).
    root = ASSETS / "mot_dataset" / "mot_seq"
    video = _clip(project, root)  # the sequence folder: its img1/
    result = labels_import(video=video, path=root, format="mot", create_classes=True)
    assert _boxes(video) == [("000001.jpg", "label_2", 0, 4, 4, 8)]
    assert result.tracks == 0 and not Box.objects.get().occluded


def test_mot_sequence_with_seqinfo_reads_the_same_box():
    parsed = mot.parse_mot(DirSource(ASSETS / "mot_dataset" / "mot_seq_with_seqinfo", limits=LIMITS))
    assert not parsed.errors
    assert [(i.frame_index, i.label, i.x, i.y, i.w, i.h, i.track) for i in parsed.items] == [
        (0, "label_2", 0, 4, 4, 8, None)
    ]


# -- CVAT (datumaro tests/unit/test_cvat_format.py) ------------------------------------------------


def test_cvat_for_video(project):
    # Datumaro: frame_000010 (25x20) holds Bbox(3, 4, 7, 1, label 'II', occluded, keyframe,
    # track_id 0); the same track is "outside" on frames 13 and 16; the other tracks are points, a
    # polyline and a skeleton.
    root = ASSETS / "cvat_dataset" / "for_video"
    video = _clip(project, root / "images")
    result = labels_import(video=video, path=root / "annotations.xml", format="cvat", create_classes=True)
    assert _boxes(video) == [("frame_000010.png", "II", 3, 4, 7, 1)]
    box = Box.objects.get()
    assert box.occluded and Track.objects.get(video=video).external_id == "cvat-0"
    assert result.skipped["CVAT track frames marked outside (the object is out of view)"] == 2
    assert result.tracks == 1


def test_cvat_for_images():
    # Datumaro: img0 (8x8) holds Bbox(0, 2, 4, 2, label 'label1', occluded, z_order 1) and a
    # polyline and a skeleton; img1 (10x10) a polygon, points and a skeleton. The two pictures differ
    # in size, so no single clip holds both: the reader is checked on its own.
    with (ASSETS / "cvat_dataset" / "for_images" / "train.xml").open("rb") as stream:
        parsed = cvat.parse_cvat(stream)
    assert not parsed.errors
    assert [(i.frame_name, i.label, i.x, i.y, i.w, i.h, i.occluded, i.image_size) for i in parsed.items] == [
        ("img0.jpg", "label1", 0, 2, 4, 2, True, (8, 8))
    ]
    assert parsed.skipped == {
        "CVAT polyline shapes (not boxes)": 1,
        "CVAT skeleton shapes (not boxes)": 2,
        "CVAT polygon shapes (not boxes)": 1,
        "CVAT points shapes (not boxes)": 1,
    }


# -- Pascal VOC (datumaro tests/unit/test_voc_format.py) -------------------------------------------


def test_voc_detection(project):
    # Datumaro: 2007_000001 (20x10) holds Bbox(1, 2, 2, 2, 'cat', truncated) and
    # Bbox(4, 5, 2, 2, 'person') with a 'head' part (a layout annotation, not an object).
    root = ASSETS / "voc_dataset" / "voc_dataset1"
    video = _clip(project, root / "JPEGImages")
    labels_import(video=video, path=root, format="voc", create_classes=True)
    assert _boxes(video) == [
        ("2007_000001.jpg", "cat", 1, 2, 2, 2),
        ("2007_000001.jpg", "person", 4, 5, 2, 2),
    ]


def test_voc_files_of_other_samples():
    two = voc.parse_voc(DirSource(ASSETS / "voc_dataset" / "voc_dataset2", limits=LIMITS))
    assert not two.errors
    assert sorted((i.frame_name, i.label) for i in two.items) == [
        ("a.jpg", "background"),
        ("b.jpg", "aeroplane"),
        ("c.jpg", "bicycle"),
        ("d.jpg", "bird"),
    ]
    assert [f.name for f in two.empty_frames] == ["@.jpg"]  # an annotation file without objects
    three = voc.parse_voc(DirSource(ASSETS / "voc_dataset" / "voc_dataset3", limits=LIMITS))
    assert not three.errors and len(three.items) == 1
