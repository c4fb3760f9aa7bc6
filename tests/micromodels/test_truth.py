from pathlib import Path

import pytest

from micromodels import EngineError
from micromodels.truth import read_truth

from .conftest import SyntheticClip


def test_mot_and_json_truth_agree_with_the_generated_boxes(small_clip: SyntheticClip) -> None:
    mot, mot_names = read_truth(small_clip.root / "gt.txt", "mot", 30)
    js, js_names = read_truth(small_clip.root / "truth.json", "json", 30)
    assert js_names == small_clip.clip.class_names and len(mot_names) == 2
    for i in range(30):
        assert [(b.x, b.y, b.w, b.h, b.track_id) for b in js[i]] == [
            (b.x, b.y, b.w, b.h, b.track_id) for b in small_clip.truth[i]
        ]
        assert sorted((b.x, b.y, b.track_id) for b in mot[i]) == sorted((b.x, b.y, b.track_id) for b in js[i])


def test_otb_is_one_based_and_vot_corners_become_their_bounding_box(tmp_path: Path) -> None:
    otb = tmp_path / "otb.txt"
    otb.write_text("11\t21\t30\t40\n1,1,5,5\n")
    boxes, _ = read_truth(otb, "otb", 2)
    assert (boxes[0][0].x, boxes[0][0].y, boxes[0][0].w, boxes[0][0].h) == (10, 20, 30, 40)
    vot = tmp_path / "vot.txt"
    vot.write_text("10,20,40,25,35,60,5,55\n")
    boxes, _ = read_truth(vot, "vot", 1)
    assert (boxes[0][0].x, boxes[0][0].y, boxes[0][0].w, boxes[0][0].h) == (5, 20, 35, 40)
    with pytest.raises(EngineError, match="unknown truth format"):
        read_truth(vot, "xml", 1)
