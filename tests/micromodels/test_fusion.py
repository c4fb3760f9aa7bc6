from dataclasses import replace

import pytest

from micromodels import Cancelled, PrelabelConfig
from micromodels.engine import fuse_all
from micromodels.metrics import score_clip
from micromodels.propagation import (
    LinkedTracks,
    assign_track_ids,
    interpolate,
    link_tracks,
    propagate_tracks,
)
from micromodels.types import Box

from .conftest import SyntheticClip, synthetic_clip

GAP = range(10, 16)


def _detections(clip: SyntheticClip) -> dict[int, tuple[Box, ...]]:
    """A detector that sees every object except on the GAP frames, plus a one-frame false alarm."""
    out = {
        i: tuple(replace(b, score=0.9, track_id=None, source="detector") for b in boxes)
        for i, boxes in clip.truth.items()
    }
    for i in GAP:
        out[i] = ()
    out[20] = (*out[20], Box(2, 2, 12, 12, 0, 0.7, None, "detector"))
    return out


def test_fusion_fills_the_frames_the_detector_missed_and_drops_a_lone_false_alarm(
    small_clip: SyntheticClip,
) -> None:
    frames = assign_track_ids(small_clip.labeled([0, 29]))
    config = PrelabelConfig()
    candidates = propagate_tracks(small_clip.clip, frames, config.tracker)
    fused, _ = fuse_all(30, small_clip.clip, frames, _detections(small_clip), candidates, config, 0)
    gap = score_clip(fused, small_clip.truth, list(GAP))
    assert gap.recall == 1.0 and gap.precision == 1.0
    everywhere = score_clip(fused, small_clip.truth, list(range(1, 29)))
    assert everywhere.recall == 1.0 and everywhere.precision == 1.0
    assert {b.track_id for boxes in fused.values() for b in boxes} == {1, 2}


def test_tracking_beats_interpolation_on_bouncing_objects(small_clip: SyntheticClip) -> None:
    frames = assign_track_ids(small_clip.labeled([0, 29]))
    config = PrelabelConfig()
    tracked, _ = fuse_all(
        30, small_clip.clip, frames, {}, propagate_tracks(small_clip.clip, frames, config.tracker), config, 0
    )
    others = list(range(1, 29))
    assert (
        score_clip(tracked, small_clip.truth, others).recall
        > score_clip(interpolate(frames, 30), small_clip.truth, others).recall
    )


def test_boxes_without_track_ids_are_linked_across_labeled_frames(small_clip: SyntheticClip) -> None:
    bare = [
        replace(f, boxes=tuple(replace(b, track_id=None) for b in f.boxes))
        for f in small_clip.labeled([0, 1])
    ]
    linked = assign_track_ids(bare)
    first = {b.label: b.track_id for b in linked[0].boxes}
    second = {b.label: b.track_id for b in linked[1].boxes}
    assert first == second and len(set(first.values())) == 2


def test_pseudo_labels_are_confident_propagated_frames_with_every_track(small_clip: SyntheticClip) -> None:
    from micromodels import TrainConfig
    from micromodels.engine import pseudo_labels
    from micromodels.metrics import score_frame

    frames = assign_track_ids(small_clip.labeled([0, 29]))
    candidates = propagate_tracks(small_clip.clip, frames, PrelabelConfig().tracker)
    pseudo = pseudo_labels(small_clip.clip, frames, candidates, TrainConfig(pseudo_max_frames=10))
    assert 0 < len(pseudo) <= 10
    for frame in pseudo:
        assert 0 < frame.index < 29 and len(frame.boxes) == 2
        assert score_frame(frame.boxes, small_clip.truth[frame.index], accept_iou=0.7).accepted == 2


def test_a_steady_detector_track_between_labels_is_a_new_object_unless_a_labeled_frame_denies_it(
    small_clip: SyntheticClip,
) -> None:
    only_first = [
        replace(f, boxes=tuple(b for b in f.boxes if b.track_id == 1)) for f in small_clip.labeled([0, 29])
    ]
    frames = assign_track_ids(only_first)
    config = PrelabelConfig()
    candidates = propagate_tracks(small_clip.clip, frames, config.tracker)
    second = {i: next(b for b in small_clip.truth[i] if b.track_id == 2) for i in range(30)}

    def detections(span: range) -> dict[int, tuple[Box, ...]]:
        return {i: (replace(second[i], score=0.9, track_id=None, source="detector"),) for i in span}

    fused, _ = fuse_all(30, small_clip.clip, frames, detections(range(5, 21)), candidates, config, 0)
    new = {i for i, boxes in fused.items() for b in boxes if b.source == "detector"}
    assert new == set(range(5, 21))
    assert len({b.track_id for boxes in fused.values() for b in boxes if b.source == "detector"}) == 1
    denied, _ = fuse_all(30, small_clip.clip, frames, detections(range(20, 30)), candidates, config, 0)
    assert not any(b.source == "detector" for boxes in denied.values() for b in boxes)


def test_tracking_asks_whether_to_stop_before_every_frame_and_stops_when_told(
    small_clip: SyntheticClip,
) -> None:
    asked: list[int] = []

    def stop_after_five_frames() -> bool:
        asked.append(1)
        return len(asked) > 5

    with pytest.raises(Cancelled):
        propagate_tracks(
            small_clip.clip, small_clip.labeled([0, 29]), PrelabelConfig().tracker, stop_after_five_frames
        )
    assert len(asked) == 6


LABELED = [0, 29, 59]


@pytest.fixture(scope="module")
def three_objects(tmp_path_factory: pytest.TempPathFactory) -> SyntheticClip:
    return synthetic_clip(tmp_path_factory.mktemp("three"), frames=60, objects=3, seed=5)


@pytest.fixture(scope="module")
def linked_without_ids(three_objects: SyntheticClip) -> LinkedTracks:
    """The labels as the UI sends them (no track ids), linked by tracking."""
    bare = [
        replace(f, boxes=tuple(replace(b, track_id=None) for b in f.boxes))
        for f in three_objects.labeled(LABELED)
    ]
    return link_tracks(three_objects.clip, bare, PrelabelConfig().tracker)


def test_boxes_without_track_ids_are_linked_by_tracking_across_distant_labeled_frames(
    three_objects: SyntheticClip, linked_without_ids: LinkedTracks
) -> None:
    pairs = {
        (t.track_id, b.track_id)
        for f, g in zip(three_objects.labeled(LABELED), linked_without_ids.frames, strict=True)
        for t, b in zip(f.boxes, g.boxes, strict=True)
    }
    assert len(pairs) == 3  # one id per true object, the same on every labeled frame
    assert len({t for t, _ in pairs}) == len({b for _, b in pairs}) == 3


def test_tracker_prelabels_are_as_precise_without_track_ids_as_with_them(
    three_objects: SyntheticClip, linked_without_ids: LinkedTracks
) -> None:
    config = PrelabelConfig()
    others = [i for i in range(60) if i not in LABELED]

    def precision(linked: LinkedTracks) -> float:
        candidates = propagate_tracks(three_objects.clip, linked.frames, config.tracker, linked=linked)
        boxes, _ = fuse_all(60, three_objects.clip, linked.frames, {}, candidates, config, 0)
        return score_clip(boxes, three_objects.truth, others).precision

    with_ids = precision(link_tracks(three_objects.clip, three_objects.labeled(LABELED), config.tracker))
    assert with_ids > 0.8
    # Before linking by tracking, each object got a new id at every labeled frame: precision 0.50.
    assert precision(linked_without_ids) >= with_ids - 0.02
