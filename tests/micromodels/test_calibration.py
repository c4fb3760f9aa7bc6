import math

import numpy as np

from micromodels import PrelabelConfig
from micromodels.calibration import Calibration, agreement_samples, calibrate, fit_platt
from micromodels.fusion import drop_duplicates
from micromodels.metrics import calibration_error
from micromodels.propagation import Candidate
from micromodels.types import Box


def test_a_platt_fit_turns_raw_scores_into_the_share_that_is_right() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.05, 0.95, size=4000)
    truth_p = 1 / (1 + np.exp(-(2.5 * np.log(raw / (1 - raw)) + 1.0)))  # raw scores are under-confident
    hits = (rng.uniform(size=raw.size) < truth_p).astype(float)
    fit = fit_platt(raw.tolist(), hits.tolist())
    assert (
        fit.samples == 4000
        and math.isclose(fit.a, 2.5, rel_tol=0.15)
        and math.isclose(fit.b, 1.0, abs_tol=0.2)
    )
    calibrated = np.array([fit(s) for s in raw])
    bins = np.minimum((calibrated * 5).astype(int), 4)
    for k in range(5):
        if (bins == k).sum() > 100:
            assert abs(calibrated[bins == k].mean() - hits[bins == k].mean()) < 0.05


def test_too_few_samples_leave_the_raw_scores_alone() -> None:
    assert fit_platt([0.9, 0.2], [1.0, 0.0]) == Calibration()
    dets = {3: (Box(0, 0, 10, 10, 0, 0.42, None, "detector"),)}
    assert calibrate(dets, Calibration())[3][0].score == 0.42


def test_the_tracker_vouches_for_detections_on_its_sure_tracks_and_against_strays() -> None:
    sure = Box(10, 10, 20, 40, 0, 0.9, 1, "tracker")
    cand = Candidate(1, ((sure, 1.0),), agreement=0.9, confidence=0.8, anchor_distance=3, two_sided=True)
    dets = (
        Box(11, 11, 20, 40, 0, 0.8, None, "detector"),  # on the object: right
        Box(18, 20, 20, 40, 0, 0.4, None, "detector"),  # a loose second box on it: wrong
        Box(80, 10, 20, 40, 0, 0.3, None, "detector"),  # nothing there (no track enters here): wrong
    )
    scores, hits = agreement_samples({5: dets}, {5: [cand]}, PrelabelConfig())
    assert sorted(zip(scores, hits, strict=True)) == [(0.3, 0.0), (0.4, 0.0), (0.8, 1.0)]


def test_never_two_boxes_on_one_object_and_the_human_track_keeps_it() -> None:
    human = Box(10, 10, 20, 40, 0, 0.5, 1, "fused")
    detector_only = Box(11, 10, 20, 40, 0, 0.9, 7, "detector")
    other = Box(60, 10, 20, 40, 0, 0.9, 2, "tracker")
    assert set(drop_duplicates([detector_only, human, other], PrelabelConfig())) == {human, other}


def test_the_replay_figure_for_calibration_is_zero_for_perfect_scores() -> None:
    truth = {0: (Box(0, 0, 10, 10, 0),)}
    predicted = {0: (Box(0, 0, 10, 10, 0, 1.0), Box(50, 50, 10, 10, 0, 0.0))}
    assert calibration_error(predicted, truth, [0])[0] == 0.0


def test_a_one_sided_track_ends_where_the_detector_stops_seeing_its_object() -> None:
    from micromodels.engine import _end_departed_tracks

    def cand(index: int, tid: int) -> Candidate:
        return Candidate(tid, ((Box(index, 0, 10, 10, 0, 0.5, tid, "tracker"), 1.0),), 0.0, 0.5, index, False)

    candidates = {i: [cand(i, 1), cand(i, 2)] for i in range(1, 11)}
    fused = {
        i: [
            Box(i, 0, 10, 10, 0, 0.6, 1, "fused" if i <= 4 else "tracker"),  # seen, then gone after 4
            Box(i, 50, 10, 10, 0, 0.6, 2, "tracker"),  # never seen by the detector: left to the tracker
        ]
        for i in range(1, 11)
    }
    _end_departed_tracks(fused, candidates, PrelabelConfig(end_after_unbacked=3))
    assert [i for i in fused if any(b.track_id == 1 for b in fused[i])] == [1, 2, 3, 4]
    assert all(any(b.track_id == 2 for b in fused[i]) for i in fused)
