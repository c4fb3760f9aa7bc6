"""Label import on the project page: preview what lands where, import, and read every problem."""

from __future__ import annotations

import json
import threading

import pytest

from annotate.models import Box, ImportJob, JobStatus, Membership
from annotate.services.import_jobs import import_job_run
from tests.browser.helpers import ready_clip
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _run_jobs_as_the_worker(stop: threading.Event) -> None:
    from django.db import connection

    try:
        while not stop.wait(0.1):
            for job in ImportJob.objects.filter(status=JobStatus.QUEUED):
                import_job_run(job_id=job.id)
    finally:
        connection.close()


def test_a_manager_previews_then_imports_labels_and_reads_the_problems_of_a_bad_file(
    browser, import_root, tmp_path
):
    _owner, project, _video = ready_clip(import_root, frames=6)  # 320x240 frames, classes car and another
    user = UserFactory()
    Membership.objects.create(project=project, user=user, role="manager")
    good = tmp_path / "cvat.json"
    good.write_text(
        json.dumps(
            {
                "images": [{"id": n, "file_name": f"frame_{n:06d}.jpg"} for n in range(6)],
                "categories": [{"id": 1, "name": "car"}],
                "annotations": [
                    {"id": 1, "image_id": 2, "category_id": 1, "bbox": [300, 10, 40, 20]},  # past the edge
                    {"id": 2, "image_id": 3, "category_id": 1, "bbox": [5, 5, 10, 10]},
                ],
            }
        )
    )
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "x.jpg", "frame_index": 0}],
                "categories": [{"id": 1, "name": "lorry"}],
                "annotations": [{"id": 9, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}],
            }
        )
    )
    stop = threading.Event()
    worker = threading.Thread(target=_run_jobs_as_the_worker, args=(stop,), daemon=True)
    worker.start()
    try:
        page = browser.page
        browser.login(user.username)
        browser.goto(f"/projects/{project.id}/")
        form = page.locator("#label-import-form")
        form.get_by_label("Clip").select_option(label="clip <one>")
        form.get_by_label("Label file").set_input_files(str(good))
        form.get_by_label("Format").select_option("coco")
        page.get_by_role("button", name="Preview").click()
        status = page.locator("#import-status")
        status.get_by_text("Preview — nothing written yet: 2 boxes on 2 frames").wait_for()
        assert "1 clipped to the picture" in status.text_content()
        assert "read as 0-based" in page.locator("#import-problems").text_content()
        assert not Box.objects.exists()
        browser.screenshot("label-import-preview", full_page=True)

        page.get_by_role("button", name="Import", exact=True).click()
        status.get_by_text("Imported: 2 boxes on 2 frames").wait_for()
        assert sorted(Box.objects.values_list("frame__index", flat=True)) == [2, 3]
        browser.screenshot("label-import")

        form.get_by_label("Label file").set_input_files(str(bad))
        page.get_by_role("button", name="Preview").click()
        status.get_by_text("Nothing was imported: 1 problem found.").wait_for()
        problems = page.locator("#import-problems li")
        assert problems.all_text_contents() == [
            "annotation 9: unknown class 'lorry' (allow create_classes to add it)"
        ]
        assert page.get_by_role("button", name="Import", exact=True).is_disabled()
        assert Box.objects.count() == 2
        assert browser.console_errors == []
    finally:
        stop.set()
        worker.join(timeout=10)
