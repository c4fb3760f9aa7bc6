"""The review pass over pre-labels, playback and the keymaps, driven by keyboard and mouse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotate.models import Box, JobStatus, Suggestion
from tests.annotate.loop.helpers import generation, prediction
from tests.browser.helpers import boxes_of, drag, ready_clip, wait_frame, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NOTES_SCREENS = Path(os.environ.get("ANNOTATE_NOTES_SCREENS", "/work/wt/notes/screens"))


def prelabeled_clip(import_root):
    user, _project, video = ready_clip(import_root)
    gen = generation(video, 1, JobStatus.SUCCEEDED)
    video.active_generation = gen
    video.save()
    scores = {2: [0.95, 0.9], 4: [0.92, 0.3], 6: [0.85], 8: [0.2]}
    boxes = {
        i: [prediction(video, i, gen, x=20 + 90 * k, y=30, w=60, h=50, score=s) for k, s in enumerate(ss)]
        for i, ss in scores.items()
    }
    Suggestion.objects.create(
        video=video, generation=gen, frame_index=6, rank=1, reason="low score", score=0.5
    )
    return user, video, boxes


def test_the_review_pass_jumps_hides_and_accepts_above_a_threshold(browser, import_root):
    user, video, boxes = prelabeled_clip(import_root)
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)
    expect(page.locator("#count-pre")).to_have_text("4")

    page.locator("#score-threshold").fill("0.8")
    expect(page.locator("#score-threshold-value")).to_have_text("0.80")
    page.locator("#stage canvas").focus()
    page.keyboard.press("l")  # next frame with a pre-label under 0.80
    wait_frame(page, 4)
    page.keyboard.press("l")
    wait_frame(page, 8)
    page.keyboard.press("u")  # next unfinished frame, wrapping round
    wait_frame(page, 9)
    page.locator("#next-suggested").click()
    wait_frame(page, 6)

    # Hide what the model is sure of: frame 4 shows only its doubtful pre-label.
    page.locator("#frame-input").fill("4")
    page.locator("#frame-input").press("Enter")
    wait_frame(page, 4)
    page.locator("#hide-above").check()
    page.locator("#stage canvas").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#box-list .box-item.selected .box-state")).to_have_text("pre-label 0.30")
    page.keyboard.press("Tab")  # the walk ends there: the 0.92 pre-label is hidden
    expect(page.locator("#box-list .box-item.selected")).to_have_count(0)

    # Accept everything at or above 0.80 on frames 0-5 in one go.
    page.locator("#range-end").fill("5")
    expect(page.locator("#accept-above")).to_have_text("Accept ≥ 0.80 on frames 0\u20135")
    NOTES_SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(NOTES_SCREENS / "workspace-review-pass.png"))
    page.locator("#accept-above").click()
    expect(page.locator("#toasts")).to_contain_text(
        "Accepted 3 pre-labels scoring ≥ 0.80 on 2 frames; 1 finished."
    )
    states = {b.id: b.review_state for b in Box.objects.filter(frame__video=video)}
    assert [states[b.id] for b in boxes[2]] == ["accepted", "accepted"]
    assert [states[b.id] for b in boxes[4]] == ["accepted", "pending"]
    assert states[boxes[6][0].id] == "pending"  # outside the range
    expect(page.locator("#count-accepted")).to_have_text("1")
    expect(page.locator("#frame-state")).to_have_text("1 pre-label to decide")

    # Finish the frame with one key: the pre-label left is accepted.
    page.locator("#stage canvas").focus()
    page.keyboard.press("Shift+Enter")
    wait_saved(page)
    expect(page.locator("#frame-state")).to_have_text("Finished")
    expect(page.locator("#count-accepted")).to_have_text("2")
    assert browser.console_errors == []


def test_space_plays_and_pauses_and_the_cvat_keymap_is_chosen_per_user(browser, import_root):
    user, video, _boxes = prelabeled_clip(import_root)
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)

    page.locator("#speed").select_option("4")
    page.locator("#stage canvas").focus()
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("Number(document.querySelector('#frame-input').value) >= 3")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    stopped = page.locator("#frame-input").input_value()
    wait_frame(page, int(stopped))

    # The CVAT preset: F next, D previous, N new box; listed in the help.
    page.keyboard.press("?")
    page.locator("#keymap-select").select_option("cvat")
    help_text = page.locator("#shortcut-list").inner_text()
    assert "F / →\nNext frame" in help_text and "D / ←\nPrevious frame" in help_text
    assert "N\nDraw a new box" in help_text
    page.keyboard.press("Escape")
    page.locator("#frame-input").fill("2")
    page.locator("#frame-input").press("Enter")
    wait_frame(page, 2)
    page.keyboard.press("f")
    wait_frame(page, 3)
    page.keyboard.press("d")
    wait_frame(page, 2)
    page.keyboard.press("n")  # the next drag draws, even starting on a pre-label
    expect(page.locator("#toasts")).to_contain_text("Drag on the frame to draw")
    drag(page, (30, 40), (70, 75))  # starts inside the 0.95 pre-label: draws instead of moving it
    wait_saved(page)
    frame_two = boxes_of(video, 2)
    assert [b.source for b in frame_two] == ["model", "model", "human"]
    assert (frame_two[0].x, frame_two[0].y) == (20, 30)

    # A key with no action says so instead of doing nothing.
    page.keyboard.press("z")
    expect(page.locator("#toasts")).to_contain_text("“z” is not a shortcut in the CVAT keymap")

    # The choice is this user's, kept across reloads.
    page.reload()
    wait_frame(page, 2)
    page.keyboard.press("f")
    wait_frame(page, 3)
    assert browser.console_errors == []
