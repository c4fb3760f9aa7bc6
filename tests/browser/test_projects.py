"""Projects and clips in a real browser: log in, create a project, invite, upload, ingest, export."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotate.models import ExportJob, Membership, Project, Video
from annotate.services.exports import export_job_run
from annotate.services.videos import video_ingest
from fixtures.make_clips import make_clip
from tests.browser.helpers import HTML_CLASS, wait_frame
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_a_project_uploads_a_clip_and_exports_it(browser, tmp_path):
    manager = UserFactory()
    colleague = UserFactory()
    clip = make_clip(tmp_path / "upload", frames=10, width=320, height=240, objects=2, seed=2)
    page = browser.page

    browser.goto("/")  # pages need a session
    page.wait_for_url("**/login/?next=/")
    browser.login(manager.username)
    page.get_by_label("Name", exact=True).fill("Harbour <script>")
    page.get_by_label("Class 1 name").fill("boat")
    page.get_by_label("Class 2 name").fill(HTML_CLASS)
    page.get_by_label("Class 2 colour").fill("#00aa55")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/projects/*/")
    project = Project.objects.get()
    assert [(c.name, c.color) for c in project.classes.order_by("index")][1] == (HTML_CLASS, "#00aa55")
    expect(page.locator("#project-title")).to_have_text("Harbour <script>")  # filled in by the page
    assert page.locator("#project-classes").get_by_text(HTML_CLASS, exact=True).count() == 1

    page.get_by_label("Username").fill(colleague.username)
    page.get_by_label("Role").select_option("annotator")
    page.get_by_role("button", name="Invite").click()
    page.locator("#member-list").get_by_text(colleague.username, exact=True).wait_for()
    assert Membership.objects.get(user=colleague).role == "annotator"

    page.get_by_label("Video file").set_input_files(str(clip.video_path))
    page.get_by_label("Name (optional)").fill("dock cam")
    page.get_by_role("button", name="Upload").click()
    page.locator("#upload-progress .progress-text").get_by_text("Uploaded; decoding frames…").wait_for()
    row = page.locator("#clip-rows tr", has_text="dock cam")
    row.wait_for()
    assert row.get_attribute("data-status") in {"queued", "ingesting"}
    assert row.locator(".progress").count() == 1  # ingest progress while it waits

    video_ingest(video_id=Video.objects.get().id)  # what the worker does
    page.locator('#clip-rows tr[data-status="ready"]').wait_for()
    assert row.locator("td.num").first.text_content() == "10"
    browser.screenshot("project")

    page.get_by_role("button", name="Export COCO").click()
    page.locator('.export-job[data-status="queued"]').wait_for()
    export_job_run(job_id=ExportJob.objects.get().id)  # what the worker does
    download = page.locator(".export-job").get_by_role("link", name="Download")
    download.wait_for()
    assert "/api/exports/" in download.get_attribute("href")

    page.get_by_role("link", name="Label dock cam").click()
    wait_frame(page, 0)
    assert page.locator("#frame-label").text_content() == "Frame 0 of 10"
    assert browser.console_errors == []


def test_the_dashboard_charts_label_efficiency_and_training_runs(browser, import_root):
    from annotate.models import CorrectionEvent, Generation
    from tests.browser.helpers import ready_clip

    user, project, video = ready_clip(import_root)
    # Rows as the annotation loop leaves them after one generation and some review work.
    generation = Generation.objects.create(
        video=video,
        number=1,
        status="succeeded",
        epoch=20,
        epochs_total=20,
        train_seconds=42.0,
        prelabel_seconds=3.5,
        metrics={"map50": 0.81},
        loss_history=[{"epoch": e, "box": 2.0 / e, "cls": 1.0 / e, "dfl": 0.5} for e in range(1, 21)],
    )
    work = [("add", 6, None), ("accept", 9, generation), ("edit", 3, generation), ("delete", 2, generation)]
    for action, count, gen in work:
        for _ in range(count):
            CorrectionEvent.objects.create(
                video=video, frame_index=0, user=user, action=action, generation=gen, seconds=4.0
            )
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/projects/{project.id}/dashboard/")
    page.locator("#dash-title").get_by_text("Dashboard: Road <i>survey</i>").wait_for()
    page.locator("#eff-chart svg").wait_for()
    page.locator("#loss-chart svg").wait_for()
    assert page.locator("#eff-chart svg text", has_text="gen 1").count() == 1
    assert page.locator("#runs-table").get_by_text("42 s").count() == 1
    assert page.locator("#annotator-table").get_by_text(user.username).count() == 1
    browser.screenshot("dashboard")
    assert browser.console_errors == []
