from micromodels import suggest_initial
from micromodels.fusion import FrameNotes
from micromodels.suggest import rank_frames

from .conftest import SyntheticClip


def test_initial_suggestions_are_deterministic_distinct_and_spread_out(small_clip: SyntheticClip) -> None:
    first = suggest_initial(small_clip.clip, 5)
    assert first == suggest_initial(small_clip.clip, 5)
    indices = [s.frame_index for s in first]
    assert len(set(indices)) == 5 and indices[0] == 0
    gaps = [b - a for a, b in zip(sorted(indices), sorted(indices)[1:], strict=False)]
    assert min(gaps) >= 3  # not clumped together
    assert max(indices) - min(indices) >= 20  # cover the clip in time
    assert all(s.reason for s in first)


def test_more_suggestions_than_frames_returns_every_frame_once(small_clip: SyntheticClip) -> None:
    picks = suggest_initial(small_clip.clip, 100)
    assert sorted(s.frame_index for s in picks) == list(range(30))


def test_after_a_generation_disagreement_and_track_births_rank_first_with_reasons() -> None:
    notes = {i: FrameNotes() for i in range(1, 40) if i != 20}
    notes[8].disagreement = 0.9
    notes[30].events.append("track 3 appears")
    picks = rank_frames(40, [0, 20, 39], notes, 2, spacing=3)
    assert [p.frame_index for p in picks] == [8, 30]
    assert "disagreement" in picks[0].reason and "appears" in picks[1].reason
