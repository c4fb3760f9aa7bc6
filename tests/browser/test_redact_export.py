"""The export dialog writes a redacted video: one clip, the chosen classes hidden, a download."""

from __future__ import annotations

from django.utils import timezone
from playwright.sync_api import expect

from annotate.models import Box, ExportJob
from annotate.services.exports import export_job_run
from tests.browser.helpers import ready_clip


def test_a_manager_exports_a_clip_with_one_class_pixelated(browser, import_root):
    user, project, video = ready_clip(import_root, frames=6, classes=["car", "bike"])
    bike = project.classes.get(name="bike")
    for frame in video.frames.all():
        Box.objects.create(frame=frame, label_class=bike, x=10, y=10, w=40, h=30)
        type(frame).objects.filter(id=frame.id).update(reviewed_at=timezone.now())
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/projects/{project.id}/")
    page.get_by_role("button", name="Export…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Redacted video", exact=False).check()
    expect(dialog.get_by_label("Include the frame images")).to_be_hidden()

    # Every clip at once is not one video: the server says so and nothing starts.
    browser.allowed_statuses = {400}
    dialog.get_by_label("bike").check()
    dialog.get_by_role("button", name="Start export").click()
    expect(dialog.locator("#export-error")).to_contain_text("give the video to redact")

    dialog.get_by_label("Clips").select_option(label="clip <one>")
    dialog.get_by_label("How boxes are hidden").select_option("pixelate")
    dialog.get_by_role("button", name="Start export").click()
    page.locator('.export-job[data-status="queued"]').wait_for()
    job = ExportJob.objects.get()
    assert job.format == "redact" and job.options["video"] == video.id
    assert job.options["classes"] == ["bike"] and job.options["style"] == "pixelate"
    expect(page.locator(".export-job")).to_contain_text("Redacted video · clip <one> · pixelate bike")
    export_job_run(job_id=job.id)  # what the worker does
    link = page.locator(".export-job").get_by_role("link", name="Download (6 boxes)")
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".mp4")
    assert browser.console_errors == []
