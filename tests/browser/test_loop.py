"""The whole annotation loop in a real browser with a real worker (issue 5's acceptance test).

Upload a clip and watch the worker ingest it; label the suggested frames with the mouse; train the
first generation with the Train button and watch its progress; see the pre-labels arrive without a
reload; accept, edit and delete them with the keyboard and the mouse, undo and redo; see the
dashboard count exactly those actions; export COCO and download it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from annotate.models import Box, BoxSource, CorrectionEvent, Project, ReviewState, Video
from annotate.services.projects import project_create
from config.celery import app
from fixtures.make_clips import make_clip
from tests.annotate.loop.conftest import TINY_TRAINING
from tests.annotate.worker import WorkerProcess, start_worker, worker_env
from tests.browser.helpers import drag, wait_frame, wait_saved
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FRAMES = 36
LONG = 150_000  # ms: a step that waits for the worker (ingest, training, export)


@contextmanager
def shared_broker(env: dict[str, str]) -> Iterator[None]:
    """SQLite: let the worker (whose data folder is the test database's) use this process's file broker.

    The live server runs in this process and enqueues into its own broker folder; the worker reads
    the folder under its ANNOTATE_DATA_DIR. A link makes them one. Redis needs nothing.
    """
    link: Path | None = None
    if settings.CELERY_BROKER_URL == "filesystem://":
        ours = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])).parent
        link = Path(env["ANNOTATE_DATA_DIR"]) / "broker"
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.exists():
            shutil.rmtree(link)
        link.symlink_to(ours, target_is_directory=True)
    try:
        with app.connection_for_write() as connection:  # messages of earlier tests name other rows
            for queue in ("cpu", "gpu"):
                connection.default_channel.queue_purge(queue)
        yield
    finally:
        if link is not None and link.is_symlink():
            link.unlink()


@contextmanager
def worker_for(env: dict[str, str], log_path: Path) -> Iterator[WorkerProcess]:
    """A worker started now (it boots while the browser works) and always stopped; its log on failure."""
    worker = start_worker(env, log_path, "--concurrency", "1")
    try:
        yield worker
    except BaseException:
        print(f"--- worker log ---\n{worker.log()[-8000:]}")
        raise
    finally:
        worker.stop()


def annotator_row(page, username: str) -> list[str]:
    row = page.locator("#annotator-table tbody tr", has_text=username)
    row.wait_for()
    return [cell.strip() for cell in row.locator("th, td").all_text_contents()]


def select_first_box(page) -> Box:
    """Focus the canvas and Tab to the first box of the frame (the keyboard way to select)."""
    page.locator("#stage canvas").focus()
    page.keyboard.press("Tab")
    selected = page.locator("#box-list .box-item.selected")
    selected.wait_for()
    return Box.objects.get(id=int(selected.get_attribute("data-box-id") or 0))


def open_frame(page, index: int) -> None:
    page.locator("#frame-input").fill(str(index))
    page.locator("#frame-input").press("Enter")
    wait_frame(page, index)


def test_the_annotation_loop_end_to_end_in_the_browser(browser, tmp_path):
    user = UserFactory()
    project = project_create(
        name="Loop",
        classes=[{"name": "square", "color": "#e15759"}, {"name": "disc", "color": "#4e79a7"}],
        created_by=user,
    )
    Project.objects.filter(id=project.id).update(auto_train=False)  # the Train button starts it
    clip = make_clip(tmp_path / "upload", frames=FRAMES, width=320, height=240, objects=1, seed=5)
    assert clip.video_path is not None
    env = {**worker_env(tmp_path), **TINY_TRAINING}
    page = browser.page

    with shared_broker(env), worker_for(env, tmp_path / "worker.log"):
        # -- upload; the worker decodes it ------------------------------------------------------
        browser.login(user.username)
        browser.goto(f"/projects/{project.id}/")
        page.get_by_label("Video file").set_input_files(str(clip.video_path))
        page.get_by_label("Name (optional)").fill("loop clip")
        page.get_by_role("button", name="Upload").click()
        row = page.locator("#clip-rows tr", has_text="loop clip")
        row.wait_for()
        page.locator('#clip-rows tr[data-status="ready"]').wait_for(timeout=LONG)
        video = Video.objects.get()
        assert (video.frame_count, video.width, video.height) == (FRAMES, 320, 240)
        assert row.locator("td.num").first.text_content() == str(FRAMES)

        # -- label the suggested frames with the mouse -------------------------------------------
        page.get_by_role("link", name="Label loop clip").click()
        wait_frame(page, 0)
        page.locator("#suggestion-list button[data-frame]").first.wait_for()
        picks = sorted(
            int(f)
            for f in page.locator("#suggestion-list button[data-frame]").evaluate_all(
                "bs => bs.map(b => b.dataset.frame)"
            )
        )
        assert len(picks) == 5, picks
        current = 0
        for index in picks:
            if index != current:
                page.keyboard.press("n")  # the next suggested frame
                wait_frame(page, index)
                current = index
            [truth] = clip.frames[index]
            drag(page, (truth.x, truth.y), (truth.x + truth.w, truth.y + truth.h))
            wait_saved(page)
        labeled = set(
            Box.objects.filter(frame__video=video, source=BoxSource.HUMAN).values_list(
                "frame__index", flat=True
            )
        )
        assert labeled == set(picks)
        expect(page.locator("#count-human")).to_have_text("5")
        expect(page.locator("#suggestion-list")).to_contain_text("All suggested frames are labeled")

        # The dashboard before any model: five boxes added by hand, nothing else yet.
        page.locator("#video-dashboard-link").click()
        assert annotator_row(page, user.username)[:5] == [user.username, "0", "0", "0", "5"]
        page.go_back()
        wait_frame(page, picks[-1])
        page.evaluate("window.loopMarker = 'same page'")  # gone if anything reloads the page

        # -- train; watch the progress; pre-labels arrive without a reload ------------------------
        train = page.locator("#train-button")
        expect(train).to_have_text("Train generation 1")
        train.click()
        progress = page.locator("#train-progress")
        expect(progress).to_be_visible()
        expect(progress.locator(".progress-text")).to_have_text(
            re.compile(r"queued|running|epoch \d+/\d+|pre-labeling")
        )
        expect(page.locator("#train-status")).to_contain_text("Generation 1")
        page.locator('#train-status[data-status="succeeded"]').wait_for(timeout=LONG)
        expect(progress).to_be_hidden()
        expect(page.locator("#count-pre")).not_to_have_text("0")
        assert page.evaluate("window.loopMarker") == "same page"

        pending = Box.objects.filter(
            frame__video=video, source=BoxSource.MODEL, review_state=ReviewState.PENDING
        )
        frames = sorted(set(pending.values_list("frame__index", flat=True)) - labeled)
        assert len(frames) >= 3, f"pre-labels on frames {frames} only"
        f_accept, f_delete, f_edit = frames[0], frames[len(frames) // 2], frames[-1]

        open_frame(page, f_accept)
        items = page.locator('#box-list .box-item[data-source="model"][data-state="pending"]')
        expect(items).to_have_count(pending.filter(frame__index=f_accept).count())
        assert "pre-label" in items.first.locator(".box-state").text_content()
        browser.screenshot("loop-workspace-prelabels")

        # -- correct them: accept (Enter), delete (Delete), edit (drag a handle), undo, redo ------
        accepted = select_first_box(page)
        page.keyboard.press("Enter")
        wait_saved(page)
        accepted.refresh_from_db()
        assert accepted.review_state == ReviewState.ACCEPTED
        accepted_item = page.locator(f'#box-list .box-item[data-box-id="{accepted.id}"]')
        expect(accepted_item).to_have_attribute("data-state", "accepted")
        # Undo takes the accept back (a pending, dashed pre-label again, no accept left in the
        # log); redo accepts it again.
        page.keyboard.press("Control+z")
        wait_saved(page)
        expect(accepted_item).to_have_attribute("data-state", "pending")
        accepted.refresh_from_db()
        assert accepted.review_state == ReviewState.PENDING
        assert not CorrectionEvent.objects.filter(video=video, action="accept").exists()
        page.keyboard.press("Control+Shift+z")
        wait_saved(page)
        expect(accepted_item).to_have_attribute("data-state", "accepted")

        open_frame(page, f_delete)
        deleted = select_first_box(page)
        page.keyboard.press("Delete")
        wait_saved(page)
        assert not Box.objects.filter(id=deleted.id).exists()
        # Undo brings the prediction back under its id with its provenance, and the delete leaves
        # the log; redo deletes it again.
        page.keyboard.press("Control+z")
        wait_saved(page)
        back = Box.objects.get(id=deleted.id)
        assert (back.source, back.review_state, back.generation_id, back.score) == (
            BoxSource.MODEL,
            ReviewState.PENDING,
            deleted.generation_id,
            deleted.score,
        )
        restored_item = page.locator(f'#box-list .box-item[data-box-id="{deleted.id}"]')
        expect(restored_item).to_have_attribute("data-source", "model")
        expect(restored_item).to_have_attribute("data-state", "pending")
        assert not CorrectionEvent.objects.filter(video=video, action="delete").exists()
        page.keyboard.press("Control+Shift+z")
        wait_saved(page)
        assert not Box.objects.filter(id=deleted.id).exists()

        open_frame(page, f_edit)
        edited = select_first_box(page)
        before = (edited.x, edited.y, edited.w, edited.h)
        corner = (edited.x + edited.w, edited.y + edited.h)
        drag(page, corner, (corner[0] - 8, corner[1] - 6))  # the south-east handle
        wait_saved(page)
        edited.refresh_from_db()
        assert edited.review_state == ReviewState.EDITED
        assert abs(edited.w - (before[2] - 8)) < 1.5 and abs(edited.h - (before[3] - 6)) < 1.5
        after = (edited.x, edited.y, edited.w, edited.h)

        page.keyboard.press("Control+z")
        wait_saved(page)
        edited.refresh_from_db()
        assert all(
            abs(a - b) < 0.01 for a, b in zip((edited.x, edited.y, edited.w, edited.h), before, strict=True)
        )
        assert edited.review_state == ReviewState.PENDING
        page.keyboard.press("Control+Shift+z")
        wait_saved(page)
        edited.refresh_from_db()
        assert all(
            abs(a - b) < 0.01 for a, b in zip((edited.x, edited.y, edited.w, edited.h), after, strict=True)
        )
        assert edited.review_state == ReviewState.EDITED

        # Every action carried the person's active time, measured by the page; an undone action
        # left the log, so it holds what the person finally did.
        events = list(CorrectionEvent.objects.filter(video=video).values_list("action", "seconds"))
        assert sorted(a for a, _ in events) == [
            "accept",
            "add",
            "add",
            "add",
            "add",
            "add",
            "delete",
            "edit",
        ]
        assert all(s is not None and 0 <= s < 600 for _, s in events), events
        assert sum(s for _, s in events) > 0

        # -- the dashboard counts exactly these actions -------------------------------------------
        page.locator("#video-dashboard-link").click()
        page.locator("#eff-chart svg").wait_for()
        assert annotator_row(page, user.username)[:5] == [user.username, "1", "1", "1", "5"]
        expect(page.locator("#runs-table")).to_contain_text("gen 1")
        page.locator("#loss-chart svg").wait_for()
        browser.screenshot("loop-dashboard", full_page=True)

        # -- export COCO from the project page and download it ------------------------------------
        browser.goto(f"/projects/{project.id}/")
        page.get_by_role("button", name="Export…").click()
        page.get_by_role("dialog").get_by_label("All frames", exact=False).check()  # every frame, as before
        page.get_by_role("dialog").get_by_role("button", name="Start export").click()
        link = page.locator(".export-job").get_by_role("link", name="Download")
        link.wait_for(timeout=LONG)
        with page.expect_download() as download_info:
            link.click()
        path = download_info.value.path()

    coco = json.loads(Path(path).read_text())
    assert len(coco["images"]) == FRAMES
    boxes = {(a["image_id"], tuple(round(v) for v in a["bbox"])) for a in coco["annotations"]}
    final = Box.objects.filter(frame__video=video).exclude(review_state=ReviewState.PENDING)
    assert len(coco["annotations"]) == final.count() == 5 + 1 + 1  # drawn, accepted, edited
    assert len(boxes) == 7
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert {names[a["category_id"]] for a in coco["annotations"]} == {"square"}
    assert browser.console_errors == []
