"""Objects (tracks) in the workspace, driven by keyboard and mouse: new object, propagate, the object
list (hide, lock, assign, split, merge), occluded/outside flags, copy and paste."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotate.models import Box, Track
from tests.browser.helpers import boxes_of, drag, ready_clip, to_client, wait_frame, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NOTES_SCREENS = Path(os.environ.get("ANNOTATE_NOTES_SCREENS", "/work/wt/notes/screens"))


def object_row(page, track_id: int):
    return page.locator(f'#object-list .object-item[data-track-id="{track_id}"]')


def test_a_labeler_follows_an_object_through_the_clip(browser, import_root):
    user, _project, video = ready_clip(import_root)
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)

    drag(page, (20, 20), (80, 70))
    wait_saved(page)
    page.keyboard.press("t")  # the new box (still selected) becomes an object
    expect(page.locator("#object-list .object-item")).to_have_count(1)
    [track] = Track.objects.filter(video=video)
    assert boxes_of(video, 0)[0].track_id == track.id

    page.locator("#propagate-frames").fill("4")
    page.locator("#propagate-frames").press("Enter")
    page.locator("#stage canvas").focus()
    page.keyboard.press("Control+b")
    expect(object_row(page, track.id).locator(".object-span")).to_have_text("frames 0\u20134")
    assert sorted(Box.objects.filter(track=track).values_list("frame__index", flat=True)) == [0, 1, 2, 3, 4]

    # Occluded and outside on a box of the object, by key.
    page.keyboard.press("ArrowRight")
    wait_frame(page, 1)
    page.keyboard.press("Tab")
    page.keyboard.press("q")
    wait_saved(page)
    page.keyboard.press("o")
    wait_saved(page)
    [on_one] = boxes_of(video, 1)
    assert (on_one.occluded, on_one.outside) == (True, True)
    expect(page.locator("#box-list .box-flags")).to_have_text("occluded, outside")

    # Lock: the box is selected but does not move.
    object_row(page, track.id).locator(".object-lock").click()
    drag(page, (40, 40), (90, 90))
    expect(page.locator("#toasts")).to_contain_text(f"Object #{track.id} is locked")
    assert boxes_of(video, 1)[0].x == on_one.x
    page.locator("#stage canvas").focus()
    page.keyboard.press("k")  # unlock by key
    expect(object_row(page, track.id).locator(".object-lock")).to_have_attribute("aria-pressed", "false")

    # Hide: the object's boxes leave the canvas (and the Tab walk), the list says so.
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    page.keyboard.press("h")
    expect(page.locator("#box-list .box-flags")).to_contain_text("hidden")
    expect(object_row(page, track.id)).to_have_class("object-item hidden-object")
    object_row(page, track.id).locator(".object-hide").click()
    expect(object_row(page, track.id)).not_to_have_class("object-item hidden-object")

    # Split at frame 3: frames 3-4 become a second object; merge them back from the list.
    page.locator("#frame-input").fill("3")
    page.locator("#frame-input").press("Enter")
    wait_frame(page, 3)
    object_row(page, track.id).locator(".object-split").click()
    expect(page.locator("#object-list .object-item")).to_have_count(2)
    second = Track.objects.exclude(id=track.id).get(video=video)
    assert sorted(Box.objects.filter(track=second).values_list("frame__index", flat=True)) == [3, 4]
    expect(object_row(page, track.id).locator(".object-span")).to_have_text("frames 0\u20132")
    object_row(page, track.id).locator(".object-check").check()
    object_row(page, second.id).locator(".object-check").check()
    page.locator("#merge-objects").click()
    expect(page.locator("#object-list .object-item")).to_have_count(1)
    assert Box.objects.filter(track=track).count() == 5

    # Copy a box, paste it on a frame the object is not on: it lands on the object.
    expect(page.locator("#toasts")).to_contain_text("Merged into object")  # said once the frame is reloaded
    page.locator("#stage canvas").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Control+c")
    page.keyboard.press("End")
    wait_frame(page, 11)
    page.keyboard.press("Control+v")
    wait_saved(page)
    [pasted] = boxes_of(video, 11)
    assert pasted.track_id == track.id

    # A box drawn alone is assigned to the object from the list.
    page.keyboard.press("ArrowLeft")
    wait_frame(page, 10)
    drag(page, (150, 150), (200, 200))
    wait_saved(page)
    object_row(page, track.id).locator(".object-assign").click()
    wait_saved(page)
    expect(object_row(page, track.id).locator(".object-span")).to_have_text("frames 0\u201311")
    assert boxes_of(video, 10)[0].track_id == track.id
    expect(page.locator("#frame-state")).to_have_text("Finished")  # the server's frame rows, reloaded
    expect(page.locator("#count-accepted")).to_have_text("7")

    NOTES_SCREENS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")  # a clear picture
    page.screenshot(path=str(NOTES_SCREENS / "workspace-object-list.png"))
    assert browser.console_errors == []


def test_a_locked_box_cannot_be_deleted_and_a_key_without_a_box_says_why(browser, import_root):
    user, _project, video = ready_clip(import_root)
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)
    page.keyboard.press("Delete")
    expect(page.locator("#toasts")).to_contain_text("Select a box first")
    page.keyboard.press("Control+v")
    expect(page.locator("#toasts")).to_contain_text("Nothing copied yet")
    x, y = to_client(page, 5, 5)
    page.mouse.click(x, y)
    assert browser.console_errors == []
