"""Every export is read back by the tools people load it into, with the same counts: pycocotools
(COCO), Ultralytics (YOLO), this platform's own readers (CVAT, VOC, MOT round trips) and, where
``datumaro`` is installed, Datumaro (COCO, YOLO, MOT, CVAT, VOC)."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate.models import Box, Track
from annotate.services.exports import ExportOptions, export_write
from annotate.services.imports import labels_import
from tests.annotate.exchange.conftest import box_summary

pytestmark = pytest.mark.django_db


def _export(project, format: str, target: Path, **options) -> Path:
    export_write(project=project, format=format, options=ExportOptions(**options), target=target)
    return target


def test_pycocotools_reads_the_coco_export_with_track_ids_in_attributes(project, make_video, tmp_path):
    from pycocotools.coco import COCO

    video, _ = make_video(project, frames=4)
    target = _export(project, "coco", tmp_path / "coco", with_images=True)
    document = target / "annotations" / "instances_default.json"

    api = COCO(str(document))

    boxes = Box.objects.filter(frame__video=video)
    assert len(api.getImgIds()) == 4 and len(api.getAnnIds()) == boxes.count() == 8
    assert [api.cats[c]["name"] for c in sorted(api.cats)] == ["square", "disc"]
    tracks = {a["attributes"]["track_id"] for a in api.loadAnns(api.getAnnIds())}
    assert tracks == set(Track.objects.filter(video=video).values_list("id", flat=True))
    for image in api.loadImgs(api.getImgIds()):
        assert (target / "images" / "default" / image["file_name"]).is_file()


def test_ultralytics_reads_every_box_of_the_yolo_export(project, make_video, tmp_path):
    from ultralytics.data.dataset import YOLODataset
    from ultralytics.data.utils import check_det_dataset

    make_video(project, frames=4, seed=1)
    make_video(project, frames=3, seed=2)
    target = _export(project, "yolo", tmp_path / "yolo", val_fraction=0.5)

    data = check_det_dataset(str(target / "data.yaml"))  # no absolute path: resolved beside data.yaml
    count = 0
    for split in ("train", "val"):
        dataset = YOLODataset(img_path=data[split], data=data, task="detect", augment=False, imgsz=64)
        count += sum(len(label["bboxes"]) for label in dataset.labels)

    assert count == Box.objects.count() == 14


@pytest.mark.parametrize("format", ["cvat", "cvat_images", "voc", "mot", "coco"])
def test_an_export_imports_back_into_a_fresh_clip_with_the_same_boxes(project, make_video, tmp_path, format):
    video, _ = make_video(project, frames=5, seed=3)
    Box.objects.filter(frame__video=video, frame__index=1).update(occluded=True)
    target = _export(project, format, tmp_path / f"out-{format}.zip", video=video.id)
    fresh, _ = make_video(project, frames=5, seed=3, labeled=False)

    reader = "cvat" if format == "cvat_images" else format
    labels_import(video=fresh, path=target, format=reader, first_frame=0)

    if format in ("voc", "cvat_images"):  # no tracks in these
        assert _untracked(fresh) == _untracked(video)
    else:
        assert box_summary(fresh) == box_summary(video)
    assert Box.objects.filter(frame__video=fresh, occluded=True).count() == 2


def _untracked(video) -> list[tuple]:
    return [row[:-1] for row in box_summary(video)]


# -- Datumaro ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format", "datumaro_format"),
    [
        ("coco", "coco_instances"),
        ("yolo", "yolo"),
        ("mot", "mot_seq"),
        ("cvat", "cvat"),
        ("voc", "voc_detection"),
    ],
)
def test_datumaro_reads_every_export_with_the_same_box_count(
    project, make_video, tmp_path, format, datumaro_format
):
    datumaro = pytest.importorskip("datumaro")
    video, _ = make_video(project, frames=4)
    target = _export(
        project, format, tmp_path / format, video=video.id, with_images=format in ("coco", "cvat_images")
    )
    root = target
    if format == "mot":
        root = next(target.iterdir())  # the clip's sequence folder

    dataset = datumaro.Dataset.import_from(str(root), datumaro_format)

    bboxes = [a for item in dataset for a in item.annotations if a.type == datumaro.AnnotationType.bbox]
    bboxes = [b for b in bboxes if not b.attributes.get("outside")]  # CVAT's end-of-track boxes
    assert len(bboxes) == Box.objects.filter(frame__video=video).count() == 8
    labels = dataset.categories()[datumaro.AnnotationType.label]
    assert [label.name for label in labels] == ["square", "disc"]
