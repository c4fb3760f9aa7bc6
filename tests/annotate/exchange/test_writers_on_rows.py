"""The format writers on rows built by hand: no database, no Django storage.

Each writer gets plain rows (annotate.exchange.rows) the way annotate.selectors.exports streams them,
writes into a real folder sink, and the project's own reader reads the file back.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import IO

import pytest
from django.utils.text import slugify as django_slugify

from annotate.exchange import coco, cvat, mot, voc, yolo
from annotate.exchange.names import slugify
from annotate.exchange.rows import BoxRow, ClipInfo, FrameRow, frames_with_boxes
from annotate.exchange.sinks import dir_sink
from annotate.exchange.sources import DirSource
from tests.annotate.exchange.conftest import LIMITS

CLASSES = [(0, "car"), (2, "person")]  # index 1 was deleted: positions stay contiguous
CLIP = ClipInfo(id=7, name="Street, north cam", width=200, height=100, fps=25.0, frame_count=3)
FRAMES = [FrameRow(11, 7, 0, "frames/7/000000.jpg"), FrameRow(12, 7, 1, "frames/7/000001.png")]
BOXES = [
    BoxRow(101, 11, 7, 0, 0, 5, 10.0, 20.0, 50.0, 40.0, "human", None, None),
    BoxRow(102, 11, 7, 0, 2, None, 0.0, 0.0, 20.0, 10.0, "model", 3, 0.75, occluded=True),
    BoxRow(103, 12, 7, 1, 0, 5, 12.0, 20.0, 50.0, 40.0, "human", None, None),
]
PICTURES = {"frames/7/000000.jpg": b"jpeg bytes", "frames/7/000001.png": b"png bytes"}


def _open_media(path: str) -> IO[bytes]:
    return io.BytesIO(PICTURES[path])


def _written(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _quiet(_done: int) -> None:
    pass


def test_coco_writes_the_rows_it_is_given_and_reads_back():
    out = io.StringIO()
    seen: list[tuple[str, str]] = []

    images, boxes = coco.write_coco(
        out,
        project_id=3,
        project_name="Demo",
        classes=CLASSES,
        clips={CLIP.id: CLIP},
        frames=iter(FRAMES),
        boxes=iter(BOXES),
        progress=_quiet,
        on_image=lambda name, media: seen.append((name, media)),
    )

    assert (images, boxes) == (2, 3)
    document = json.loads(out.getvalue())
    assert [c["id"] for c in document["categories"]] == [1, 3]
    assert [(i["id"], i["file_name"], i["width"]) for i in document["images"]] == [
        (11, "v7_000000.jpg", 200),
        (12, "v7_000001.png", 200),
    ]
    second = document["annotations"][1]
    assert second["image_id"] == 11 and second["category_id"] == 3 and second["score"] == 0.75
    assert second["attributes"] == {"occluded": True, "keyframe": True}
    assert seen == [("v7_000000.jpg", "frames/7/000000.jpg"), ("v7_000001.png", "frames/7/000001.png")]

    parsed = coco.parse_coco(io.BytesIO(out.getvalue().encode()))
    assert parsed.errors == []
    assert [(i.label, i.frame_name, i.x, i.track) for i in parsed.items] == [
        ("car", "v7_000000.jpg", 10.0, "5"),
        ("person", "v7_000000.jpg", 0.0, None),
        ("car", "v7_000001.png", 12.0, "5"),
    ]


def test_yolo_writes_pictures_labels_and_data_yaml(tmp_path):
    target = tmp_path / "yolo"
    with dir_sink(target, open_media=_open_media) as sink:
        images, boxes = yolo.write_yolo(
            sink,
            classes=CLASSES,
            clips={CLIP.id: CLIP},
            frames=frames_with_boxes(FRAMES, BOXES),
            split=yolo.SplitOptions(),
            progress=_quiet,
        )

    assert (images, boxes) == (2, 3)
    assert (target / "images/train/v7_000001.png").read_bytes() == b"png bytes"
    # Class ids are positions (person, index 2, is 1); centre and size over the picture size.
    assert (target / "labels/train/v7_000000.txt").read_text() == (
        "0 0.175000 0.400000 0.250000 0.400000\n1 0.050000 0.050000 0.100000 0.100000\n"
    )
    parsed = yolo.parse_yolo(DirSource(target, limits=LIMITS))
    assert parsed.errors == []
    # The reader names a frame by its label file; matching pairs it with the picture's stem.
    assert sorted((i.label, i.frame_name) for i in parsed.items) == [
        ("car", "labels/train/v7_000000.txt"),
        ("car", "labels/train/v7_000001.txt"),
        ("person", "labels/train/v7_000000.txt"),
    ]


def test_mot_numbers_tracks_per_clip_and_reads_back(tmp_path):
    target = tmp_path / "mot"
    with dir_sink(target, open_media=_open_media) as sink:
        frames, boxes = mot.write_mot(
            sink, classes=CLASSES, clips={CLIP.id: CLIP}, boxes=BOXES, progress=_quiet
        )

    assert (frames, boxes) == (3, 3)
    folder = "street-north-cam-7"
    assert (target / folder / "gt/gt.txt").read_text().splitlines() == [
        "1,1,10,20,50,40,1,1,1",
        "1,2,0,0,20,10,1,2,0.5",
        "2,1,12,20,50,40,1,1,1",  # the same track keeps its id
    ]
    parsed = mot.parse_mot(DirSource(target / folder, limits=LIMITS))
    assert parsed.errors == []
    assert [(i.label, i.frame_index, i.track) for i in parsed.items] == [
        ("car", 0, "1"),
        ("person", 0, "2"),
        ("car", 1, "1"),
    ]


def test_voc_and_cvat_images_write_one_entry_per_frame(tmp_path):
    target = tmp_path / "voc"
    with dir_sink(target, open_media=_open_media) as sink:
        assert voc.write_voc(
            sink,
            classes=CLASSES,
            clips={CLIP.id: CLIP},
            frames=frames_with_boxes(FRAMES, BOXES),
            progress=_quiet,
            with_images=True,
        ) == (2, 3)
    assert "JPEGImages/v7_000000.jpg" in _written(target)
    assert sorted((i.label, i.frame_name) for i in voc.parse_voc(DirSource(target, limits=LIMITS)).items) == [
        ("car", "v7_000000.jpg"),
        ("car", "v7_000001.png"),
        ("person", "v7_000000.jpg"),
    ]

    out = io.StringIO()
    assert cvat.write_cvat_images(
        out, classes=CLASSES, clips={CLIP.id: CLIP}, frames=frames_with_boxes(FRAMES, BOXES), progress=_quiet
    ) == (2, 3)
    parsed = cvat.parse_cvat(io.BytesIO(out.getvalue().encode()))
    assert parsed.errors == []
    assert [(i.label, i.frame_name, i.occluded) for i in parsed.items] == [
        ("car", "v7_000000.jpg", False),
        ("person", "v7_000000.jpg", True),
        ("car", "v7_000001.png", False),
    ]


def test_cvat_video_closes_each_track_after_its_last_frame():
    out = io.StringIO()
    count = cvat.write_cvat_video(out, classes=CLASSES, clip=CLIP, boxes=BOXES, progress=_quiet)

    assert count == 3
    text = out.getvalue()
    assert text.count("<track ") == 2  # track 5, and the box without a track
    assert '<box frame="2" outside="1"' in text  # track 5 ends after frame 1 of 3


def test_frames_with_boxes_refuses_streams_out_of_order():
    pairs = list(frames_with_boxes(FRAMES, BOXES))
    assert [(f.id, [b.id for b in on]) for f, on in pairs] == [(11, [101, 102]), (12, [103])]
    with pytest.raises(RuntimeError, match="disagree on order"):
        list(frames_with_boxes(FRAMES, [BOXES[2], BOXES[0]]))


@pytest.mark.parametrize(
    "name", ["Street, north cam", "  Ünïcode — café  ", "a__b--c", "---", "日本", "x.y/z"]
)
def test_folder_names_are_djangos_slugs(name):
    assert slugify(name) == django_slugify(name)
