"""Every long job (ingest, training, export, import) shows its progress with the time left, and is
cancelled from the page it was started on.

The rows are moved on the way a worker moves them (claim, then progress on the row); the pages read
only the rows, through the API, so what a page shows here is what it shows over a real worker.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from annotate.models import Box, ExportJob, Generation, ImportJob, JobStatus, Video
from annotate.services.generations import generation_transition
from annotate.services.import_jobs import import_job_run
from tests.browser.helpers import ready_clip, wait_frame

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEFT = re.compile(r"about \d+ s left")


def _ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def _percent(locator) -> str | None:
    return locator.get_by_role("progressbar").get_attribute("aria-valuenow")


def _left_seconds(text: str) -> int:
    match = re.search(r"about (\d+) s left", text)
    assert match, text
    return int(match.group(1))


def test_an_ingest_shows_frames_done_and_the_time_left_and_is_cancelled(browser, import_root):
    user, project, _ = ready_clip(import_root)
    now = timezone.now()
    # 30 of 120 frames in 15 s: 90 frames left at 2 a second, about 45 s.
    decoding = Video.objects.create(
        project=project,
        name="decoding",
        source="d.mp4",
        status="ingesting",
        frames_done=30,
        frames_total=120,
        ingest_started_at=now - timedelta(seconds=15),
        heartbeat_at=now,
    )
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/projects/{project.id}/")
    bar = page.locator(f'#clip-rows tr[data-video-id="{decoding.id}"] .progress')
    expect(bar.locator(".progress-text")).to_have_text(LEFT)
    text = bar.locator(".progress-text").text_content() or ""
    assert text.startswith("30/120 frames · ") and 44 <= _left_seconds(text) <= 60, text
    assert _percent(bar) == "25"

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Cancel decoding").click()
    page.locator(f'#clip-rows tr[data-video-id="{decoding.id}"]').wait_for(state="detached")
    assert not Video.objects.filter(id=decoding.id).exists()
    assert browser.console_errors == []


def test_a_training_run_shows_its_epoch_and_time_left_and_is_cancelled(browser, import_root):
    user, _project, video = ready_clip(import_root)
    generation = Generation.objects.create(
        video=video,
        number=1,
        status=JobStatus.RUNNING,
        phase="training",
        epoch=3,
        epochs_total=20,
        eta_seconds=42.0,
        attempts=1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)
    expect(page.locator("#train-status")).to_have_text("Generation 1: training, epoch 3/20, about 42 s left")
    expect(page.locator("#train-progress .progress-text")).to_have_text("epoch 3/20 · about 42 s left")
    assert _percent(page.locator("#train-progress")) == "15"

    page.locator("#cancel-train").click()
    expect(page.locator("#train-status")).to_contain_text("Generation 1: stopping")
    expect(page.locator("#cancel-train")).to_be_disabled()
    generation.refresh_from_db()
    assert generation.cancel_requested and generation.status == JobStatus.RUNNING
    # The engine sees the flag between steps and ends the run: what the worker does then.
    generation_transition(generation=generation, to=JobStatus.CANCELLED)
    expect(page.locator("#train-status")).to_have_text("Generation 1 was cancelled.")
    expect(page.locator("#cancel-train")).to_be_hidden()
    expect(page.locator("#train-progress")).to_be_hidden()
    assert browser.console_errors == []


def test_an_export_shows_its_progress_and_time_left_and_is_cancelled(browser, import_root):
    user, project, _video = ready_clip(import_root)
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/projects/{project.id}/")
    page.get_by_role("button", name="Export…").click()
    page.get_by_role("dialog").get_by_role("button", name="Start export").click()
    page.locator('.export-job[data-status="queued"]').wait_for()
    job = ExportJob.objects.get()
    # The worker claimed it and wrote 40 of 160 frames in 10 s: about 30 s left.
    ExportJob.objects.filter(id=job.id).update(
        status=JobStatus.RUNNING, started_at=_ago(10), items_done=40, items_total=160
    )
    line = page.locator(f'.export-job[data-export-id="{job.id}"][data-status="running"]')
    expect(line.locator(".progress-text")).to_have_text(LEFT)
    text = line.locator(".progress-text").text_content() or ""
    assert text.startswith("40/160 · ") and 29 <= _left_seconds(text) <= 45, text

    line.get_by_role("button", name=f"Cancel export {job.id}").click()
    page.locator(f'.export-job[data-export-id="{job.id}"][data-status="cancelled"]').wait_for()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert page.locator(".export-job").get_by_role("link", name="Download").count() == 0
    assert browser.console_errors == []


def test_a_label_import_shows_its_progress_and_time_left_and_is_cancelled(browser, import_root, tmp_path):
    user, project, _video = ready_clip(import_root, frames=6)
    labels = tmp_path / "labels.json"
    labels.write_text(
        json.dumps(
            {
                "images": [{"id": n, "file_name": f"frame_{n:06d}.jpg"} for n in range(6)],
                "categories": [{"id": 1, "name": "car"}],
                "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [5, 5, 10, 10]}],
            }
        )
    )
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/projects/{project.id}/")
    form = page.locator("#label-import-form")
    form.get_by_label("Label file").set_input_files(str(labels))
    form.get_by_label("Format").select_option("coco")
    cancel = page.get_by_role("button", name="Cancel import")
    expect(cancel).to_be_hidden()
    # No worker runs in this test: the job waits in the queue, and the page says so.
    page.get_by_role("button", name="Preview").click()
    progress = page.locator("#import-progress .progress-text")
    expect(progress).to_have_text("Queued: waiting for a worker…")
    expect(cancel).to_be_visible()
    job = ImportJob.objects.get()
    # The worker claimed it and checked 50 of 200 boxes in 10 s: about 30 s left.
    ImportJob.objects.filter(id=job.id).update(
        status=JobStatus.RUNNING, started_at=_ago(10), items_done=50, items_total=200
    )
    expect(progress).to_have_text(LEFT)
    text = progress.text_content() or ""
    assert text.startswith("50/200 boxes · ") and 29 <= _left_seconds(text) <= 40, text
    assert _percent(page.locator("#import-progress")) == "25"

    cancel.click()
    expect(page.locator("#import-status")).to_have_text("The preview was cancelled; nothing was written.")
    expect(cancel).to_be_hidden()
    expect(page.locator("#import-progress")).to_be_hidden()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    import_job_run(job_id=job.id)  # a worker that takes the message late does nothing
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and not Box.objects.exists()
    assert browser.console_errors == []
