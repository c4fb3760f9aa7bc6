"""Projects and clips in a real browser: log in, create a project, invite, upload, ingest, export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from annotate.models import Box, ExportJob, Membership, Project, Video
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
    page.locator("#upload-progress .progress-text").get_by_text("Uploaded; queued for decoding…").wait_for()
    row = page.locator("#clip-rows tr", has_text="dock cam")
    row.wait_for()
    assert row.get_attribute("data-status") in {"queued", "ingesting"}
    assert row.locator(".progress").count() == 1  # ingest progress while it waits

    video_ingest(video_id=Video.objects.get().id)  # what the worker does
    page.locator('#clip-rows tr[data-status="ready"]').wait_for()
    assert row.locator("td.num").first.text_content() == "10"
    # The upload bar follows the ingest to its end instead of saying "decoding" forever.
    page.locator("#upload-progress .progress-text").get_by_text("Ready: 10 frames").wait_for()
    browser.screenshot("project")

    page.get_by_role("button", name="Export…").click()
    page.get_by_role("dialog").get_by_role("button", name="Start export").click()
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
        finished_at=timezone.now() - timedelta(hours=2),
        model="per-clip detector from scratch",
        proposed_boxes={"0": [[10, 10, 20, 20, 0]]},
        detector_boxes={"0": [[10, 10, 20, 20, 0]]},
        loss_history=[{"epoch": e, "box": 2.0 / e, "cls": 1.0 / e, "dfl": 0.5} for e in range(1, 21)],
    )
    work = [("add", 6, None), ("accept", 9, generation), ("edit", 3, generation), ("delete", 2, generation)]
    frame = video.frames.get(index=0)
    for action, count, gen in work:
        for _ in range(count):
            box_id = None
            if action == "add":  # a hand-drawn box that still exists
                box_id = Box.objects.create(
                    frame=frame, label_class=project.classes.first(), x=1, y=1, w=4, h=4
                ).id
            CorrectionEvent.objects.create(
                video=video,
                frame_index=0,
                user=user,
                action=action,
                generation=gen,
                seconds=4.0,
                box_id=box_id,
            )
    Box.objects.create(frame=frame, label_class=project.classes.first(), x=10, y=10, w=20, h=20)
    type(frame).objects.filter(id=frame.id).update(reviewed_at=timezone.now())
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/projects/{project.id}/dashboard/")
    page.locator("#dash-title").get_by_text("Dashboard: Road <i>survey</i>").wait_for()
    page.locator("#eff-chart svg").wait_for()
    page.locator("#loss-chart svg").wait_for()
    page.locator("body[data-dashboard-ready]").wait_for()
    assert page.locator("#eff-chart svg text", has_text="gen 1").count() == 1
    # Deleted pre-labels stand beside the final boxes, not stacked into them.
    assert page.locator("#eff-chart .chart-legend").get_by_text("deleted (not final)").count() == 1
    assert page.locator("#runs-table").get_by_text("mAP50").count() == 0  # no column that is always "-"
    # One proposed box matched one of the 7 boxes people kept on the frame they finished.
    expect(page.locator("#live-figure")).to_have_text("14% found by the model alone")
    expect(page.locator("#progress-figure")).to_have_text("1 / 12 frames finished")
    expect(page.locator("#saved-figure")).not_to_have_text("…")
    assert page.locator("#runs-table").get_by_text("42 s").count() == 1
    assert page.locator("#annotator-table").get_by_text(user.username).count() == 1
    browser.screenshot("dashboard", full_page=True)
    assert browser.console_errors == []


def _finish_frames(video, indices, label_class) -> None:
    for index in indices:
        frame = video.frames.get(index=index)
        Box.objects.create(frame=frame, label_class=label_class, x=5, y=5, w=30, h=30)
        type(frame).objects.filter(id=frame.id).update(reviewed_at=timezone.now())


def test_a_manager_changes_settings_and_exports_finished_frames_as_mot(browser, import_root):
    import zipfile

    from django.conf import settings as django_settings

    from tests.browser.helpers import ready_clip

    _owner, project, video = ready_clip(import_root, classes=["car", "bike", "bus"])
    _finish_frames(video, [2, 5], project.classes.get(name="bike"))
    user = UserFactory()  # a manager, not the owner: settings and exports are a manager's
    Membership.objects.create(project=project, user=user, role="manager")
    newcomer = UserFactory()
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/projects/{project.id}/")
    page.get_by_role("link", name="Settings").click()
    page.locator("body[data-settings-ready]").wait_for()

    page.get_by_label("Train the clip's model automatically").uncheck()
    page.get_by_label("…after this many newly labeled frames").fill("8")
    page.get_by_label("Training budget per generation", exact=False).fill("120")
    page.get_by_label("Train from scratch (ignore base weights)").check()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    project.refresh_from_db()
    assert (project.auto_train, project.auto_train_after_frames, project.train_time_budget) == (False, 8, 120)
    assert project.train_from_scratch is True
    expect(page.locator("#weights-facts")).to_contain_text("from scratch (chosen on the settings page)")

    page.get_by_label("Name of class bus").fill("lorry")
    page.get_by_label("Name of class bus").press("Tab")
    page.get_by_label("Name of class lorry").wait_for()
    page.get_by_role("button", name="Move bike up").click()
    page.locator('#class-list li:first-child input[aria-label="Name of class bike"]').wait_for()
    assert list(project.classes.order_by("index").values_list("name", flat=True)) == ["bike", "car", "lorry"]
    expect(page.locator("#class-list li[data-class-id] .count").first).to_have_text("2 boxes")
    with page.expect_response(lambda r: "/classes/" in r.url and r.request.method == "PATCH") as saved:
        page.get_by_label("Colour of class car").fill("#118844")
    assert saved.value.ok
    expect(page.get_by_label("Colour of class car")).to_have_value("#118844")
    assert project.classes.get(name="car").color == "#118844"
    Box.objects.create(
        frame=video.frames.get(index=7), label_class=project.classes.get(name="lorry"), x=1, y=1, w=9, h=9
    )
    page.reload()
    page.locator("body[data-settings-ready]").wait_for()
    lorry = page.locator("#class-list li", has=page.get_by_label("Name of class lorry"))
    expect(lorry.locator(".count")).to_have_text("1 box")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.get_by_role("button", name="Delete class lorry").click()
    page.get_by_label("Name of class lorry").wait_for(state="detached")
    assert asked == ["Delete class lorry and its 1 box? This cannot be undone."]
    assert not Box.objects.filter(frame__index=7).exists()

    members = page.locator("#member-form")
    members.get_by_label("Username").fill(newcomer.username)
    members.get_by_label("Role").select_option("viewer")
    members.get_by_role("button", name="Add member").click()
    page.get_by_label(f"Role of {newcomer.username}").wait_for()
    assert Membership.objects.get(user=newcomer).role == "viewer"
    page.get_by_label(f"Role of {newcomer.username}").select_option("annotator")
    page.get_by_text(f"{newcomer.username} is now annotator.").wait_for()
    assert Membership.objects.get(user=newcomer).role == "annotator"
    browser.screenshot("settings", full_page=True)

    browser.goto(f"/projects/{project.id}/")
    page.get_by_role("button", name="Export…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Frames people finished", exact=False)).to_be_checked()  # the default
    expect(dialog).to_contain_text("2 finished frames in the project now")
    dialog.get_by_label("Clips").select_option(label="clip <one>")
    dialog.get_by_label("MOT", exact=False).check()
    dialog.get_by_label("Include the frame images").check()
    browser.screenshot("export-dialog")
    dialog.get_by_role("button", name="Start export").click()
    page.locator('.export-job[data-status="queued"]').wait_for()
    job = ExportJob.objects.get()
    assert job.options["frames"] == "reviewed" and job.options["video"] == video.id and job.format == "mot"
    export_job_run(job_id=job.id)  # what the worker does
    page.locator(".export-job").get_by_role("link", name="Download (2 boxes)").wait_for()
    job.refresh_from_db()
    with zipfile.ZipFile(django_settings.MEDIA_ROOT / job.file) as archive:
        gt = next(n for n in archive.namelist() if n.endswith("gt/gt.txt"))
        assert [line.split(",")[0] for line in archive.read(gt).decode().splitlines()] == ["3", "6"]
        assert len([n for n in archive.namelist() if "/img1/" in n]) == 2

    # CVAT for video from the same dialog: the clip's track with its two keyframes.
    page.get_by_role("button", name="Export…").click()
    dialog.get_by_label("Clips").select_option(label="clip <one>")
    dialog.get_by_label("CVAT for video", exact=False).check()
    dialog.get_by_role("button", name="Start export").click()
    page.locator('.export-job[data-status="queued"]').wait_for()
    cvat_job = ExportJob.objects.exclude(id=job.id).get()
    assert cvat_job.format == "cvat" and cvat_job.options["frames"] == "reviewed"
    export_job_run(job_id=cvat_job.id)
    expect(page.locator(".export-job").first).to_contain_text("CVAT for video")
    cvat_job.refresh_from_db()
    with zipfile.ZipFile(django_settings.MEDIA_ROOT / cvat_job.file) as archive:  # with images: a zip
        xml = archive.read("annotations.xml")
    assert xml.count(b"<box ") >= 2 and b"<track " in xml
    assert browser.console_errors == []


def test_a_failed_clip_is_retried_or_deleted_from_the_project_page(browser, import_root):
    from tests.browser.helpers import ready_clip

    user, project, _ = ready_clip(import_root)
    source = import_root / "broken.mp4"
    source.write_bytes(b"not a video")
    broken = Video.objects.create(
        project=project, name="broken", source=str(source), status="failed", error="bad file"
    )
    upload = Video.objects.create(
        project=project, name="lost upload", source="x.mp4", status="failed", error="bad"
    )
    page = browser.page
    browser.allowed_statuses = {409}
    browser.login(user.username)
    browser.goto(f"/projects/{project.id}/")
    page.get_by_role("button", name="Retry broken").click()
    page.locator(f'#clip-rows tr[data-video-id="{broken.id}"][data-status="queued"]').wait_for()
    broken.refresh_from_db()
    assert broken.status == "queued" and broken.error == ""

    page.get_by_role("button", name="Retry lost upload").click()
    page.get_by_text("upload it again", exact=False).wait_for()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete lost upload").click()
    page.locator(f'#clip-rows tr[data-video-id="{upload.id}"]').wait_for(state="detached")
    assert not Video.objects.filter(id=upload.id).exists()
    assert browser.console_errors == []


def test_a_queued_ingest_is_cancelled_from_the_project_page(browser, import_root):
    from tests.browser.helpers import ready_clip

    user, project, _ = ready_clip(import_root)
    waiting = Video.objects.create(project=project, name="waiting", source="w.mp4", status="queued")
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/projects/{project.id}/")
    page.locator(f'#clip-rows tr[data-video-id="{waiting.id}"] .progress').wait_for()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Cancel waiting").click()
    page.locator(f'#clip-rows tr[data-video-id="{waiting.id}"]').wait_for(state="detached")
    assert not Video.objects.filter(id=waiting.id).exists()
    assert browser.console_errors == []
