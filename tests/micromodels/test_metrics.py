from dataclasses import replace

from micromodels.metrics import iou, match, score_clip, score_frame
from micromodels.types import Box


def box(x: float, y: float, w: float = 10, h: float = 10, label: int = 0) -> Box:
    return Box(x, y, w, h, label)


def test_iou_of_half_overlapping_boxes_is_one_third() -> None:
    assert iou(box(0, 0), box(5, 0)) == 50 / 150
    assert iou(box(0, 0), box(20, 20)) == 0.0
    assert iou(box(0, 0), box(0, 0)) == 1.0


def test_matching_is_one_to_one_and_respects_labels() -> None:
    truth = [box(0, 0), box(100, 100)]
    predicted = [box(1, 0), box(0, 1), box(100, 100, label=1)]
    pairs = match(predicted, truth, 0.5)
    assert [(p, t) for p, t, _ in pairs] == [(0, 0)]


def test_scores_count_accepts_fixes_adds_and_deletes_exactly() -> None:
    truth = [box(0, 0), box(50, 50), box(100, 100)]
    predicted = [
        box(0, 0),  # accepted
        box(54, 50),  # IoU 6/14 = 0.43: overlaps but must be fixed
        box(200, 200),  # matches nothing: delete
    ]  # truth (100, 100) has no prediction: add
    s = score_frame(predicted, truth)
    assert (s.truth, s.predicted, s.matched, s.accepted) == (3, 3, 1, 1)
    assert (s.add, s.fix, s.delete) == (1, 1, 1)
    assert s.recall == 1 / 3 and s.precision == 1 / 3 and s.efficiency == 1 / 3


def test_a_wrong_label_is_a_fix_not_an_accept() -> None:
    s = score_frame([box(0, 0, label=1)], [box(0, 0, label=0)])
    assert (s.matched, s.accepted, s.add, s.fix, s.delete) == (0, 0, 0, 1, 0)


def test_clip_scores_sum_over_frames_and_treat_missing_frames_as_empty() -> None:
    truth = {0: (box(0, 0),), 1: (box(0, 0),), 2: ()}
    predicted = {0: (box(0, 0),), 2: (box(5, 5),)}
    s = score_clip(predicted, truth, [0, 1, 2])
    assert (s.truth, s.predicted, s.matched) == (2, 2, 1)
    assert s.recall == 0.5 and s.precision == 0.5
    assert (s.add, s.fix, s.delete) == (1, 0, 1)


def test_calibration_error_is_zero_when_scores_equal_the_hit_rate() -> None:
    from micromodels.metrics import calibration_error

    truth = {0: (box(0, 0),), 1: (box(0, 0),)}
    right = replace(box(0, 0), score=0.5)
    wrong = replace(box(50, 50), score=0.5)
    error, mean = calibration_error({0: (right,), 1: (wrong,)}, truth, [0, 1])
    assert error == 0.0 and mean == 0.5
    error, _ = calibration_error({0: (replace(right, score=0.9),)}, truth, [0])
    assert abs(error - 0.1) < 1e-9
