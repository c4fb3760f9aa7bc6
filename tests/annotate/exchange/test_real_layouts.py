"""Files laid out the way other tools write them: every box lands on its own picture or the import
is refused with a message naming the rule to pick (issue 10, items 1-8)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage

from annotate.errors import ServiceError
from annotate.models import Box, BoxSource, Frame, LabelClass, ReviewState, Track, Video
from annotate.services.exports import ExportOptions, export_write
from annotate.services.imports import LabelImportError, labels_import
from annotate.services.videos import video_create_from_path
from tests.annotate.exchange.conftest import add_prediction, ingest_path

pytestmark = pytest.mark.django_db

SHARED = Path(__file__).resolve().parents[4] / "shared"
TUD = SHARED / "eval" / "TUD-Campus"


def _pictures(folder: Path, names: list[str], width: int = 64, height: int = 48) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, name in enumerate(names):
        cv2.imwrite(str(folder / name), np.full((height, width, 3), 10 + n * 20, np.uint8))


def _picture_under(box: Box) -> int:
    """Which picture of ``_pictures`` a box is on: the n-th picture is filled with 10 + 20n."""
    with default_storage.open(box.frame.image, "rb") as handle:
        image = cv2.imdecode(np.frombuffer(handle.read(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return round((float(image.mean()) - 10) / 20)


def _frames_of_boxes(video: Video) -> list[str]:
    """The original picture name under each box, in box order."""
    return list(
        Box.objects.filter(frame__video=video)
        .order_by("frame__index", "x")
        .values_list("frame__original_name", flat=True)
    )


def _coco(path: Path, file_names: list[str], boxed: list[str], **image_extra) -> Path:
    document = {
        "images": [{"id": n + 1, "file_name": name, **image_extra} for n, name in enumerate(file_names)],
        "categories": [{"id": 1, "name": "square"}],
        "annotations": [
            {"id": n + 1, "image_id": file_names.index(name) + 1, "category_id": 1, "bbox": [2, 3, 10, 8]}
            for n, name in enumerate(boxed)
        ],
    }
    path.write_text(json.dumps(document))
    return path


# -- 1. boxes on the right frame -----------------------------------------------------------------


def test_an_ffmpeg_folder_numbered_from_1_gets_every_box_on_its_own_picture(project, import_root, tmp_path):
    names = [f"{n:06d}.jpg" for n in range(1, 6)]  # ffmpeg -i clip.mp4 %06d.jpg starts at 1
    _pictures(import_root / "seq", names)
    video = ingest_path(project, import_root / "seq")
    # YOLO labels for the first four pictures; the last one is unlabeled.
    root = tmp_path / "yolo"
    (root / "labels" / "train").mkdir(parents=True)
    (root / "data.yaml").write_text("names: [square]\n")
    for name in names[:4]:
        (root / "labels" / "train" / name.replace(".jpg", ".txt")).write_text("0 0.5 0.5 0.25 0.25\n")

    result = labels_import(video=video, path=root, format="yolo")

    assert sorted(_picture_under(b) for b in Box.objects.filter(frame__video=video)) == [0, 1, 2, 3]
    assert result.boxes == 4 and _frames_of_boxes(video) == names[:4]
    assert list(Frame.objects.filter(video=video).values_list("original_name", flat=True)) == names


def test_a_label_studio_folder_is_ordered_by_frame_number_and_matched_by_its_upload_names(
    project, import_root, tmp_path
):
    # Label Studio stores uploads as <8 hex>-<name>: in hash order these are frames 3, 1, 4, 2.
    stored = [
        "0a1b2c3d-frame_0003.jpg",
        "5e6f7a8b-frame_0001.jpg",
        "9c0d1e2f-frame_0004.jpg",
        "f3a4b5c6-frame_0002.jpg",
    ]
    _pictures(import_root / "ls", stored)
    video = ingest_path(project, import_root / "ls")
    # Label Studio's COCO export names pictures images/<8 hex>-<name>, numbered from 0 by its own order.
    path = _coco(
        tmp_path / "result.json", [f"images/{n}" for n in stored], ["images/0a1b2c3d-frame_0003.jpg"]
    )

    labels_import(video=video, path=path, format="coco")

    assert _picture_under(Box.objects.get(frame__video=video)) == 0  # the picture stored as frame_0003
    assert _frames_of_boxes(video) == ["0a1b2c3d-frame_0003.jpg"]
    assert Box.objects.get(frame__video=video).frame.index == 2
    order = list(Frame.objects.filter(video=video).order_by("index").values_list("original_name", flat=True))
    assert [name.split("-")[1] for name in order] == [f"frame_000{n}.jpg" for n in (1, 2, 3, 4)]


def test_roboflow_names_are_matched_to_the_picture_they_were_made_from(project, import_root, tmp_path):
    names = [f"frame_{n:04d}.jpg" for n in range(1, 5)]
    _pictures(import_root / "rf", names)
    video = ingest_path(project, import_root / "rf")
    # Roboflow renames frame_0002.jpg; the hash ends in digits an index reader would take.
    renamed = [n.replace(".jpg", "_jpg.rf.9f8e7d6c5b4a39281706f5e4d3c2b1a0.jpg") for n in names]

    labels_import(video=video, path=_coco(tmp_path / "rf.json", renamed, [renamed[1]]), format="coco")

    assert _picture_under(Box.objects.get()) == 1
    assert _frames_of_boxes(video) == ["frame_0002.jpg"]


def test_numbers_that_fit_both_numberings_are_refused_until_first_frame_is_given(
    project, make_video, tmp_path
):
    video, _ = make_video(project, frames=5, labeled=False)  # no picture names: a video file
    root = tmp_path / "yolo"
    (root / "labels" / "train").mkdir(parents=True)
    (root / "data.yaml").write_text("names: [square]\n")
    for number in (1, 2, 3, 4):
        (root / "labels" / "train" / f"{number:06d}.txt").write_text("0 0.5 0.5 0.25 0.25\n")

    with pytest.raises(LabelImportError) as caught:
        labels_import(video=video, path=root, format="yolo")
    assert "first_frame=0" in caught.value.errors[0] and "first_frame=1" in caught.value.errors[0]
    assert not Box.objects.exists()

    labels_import(video=video, path=root, format="yolo", first_frame=1)
    assert sorted(Box.objects.values_list("frame__index", flat=True)) == [0, 1, 2, 3]


def test_a_frame_zero_in_the_names_settles_the_numbering(project, make_video, tmp_path):
    video, _ = make_video(project, frames=5, labeled=False)
    path = _coco(tmp_path / "cvat.json", [f"frame_{n:06d}.jpg" for n in range(5)], ["frame_000003.jpg"])

    result = labels_import(video=video, path=path, format="coco")

    assert Box.objects.get().frame.index == 3
    assert result.notes == [
        "frame numbers matched as clip 'clip 1''s own (it keeps every source frame)",
        "frame numbers in file names read as 0-based (a frame 0 is named)",
    ]


def test_a_name_that_matches_no_picture_of_a_named_clip_is_refused_not_guessed(
    project, import_root, tmp_path
):
    _pictures(import_root / "seq", ["a_01.jpg", "a_02.jpg"])
    video = ingest_path(project, import_root / "seq")
    path = _coco(tmp_path / "c.json", ["b_01.jpg"], ["b_01.jpg"])

    with pytest.raises(LabelImportError) as caught:
        labels_import(video=video, path=path, format="coco")

    assert "'b_01.jpg' is not the name of any picture of clip" in caught.value.errors[0]
    assert "first_frame" in caught.value.errors[0]


def test_an_image_folder_is_ordered_naturally(project, import_root):
    _pictures(import_root / "nat", ["frame_10.png", "frame_2.png", "frame_1.png"])
    video = ingest_path(project, import_root / "nat")
    names = list(Frame.objects.filter(video=video).order_by("index").values_list("original_name", flat=True))
    assert names == ["frame_1.png", "frame_2.png", "frame_10.png"]


# -- 2. the same file twice ------------------------------------------------------------------------


def test_importing_the_same_file_twice_is_refused_and_replace_keeps_one_copy(project, make_video, tmp_path):
    video, _ = make_video(project, frames=3, labeled=False)
    path = _coco(tmp_path / "c.json", ["000000.png"], ["000000.png"], frame_index=0)
    document = json.loads(path.read_text())
    document["annotations"][0]["attributes"] = {"track_id": 4}
    path.write_text(json.dumps(document))
    labels_import(video=video, path=path, format="coco")
    square = LabelClass.objects.get(project=project, name="square")
    frame2 = Frame.objects.get(video=video, index=0)
    pending = add_prediction(frame2, square, score=0.4)
    Frame.objects.filter(id=frame2.id).update(touched_at=None)

    with pytest.raises(LabelImportError) as caught:
        labels_import(video=video, path=path, format="coco")
    assert "already imported" in caught.value.errors[0] and "mode=replace" in caught.value.errors[0]
    assert (Box.objects.filter(source=BoxSource.HUMAN).count(), Track.objects.count()) == (1, 1)

    result = labels_import(video=video, path=path, format="coco", mode="replace")

    assert (Box.objects.filter(source=BoxSource.HUMAN).count(), Track.objects.count()) == (1, 1)
    assert not Box.objects.filter(id=pending.id).exists()  # the file is the truth for frame 0
    assert result.replaced_boxes == 2
    labels_import(video=video, path=path, format="coco", allow_duplicate=True)
    assert Box.objects.filter(source=BoxSource.HUMAN).count() == 2


# -- 3. MOT classes by name -----------------------------------------------------------------------


def test_mot_classes_are_read_by_name_from_labels_txt(project, make_video, tmp_path):
    video, _ = make_video(project, frames=2, labeled=False)  # project classes: square (0), disc (1)
    seq = tmp_path / "seq"
    (seq / "gt").mkdir(parents=True)
    (seq / "gt" / "gt.txt").write_text("1,1,2,2,10,10,1,1,1\n2,2,2,2,10,10,1,2,1\n")
    (seq / "gt" / "labels.txt").write_text("disc\nsquare\n")  # Datumaro/CVAT order, not the project's

    labels_import(video=video, path=seq, format="mot")

    assert list(Box.objects.order_by("frame__index").values_list("label_class__name", flat=True)) == [
        "disc",
        "square",
    ]
    (seq / "gt" / "labels.txt").write_text("disc\nlorry\n")
    with pytest.raises(LabelImportError, match="unknown class 'lorry'"):
        labels_import(video=video, path=seq, format="mot", allow_duplicate=True)


# -- 4. track ids through COCO ---------------------------------------------------------------------


def test_coco_track_ids_are_read_from_cvat_attributes_and_written_there(project, make_video, tmp_path):
    video, _ = make_video(project, frames=3, labeled=False)
    names = ["frame_000000.jpg", "frame_000001.jpg", "frame_000002.jpg"]
    path = _coco(tmp_path / "cvat.json", names, names)
    document = json.loads(path.read_text())
    for annotation in document["annotations"]:  # CVAT's COCO export: track_id inside attributes
        annotation["attributes"] = {"occluded": annotation["id"] == 2, "track_id": 7, "keyframe": True}
    path.write_text(json.dumps(document))

    result = labels_import(video=video, path=path, format="coco")

    assert result.tracks == 1 and Track.objects.filter(video=video).count() == 1
    assert Box.objects.filter(occluded=True).count() == 1
    target = tmp_path / "out.json"
    export_write(project=project, format="coco", options=ExportOptions(video=video.id), target=target)
    annotations = json.loads(target.read_text())["annotations"]
    track = Track.objects.get(video=video).id
    assert {a["attributes"]["track_id"] for a in annotations} == {track}
    assert [a["attributes"]["occluded"] for a in annotations] == [False, True, False]
    assert all(a["attributes"]["keyframe"] is True for a in annotations)


# -- 5. boxes past the edge ------------------------------------------------------------------------


def _outside_counts(gt: Path, width: int, height: int) -> tuple[int, int]:
    clipped = dropped = 0
    for line in gt.read_text().splitlines():
        x, y, w, h = (float(v) for v in line.split(",")[2:6])
        if x >= width or y >= height or x + w <= 0 or y + h <= 0:
            dropped += 1
        elif x < 0 or y < 0 or x + w > width or y + h > height:
            clipped += 1
    return clipped, dropped


@pytest.mark.skipif(not TUD.is_dir(), reason="../shared/eval/TUD-Campus is absent")
def test_real_mot_ground_truth_with_boxes_past_the_edge_imports_clipped(project, settings, tmp_path):
    settings.ANNOTATE_IMPORT_ROOTS = [*settings.ANNOTATE_IMPORT_ROOTS, TUD.parent]
    LabelClass.objects.filter(project=project).exclude(index=0).delete()
    video = ingest_path(project, TUD / "img1")
    assert (video.frame_count, video.width, video.height) == (71, 640, 480)
    clipped, dropped = _outside_counts(TUD / "gt" / "gt.txt", 640, 480)
    assert clipped == 19

    result = labels_import(video=video, path=TUD / "gt" / "gt.txt", format="mot")

    lines = len((TUD / "gt" / "gt.txt").read_text().splitlines())
    assert (result.clipped_boxes, result.dropped_boxes, result.boxes) == (clipped, dropped, lines - dropped)
    assert not Box.objects.filter(frame__video=video, x__lt=0).exists()
    for box in Box.objects.filter(frame__video=video):
        assert box.x + box.w <= 640 + 1e-6 and box.y + box.h <= 480 + 1e-6


def test_a_box_entirely_outside_is_dropped_and_counted(project, make_video, tmp_path):
    video, _ = make_video(project, frames=2, labeled=False)
    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,120,90,20,20,-1\n1,2,130,10,5,5,-1\n2,1,-0.13,1,10,10,-1\n")

    result = labels_import(video=video, path=gt, format="mot", default_class="square")

    assert (result.boxes, result.clipped_boxes, result.dropped_boxes) == (2, 2, 1)
    assert sorted(Box.objects.values_list("w", flat=True)) == [8.0, pytest.approx(9.87)]


# -- 6. MOT17 9 columns ----------------------------------------------------------------------------


def test_mot17_ground_truth_skips_ignored_rows_and_keeps_visibility_as_occlusion(
    project, make_video, tmp_path
):
    video, _ = make_video(project, frames=3, labeled=False)
    LabelClass.objects.filter(project=project, index=0).update(name="pedestrian")
    gt = tmp_path / "gt.txt"  # MOT17: frame,id,x,y,w,h,consider,class,visibility; no labels.txt
    gt.write_text(
        "1,1,2,2,10,10,1,1,1.0\n2,1,3,2,10,10,1,1,0.25\n2,2,30,30,10,10,0,8,0.9\n3,3,5,5,5,5,0,1,1\n"
    )

    result = labels_import(video=video, path=gt, format="mot")

    assert result.boxes == 2 and result.skipped == {"MOT rows marked ignore (consider flag 0)": 2}
    assert list(Box.objects.order_by("frame__index").values_list("occluded", flat=True)) == [False, True]
    assert set(Box.objects.values_list("label_class__name", flat=True)) == {"pedestrian"}


# -- 7. COCO sizes and results lists ---------------------------------------------------------------


def test_coco_drawn_on_the_full_size_picture_is_rescaled_to_a_clip_ingested_with_max_width(
    project, import_root, tmp_path
):
    names = ["f1.jpg", "f2.jpg"]
    _pictures(import_root / "big", names, width=256, height=192)
    video = ingest_path(project, import_root / "big", max_width=128)
    assert (video.width, video.height) == (128, 96)
    path = _coco(tmp_path / "c.json", names, ["f2.jpg"], width=256, height=192)
    document = json.loads(path.read_text())
    document["annotations"][0]["bbox"] = [200, 100, 40, 60]
    path.write_text(json.dumps(document))

    result = labels_import(video=video, path=path, format="coco")

    box = Box.objects.get()
    assert (box.x, box.y, box.w, box.h) == (100, 50, 20, 30)
    assert result.rescaled_boxes == 1 and "rescaled from the file's 256x192" in result.notes[0]
    document["images"][1].pop("width")
    document["images"][1].pop("height")
    path.write_text(json.dumps(document))
    with pytest.raises(LabelImportError, match="scaled down to 128x96 at ingest"):
        labels_import(video=video, path=path, format="coco", mode="replace")


def test_a_coco_results_list_imports_as_predictions(project, make_video, tmp_path):
    video, _ = make_video(project, frames=2, labeled=False)
    exported = tmp_path / "gt.json"
    export_write(
        project=project, format="coco", options=ExportOptions(video=video.id, frames="all"), target=exported
    )
    image_id = json.loads(exported.read_text())["images"][1]["id"]
    results = tmp_path / "detections.json"  # what a detector writes against that export
    results.write_text(
        json.dumps([{"image_id": image_id, "category_id": 2, "bbox": [4, 5, 20, 10], "score": 0.8}])
    )

    result = labels_import(video=video, path=results, format="coco")

    box = Box.objects.get()
    assert (box.source, box.review_state, box.score, box.label_class.name) == (
        "model",
        ReviewState.PENDING,
        0.8,
        "disc",
    )
    assert box.frame.index == 1 and result.boxes == 1


# -- 8. image folders as people have them ----------------------------------------------------------


def test_stray_files_in_an_image_folder_are_left_aside(project, import_root):
    _pictures(import_root / "seq", ["000001.jpg", "000002.jpg"])
    (import_root / "seq" / "det.txt").write_text("1,-1,1,1,5,5,0.9\n")
    (import_root / "seq" / "README").write_text("frames of camera 3")

    video = ingest_path(project, import_root / "seq")

    assert video.frame_count == 2


def test_a_mot_sequence_folder_becomes_a_clip_of_its_img1_pictures(project, import_root):
    _pictures(import_root / "MOT17-02" / "img1", ["000001.jpg", "000002.jpg", "000003.jpg"])
    (import_root / "MOT17-02" / "gt").mkdir()
    (import_root / "MOT17-02" / "gt" / "gt.txt").write_text("1,1,1,1,5,5,-1\n")
    (import_root / "MOT17-02" / "seqinfo.ini").write_text("[Sequence]\nimDir=img1\n")

    video = ingest_path(project, import_root / "MOT17-02")

    assert video.frame_count == 3
    result = labels_import(video=video, path=import_root / "MOT17-02", format="mot", default_class="square")
    assert result.boxes == 1 and _frames_of_boxes(video) == ["000001.jpg"]


def test_a_zip_of_images_becomes_a_clip_with_its_picture_names(project, import_root):
    with zipfile.ZipFile(import_root / "frames.zip", "w") as archive:
        for n in (3, 1, 2):
            _ok, data = cv2.imencode(".png", np.full((20, 30, 3), n * 40, np.uint8))
            archive.writestr(f"images/frame_{n}.png", data.tobytes())
        archive.writestr("images/notes.txt", "stray")

    video = ingest_path(project, import_root / "frames.zip")

    names = list(Frame.objects.filter(video=video).order_by("index").values_list("original_name", flat=True))
    assert names == ["frame_1.png", "frame_2.png", "frame_3.png"] and (video.width, video.height) == (30, 20)


def test_a_folder_without_pictures_is_refused_and_leaves_no_clip_row(project, import_root):
    (import_root / "docs").mkdir()
    (import_root / "docs" / "README").write_text("nothing to see")

    with pytest.raises(ServiceError, match="contains no images"):
        video_create_from_path(project=project, path=import_root / "docs")

    assert not Video.objects.exists()


def test_an_uploaded_zip_without_pictures_is_refused_and_leaves_no_row_or_file(project, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from annotate.services.videos import video_create_from_upload

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("README.md", "labels only")

    with pytest.raises(ServiceError, match="contains no images"):
        video_create_from_upload(
            project=project, uploaded_file=SimpleUploadedFile("frames.zip", data.getvalue())
        )

    assert not Video.objects.exists()
    uploads = Path(settings.MEDIA_ROOT) / "uploads"
    assert not uploads.exists() or not [p for p in uploads.rglob("*") if p.is_file()]


# MOT17's det/det.txt layout (DPM detections): frame, -1, x, y, w, h, the detector's own score, -1, -1, -1.
DPM_DET = """\
1,-1,399.2,182.3,121.5,229.1,35.2,-1,-1,-1
1,-1,282.0,201.7,92.4,184.0,-0.41,-1,-1,-1
2,-1,63.1,153.9,82.0,288.5,2.3092,-1,-1,-1
3,-1,600.5,140.0,60.0,200.0,-1.3,-1,-1,-1
3,-1,10.0,20.0,30.0,40.0,-1,-1,-1,-1
"""


@pytest.mark.skipif(not TUD.is_dir(), reason="../shared/eval/TUD-Campus is absent")
def test_a_mot_det_txt_with_detector_scores_imports_as_rescaled_predictions(project, settings, tmp_path):
    settings.ANNOTATE_IMPORT_ROOTS = [*settings.ANNOTATE_IMPORT_ROOTS, TUD.parent]
    LabelClass.objects.filter(project=project).exclude(index=0).delete()
    video = ingest_path(project, TUD / "img1")
    det = tmp_path / "TUD-Campus" / "det" / "det.txt"
    det.parent.mkdir(parents=True)
    det.write_text(DPM_DET)

    result = labels_import(video=video, path=det, format="mot")

    assert result.boxes == 5
    rows = list(Box.objects.order_by("frame__index", "id").values_list("source", "review_state", "score"))
    assert all(source == BoxSource.MODEL and state == ReviewState.PENDING for source, state, _ in rows)
    low, high = -1.3, 35.2  # the file's range; -1 is MOT's "no score", not a score
    expected = [(s - low) / (high - low) for s in (35.2, -0.41, 2.3092, -1.3)] + [None]
    assert [score for *_, score in rows] == pytest.approx(expected)
    assert any("rescaled linearly to 0..1" in note and "-1.3 to 35.2" in note for note in result.notes)
