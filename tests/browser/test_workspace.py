"""The labeler workspace in a real browser: drawing and editing boxes, undo, keys, timeline, conflicts."""

from __future__ import annotations

import pytest

from annotate.services.boxes import box_update
from tests.browser.helpers import (
    HTML_CLASS,
    boxes_of,
    drag,
    ready_clip,
    timeline_color,
    wait_frame,
    wait_saved,
    wait_timeline_color,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HUMAN_GREEN = [0x3F, 0xB9, 0x50]
FINISHED_BLUE = [0x4C, 0x9A, 0xFF]
EMPTY_GREY = [0x3A, 0x3F, 0x47]


def close(a: float, b: float, tolerance: float = 1.5) -> bool:
    return abs(a - b) <= tolerance


def test_a_labeler_draws_moves_resizes_reclasses_deletes_and_undoes_boxes(browser, import_root):
    user, project, video = ready_clip(import_root)
    car, html_class = project.classes.order_by("index")
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)

    # Class names are data: shown as text, never parsed as markup.
    assert page.locator(".class-list").get_by_text(HTML_CLASS, exact=True).count() == 1
    assert page.locator(".class-list b, .class-list img, .chips img").count() == 0
    assert page.locator("#crumb-video").text_content() == "clip <one>"

    drag(page, (40, 50), (100, 90))
    wait_saved(page)
    [box] = boxes_of(video, 0)
    assert (box.label_class_id, box.source) == (car.id, "human")
    assert all(close(a, b) for a, b in zip((box.x, box.y, box.w, box.h), (40, 50, 60, 40), strict=True))

    drag(page, (70, 70), (90, 80))  # move by (20, 10)
    wait_saved(page)
    box.refresh_from_db()
    assert close(box.x, 60) and close(box.y, 60) and close(box.w, 60)

    drag(page, (120, 100), (130, 110))  # the south-east handle of the selected box
    wait_saved(page)
    box.refresh_from_db()
    assert close(box.w, 70) and close(box.h, 50) and close(box.x, 60)

    page.keyboard.press("2")
    wait_saved(page)
    box.refresh_from_db()
    assert box.label_class_id == html_class.id

    page.keyboard.press("Control+z")
    wait_saved(page)
    box.refresh_from_db()
    assert box.label_class_id == car.id
    page.keyboard.press("Control+Shift+z")
    wait_saved(page)
    box.refresh_from_db()
    assert box.label_class_id == html_class.id

    page.keyboard.press("Delete")
    wait_saved(page)
    assert boxes_of(video, 0) == []
    page.keyboard.press("Control+z")  # the box comes back under its id, with its geometry
    wait_saved(page)
    [back] = boxes_of(video, 0)
    assert back.id == box.id and back.source == "human"
    assert close(back.x, 60) and close(back.w, 70) and back.label_class_id == html_class.id
    page.keyboard.press("Control+y")
    wait_saved(page)
    assert boxes_of(video, 0) == []
    for _ in range(2):  # undo the delete, then the class change, on the same box
        page.keyboard.press("Control+z")
        wait_saved(page)
    [back] = boxes_of(video, 0)
    assert back.label_class_id == car.id
    assert page.locator("#box-list .box-item").count() == 1

    assert browser.console_errors == []


def test_keys_and_timeline_navigate_and_the_timeline_marks_labeled_frames(browser, import_root):
    user, _project, video = ready_clip(import_root)
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)

    page.keyboard.press("ArrowRight")
    wait_frame(page, 1)
    assert page.locator("#frame-label").text_content() == "Frame 1 of 12"
    page.keyboard.press("d")
    wait_frame(page, 2)
    page.keyboard.press("a")
    wait_frame(page, 1)
    page.keyboard.press("End")
    wait_frame(page, 11)
    page.keyboard.press("Home")
    wait_frame(page, 0)
    for _ in range(3):  # scrubbing quickly still lands on the last frame asked for
        page.keyboard.press("ArrowRight")
    wait_frame(page, 3)

    assert timeline_color(page, 3) == EMPTY_GREY
    drag(page, (10, 10), (60, 60))
    wait_saved(page)
    assert len(boxes_of(video, 3)) == 1
    page.wait_for_function("document.querySelector('#count-human').textContent === '1'")
    # Every box on frame 3 is decided (the one a person drew): the frame is finished.
    wait_timeline_color(page, 3, FINISHED_BLUE)
    assert timeline_color(page, 4) == EMPTY_GREY

    # Clicking the timeline jumps to that frame.
    timeline = page.locator("#timeline canvas").bounding_box()
    page.mouse.click(timeline["x"] + timeline["width"] * (7.5 / 12), timeline["y"] + timeline["height"] / 2)
    wait_frame(page, 7)
    assert page.locator("#frame-input").input_value() == "7"

    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    assert (
        page.get_by_role("dialog").get_by_text("Finish the frame (accept all pre-labels left)").is_visible()
    )
    page.keyboard.press("Escape")
    assert not page.locator("#help").is_visible()

    # Reloading with #frame=N opens that frame.
    page.reload()
    wait_frame(page, 7)
    assert browser.console_errors == []


def test_an_edit_on_a_box_someone_else_changed_shows_a_conflict_and_reloads_the_frame(browser, import_root):
    user, _project, video = ready_clip(import_root)
    page = browser.page
    browser.allowed_statuses.add(409)
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)
    drag(page, (40, 40), (100, 100))
    wait_saved(page)
    [box] = boxes_of(video, 0)

    # Someone else moves the box through the API behind this page's back.
    box_update(box_id=box.id, version=box.version, user=user, x=150.0)

    drag(page, (70, 70), (80, 70))
    conflict = page.locator("#conflict")
    conflict.wait_for(state="visible")
    assert "reloaded" in conflict.text_content()
    wait_saved(page)
    box.refresh_from_db()
    assert close(box.x, 150)
    # The page now shows the server's version of the box.
    page.wait_for_selector("#box-list .box-geom:text-is('150,40 60\u00d760')")
    browser.screenshot("workspace-conflict")
    assert browser.console_errors == []
