"""The annotation loop end to end through the real parts: a `run_worker` process on the broker, the
test database, the commands as separate processes, the REST API, and the real engine.

ingest -> suggest -> label 5 frames -> `train --wait` -> correct pre-labels through the API ->
next generation, whose worker process is SIGKILLed mid-training (the run is redelivered and
retried once; meanwhile the previous generation stays active and nothing half-written shows) ->
efficiency figures that match the actions taken.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from annotate.models import Box, BoxSource, CorrectionEvent, Generation, JobStatus, ReviewState, Video
from config.celery import app
from fixtures.make_clips import make_clip
from tests.annotate.loop.conftest import TINY_TRAINING, label_from_truth
from tests.annotate.worker import last_json, manage, running_worker, wait_for, worker_env
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _pool_children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children += [int(child) for child in text]
    return children


def _confirmed(video: Video) -> set[tuple]:
    """Every box a person drew or reviewed, as it is now."""
    return set(
        Box.objects.filter(frame__video=video)
        .exclude(review_state=ReviewState.PENDING)
        .values_list("id", "frame__index", "x", "y", "w", "h", "version", "review_state")
    )


def test_the_loop_trains_prelabels_records_corrections_and_survives_a_killed_worker(tmp_path, import_root):
    user = UserFactory()
    project = ProjectFactory(auto_train=False)  # generations here are started explicitly
    MembershipFactory(project=project, user=user, role="manager")
    api = APIClient()
    api.force_authenticate(user=user)
    truth = make_clip(import_root / "clip", frames=40, width=160, height=120, objects=2, seed=7, video=False)
    env = {**worker_env(tmp_path), **TINY_TRAINING}
    with app.connection_for_write() as connection:  # no message of an earlier run may claim our ids
        connection.default_channel.queue_purge("gpu")

    with running_worker(env, tmp_path / "worker.log", "--concurrency", "1") as worker:
        imported = manage(
            env, "import_video", str(project.id), str(truth.frames_dir), "--wait", "--timeout", "60"
        )
        assert imported.returncode == 0, imported.stderr
        video = Video.objects.get(id=last_json(imported)["id"])

        suggested = manage(env, "suggest_frames", str(video.id), "--count", "5")
        assert suggested.returncode == 0, suggested.stderr
        picks = last_json(suggested)
        assert picks["generation"] is None and len(picks["frames"]) == 5 and len(picks["reasons"]) == 5
        labeled = sorted(picks["frames"])
        drawn = label_from_truth(video, truth, labeled, user=user)
        remaining = api.get(f"/api/videos/{video.id}/suggestions/").json()
        assert not {s["frame_index"] for s in remaining} & set(labeled)

        trained = manage(env, "train", str(video.id), "--wait", "--timeout", "300", timeout=330)
        assert trained.returncode == 0, f"{trained.stdout}\n{trained.stderr}\n{worker.log()[-6000:]}"
        first_json = last_json(trained)
        first = Generation.objects.get(id=first_json["id"])
        assert (first_json["generation"], first_json["status"]) == (1, "succeeded")
        assert first_json["metrics"]["predicted_boxes"] > 0
        assert first_json["trained_frames"] == labeled  # the human frames, not the engine's pseudo-labels
        video.refresh_from_db()
        assert video.active_generation_id == first.id

        predictions = Box.objects.filter(frame__video=video, source=BoxSource.MODEL, generation=first)
        assert not predictions.filter(frame__index__in=labeled).exists()
        by_frame: dict[int, list[Box]] = {}
        for box in predictions.select_related("frame").order_by("frame__index", "id"):
            by_frame.setdefault(box.frame.index, []).append(box)
        assert len(by_frame) >= 4, f"pre-labels on only {sorted(by_frame)}"
        f_accept, f_edit, f_delete, f_all = sorted(by_frame)[:4]

        # Corrections through the API, as the labeling page sends them.
        box = by_frame[f_accept][0]
        response = api.post(f"/api/boxes/{box.id}/accept/", {"version": box.version}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["review_state"] == "accepted"
        box = by_frame[f_edit][0]
        response = api.patch(
            f"/api/boxes/{box.id}/", {"version": box.version, "w": box.w * 0.8}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["review_state"] == "edited"
        box = by_frame[f_delete][0]
        assert api.delete(f"/api/boxes/{box.id}/?version={box.version}").status_code == 204
        response = api.post(
            f"/api/videos/{video.id}/frames/{f_all}/accept-all/", {"seconds": 2.5}, format="json"
        )
        assert response.status_code == 200, response.content
        all_count = response.json()["accepted"]
        assert all_count == len(by_frame[f_all])
        square = project.classes.get(name="square").id
        response = api.post(
            f"/api/videos/{video.id}/boxes/",
            {"frame_index": f_accept, "x": 1, "y": 1, "w": 6, "h": 6, "label_class": square},
            format="json",
        )
        assert response.status_code == 201, response.content

        efficiency = api.get(f"/api/videos/{video.id}/efficiency/").json()
        totals = efficiency["totals"]
        assert (totals["accepted"], totals["edited"], totals["deleted"], totals["added"]) == (
            1 + all_count,
            1,
            1,
            drawn + 1,
        )
        assert totals["actions"] == drawn + 5
        assert totals["model_share"] == round((1 + all_count) / (1 + all_count + 1 + drawn + 1), 4)
        by_generation = {row["generation"]: row for row in efficiency["by_generation"]}
        assert by_generation[None]["added"] == drawn
        assert (by_generation[1]["accepted"], by_generation[1]["edited"], by_generation[1]["deleted"]) == (
            1 + all_count,
            1,
            1,
        )
        assert efficiency["by_annotator"][0]["username"] == user.username
        assert CorrectionEvent.objects.filter(video=video, action="accept", box_count=all_count).count() == 1

        # The next generation: one run at a time; its worker process dies mid-training.
        confirmed_before = _confirmed(video)
        touched = set(labeled) | {f_accept, f_edit, f_delete, f_all}
        started = api.post(f"/api/videos/{video.id}/generations/")
        assert started.status_code == 201, started.content
        again = api.post(f"/api/videos/{video.id}/generations/")
        assert again.status_code == 200 and again.json()["id"] == started.json()["id"]
        second = Generation.objects.get(id=started.json()["id"])

        def training() -> bool:
            second.refresh_from_db()
            return second.status == JobStatus.RUNNING and second.phase == "training"

        wait_for(training, 120, "the second generation to train", worker)
        children = _pool_children(worker.pid)
        assert len(children) == 1, children
        os.kill(children[0], signal.SIGKILL)

        # The run is redelivered; until it finishes, the first generation is what people see.
        def redelivered() -> bool:
            second.refresh_from_db()
            return second.attempts == 2 or second.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

        wait_for(redelivered, 120, "the redelivered run", worker)
        video.refresh_from_db()
        if second.status != JobStatus.SUCCEEDED:
            assert video.active_generation_id == first.id
            assert not Box.objects.filter(generation=second).exists()

        wait_for(
            lambda: (second.refresh_from_db(), second.status)[1] not in ("queued", "running"),
            300,
            "the second generation to end",
            worker,
        )

    assert second.status == JobStatus.SUCCEEDED, second.error
    assert second.attempts == 2
    assert second.base_weights == first.checkpoint_path  # warm start from the active generation
    video.refresh_from_db()
    assert video.active_generation_id == second.id
    assert _confirmed(video) == confirmed_before  # nothing a person did was overwritten
    assert not Box.objects.filter(generation=second, frame__index__in=touched).exists()
    # The first generation's unreviewed predictions were replaced, except on frames people touched.
    stale = Box.objects.filter(frame__video=video, generation=first, review_state=ReviewState.PENDING)
    assert not stale.exclude(frame__index__in=touched).exists()

    report = manage(env, "efficiency", str(video.id))
    assert report.returncode == 0, report.stderr
    assert last_json(report)["totals"] == totals
    project_report = last_json(manage(env, "efficiency", "--project", str(project.id)))
    assert project_report["totals"] == totals
