"""A new clip of the same scene starts from another clip's model: pre-labeled before anyone labels a
frame, scored by what people then corrected, and its generation 1 warm-starts from those weights."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from annotate.models import Box, BoxSource, Generation, JobStatus, Video, VideoStatus
from annotate.selectors.live_figures import generation_live_figures
from annotate.services.generations import generation_execute, generation_start
from annotate.services.videos import video_ingest
from fixtures.make_clips import make_clip
from micromodels.metrics import iou
from micromodels.types import Box as EngineBox
from tests.annotate.loop.conftest import label_from_truth

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(clip_video, truth, tiny_training, settings, django_capture_on_commit_callbacks) -> Generation:
    # A fixed number of steps, not the wall-clock budget: on a busy machine a 6 s budget can end
    # before the model learns, and the transfer start, which has only the model, would then find nothing.
    settings.ANNOTATE_TRAIN_TIME_BUDGET = 600
    settings.ANNOTATE_CLIPNET_MAX_STEPS = 150
    label_from_truth(clip_video, truth, [0, 8, 16, 24, 32, 39])
    with django_capture_on_commit_callbacks(execute=False):
        generation, _ = generation_start(video=clip_video)
    generation_execute(generation_id=generation.id)  # what the worker runs
    generation.refresh_from_db()
    assert generation.status == JobStatus.SUCCEEDED, generation.error
    assert generation.metrics["steps"] == 150
    return generation


def _recall(video: Video, truth) -> float:
    """Share of the true boxes the clip's pre-labels found at IoU >= 0.5, class alike."""
    names = list(truth.classes)
    found = total = 0
    for index, boxes in enumerate(truth.frames):
        predicted = [
            EngineBox(x, y, w, h, names.index(label))
            for x, y, w, h, label in Box.objects.filter(frame__video=video, frame__index=index).values_list(
                "x", "y", "w", "h", "label_class__name"
            )
        ]
        for b in boxes:
            total += 1
            found += any(
                p.label == names.index(b.label) and iou(p, EngineBox(b.x, b.y, b.w, b.h, 0)) >= 0.5
                for p in predicted
            )
    return found / total


def test_a_second_clip_is_prelabeled_by_the_first_clips_model_and_trains_on_from_it(
    project, trained, truth, import_root, api_client, django_capture_on_commit_callbacks
):
    second = make_clip(
        import_root / "second",
        frames=40,
        width=160,
        height=120,
        objects=2,
        seed=7,
        motion_seed=1,
        video=False,
    )
    assert second.frames != truth.frames  # the same scene, other motion
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=False):
        call_command(
            "import_video",
            str(project.id),
            str(second.frames_dir),
            "--from-generation",
            str(trained.id),
            stdout=out,
        )
    video = Video.objects.get(id=json.loads(out.getvalue().strip().splitlines()[-1])["id"])
    with django_capture_on_commit_callbacks(execute=True):
        video_ingest(video_id=video.id)  # what the worker runs; its end queues generation 0
    video.refresh_from_db()
    assert video.status == VideoStatus.READY
    start = Generation.objects.get(video=video)
    assert start.number == 0 and start.transferred_from_id == trained.id
    generation_execute(generation_id=start.id)
    start.refresh_from_db()
    assert start.status == JobStatus.SUCCEEDED, start.error
    assert "not trained on this clip" in start.model and start.trained_frames == []
    # Nobody labeled a frame of this clip, yet it has pre-labels that find its objects.
    assert not Box.objects.filter(frame__video=video, source=BoxSource.HUMAN).exists()
    assert _recall(video, second) >= 0.5

    # People correct four frames (their boxes are the truth now); the dashboard scores the start there.
    for index in (5, 15, 25, 35):
        Box.objects.filter(frame__video=video, frame__index=index).delete()
    label_from_truth(video, second, [5, 15, 25, 35])
    figures = generation_live_figures(generation=start)
    assert figures["frames"] == 4 and figures["final_boxes"] == 8
    assert figures["engine"]["recall"] is not None and figures["engine"]["recall"] >= 0.5
    listed = api_client.get(f"/api/videos/{video.id}/generations/").json()
    assert listed[0]["transferred_from"] == {
        "id": trained.id,
        "number": 1,
        "video": trained.video_id,
        "video_name": trained.video.name,
    }

    # Generation 1 of the new clip starts from the weights it was pre-labeled with.
    with django_capture_on_commit_callbacks(execute=False):
        first, _ = generation_start(video=video)
    generation_execute(generation_id=first.id)
    first.refresh_from_db()
    assert first.status == JobStatus.SUCCEEDED, first.error
    assert first.base_weights == start.checkpoint_path and "warm-started" in first.model


def test_starting_from_a_model_is_refused_when_it_cannot_apply(project, trained, clip_video, api_client):
    own = api_client.post(
        f"/api/videos/{clip_video.id}/generations/", {"from_generation": trained.id}, format="json"
    )
    assert own.status_code == 400 and "not its own" in json.dumps(own.json())
    fresh = Video.objects.create(
        project=project, name="empty", source="x", status=VideoStatus.READY, width=160, height=120
    )
    queued = Generation.objects.create(video=fresh, number=1)
    again = api_client.post(
        f"/api/videos/{fresh.id}/generations/", {"from_generation": trained.id}, format="json"
    )
    assert again.status_code == 409 and "already has generations" in json.dumps(again.json())
    other = Video.objects.create(
        project=project, name="other", source="x", status=VideoStatus.READY, width=160, height=120
    )
    untrained = api_client.post(
        f"/api/videos/{other.id}/generations/", {"from_generation": queued.id}, format="json"
    )
    assert untrained.status_code == 400 and "pick a trained one" in json.dumps(untrained.json())
    models = api_client.get(f"/api/projects/{project.id}/models/").json()
    assert [m["id"] for m in models] == [trained.id]
