"""The six defects of issue 12, each driven in Chromium the way a labeler met it.

Each test failed on the workspace before the fix (see the commit that added this file).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotate.models import Frame, Generation, JobStatus, Project
from annotate.services.projects import project_create
from annotate.services.videos import video_create_from_path, video_ingest
from fixtures.make_clips import make_clip
from tests.annotate.loop.helpers import generation, prediction
from tests.browser.helpers import boxes_of, drag, ready_clip, wait_frame, wait_saved
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def runs(video) -> int:
    return Generation.objects.filter(video=video).count()


def test_training_counts_finished_frames_starts_only_when_the_labeler_leaves_one_and_is_set_in_the_workspace(
    browser, import_root
):
    user, project, video = ready_clip(import_root)
    Project.objects.filter(id=project.id).update(auto_train_after_frames=2)
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)

    train = page.locator("#train-button")
    expect(train).to_be_disabled()  # nothing finished: nothing to learn from
    assert "Finish at least one frame" in (train.get_attribute("title") or "")
    status = page.locator("#auto-train-status")
    expect(status).to_have_text(
        "0 of 2 frames until the next generation (it starts when you leave a finished frame)."
    )

    drag(page, (20, 20), (60, 60))
    wait_saved(page)
    expect(status).to_contain_text("1 of 2 frames")
    expect(train).to_be_enabled()
    page.keyboard.press("ArrowRight")
    wait_frame(page, 1)
    drag(page, (20, 20), (60, 60))
    wait_saved(page)
    drag(page, (100, 100), (140, 140))  # the labeler is still on this frame: no run cuts in
    wait_saved(page)
    expect(status).to_have_text("The next generation starts when you leave this frame finished.")
    assert runs(video) == 0

    page.keyboard.press("ArrowRight")  # leaving the finished frame is the boundary
    wait_frame(page, 2)
    expect(page.locator("#train-status")).to_contain_text("Generation 1")
    generation_row = Generation.objects.get(video=video)
    assert generation_row.status == JobStatus.QUEUED
    assert sorted(
        Frame.objects.filter(video=video, reviewed_at__isnull=False).values_list("index", flat=True)
    ) == [
        0,
        1,
    ]

    # The setting lives in the workspace too (a manager's), saved on the project.
    page.locator("#auto-train-after").fill("3")
    page.locator("#auto-train-after").press("Enter")
    expect(page.locator("#toasts")).to_contain_text("every 3 finished frames")
    page.locator("#auto-train-toggle").uncheck()
    expect(page.locator("#toasts")).to_contain_text("Automatic training is off")
    project.refresh_from_db()
    assert (project.auto_train, project.auto_train_after_frames) == (False, 3)
    assert browser.console_errors == []


def test_a_frame_is_finished_by_deciding_every_box_and_the_counts_come_from_the_server(browser, import_root):
    user, _project, video = ready_clip(import_root, frames=30)
    gen = generation(video, 1, JobStatus.SUCCEEDED)
    video.active_generation = gen
    video.save()
    first = prediction(video, 1, gen, x=10, y=10, w=40, h=40)
    second = prediction(video, 1, gen, x=100, y=100, w=40, h=40)
    prediction(video, 2, gen)
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/#frame=1")
    wait_frame(page, 1)
    expect(page.locator("#frame-state")).to_have_text("2 pre-labels to decide")

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # accept the first pre-label with the keyboard
    wait_saved(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Delete")  # and delete the second: every box on the frame is decided
    wait_saved(page)
    expect(page.locator("#frame-state")).to_have_text("Finished")
    assert Frame.objects.get(video=video, index=1).reviewed_at is not None
    assert boxes_of(video, 1)[0].id == first.id and len(boxes_of(video, 1)) == 1
    assert second.id not in {b.id for b in boxes_of(video, 1)}

    # Far away, with frame 1 not in the page's caches, the legend still counts it: the server does.
    browser.goto(f"/videos/{video.id}/#frame=29")
    page.reload()
    wait_frame(page, 29)
    expect(page.locator("#count-accepted")).to_have_text("1")
    expect(page.locator("#count-pre")).to_have_text("1")
    assert browser.console_errors == []


def test_a_class_key_right_after_drawing_applies_to_the_new_box(browser, import_root):
    user, project, video = ready_clip(import_root)
    car, other = project.classes.order_by("index")
    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)

    drag(page, (20, 20), (80, 80))
    wait_saved(page)  # a person is slower than the save: the box has its server id by now
    page.keyboard.press("2")
    wait_saved(page)
    [box] = boxes_of(video, 0)
    assert box.label_class_id == other.id
    # The key changed the box, not the class of the next boxes.
    expect(page.locator(f'#class-list input[value="{car.id}"]')).to_be_checked()

    drag(page, (120, 120), (180, 180))
    page.keyboard.press("2")  # before the save answered
    wait_saved(page)
    assert [b.label_class_id for b in boxes_of(video, 0)] == [other.id, other.id]
    assert browser.console_errors == []


def test_a_missing_or_forbidden_clip_or_project_is_a_plain_404_page(browser, import_root):
    user, project, video = ready_clip(import_root)
    stranger = UserFactory()
    page = browser.page
    browser.allowed_statuses.add(404)  # the pages below answer 404 on purpose
    browser.login(user.username)

    for path in ("/videos/99999/", "/videos/99999/dashboard/", "/projects/99999/", "/no/such/page/"):
        response = page.goto(f"{browser.base_url}{path}")
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        assert page.locator("#stage, #undo, #save-state").count() == 0
    expect(page.get_by_text("There is no such clip, or you are not a member of its project.")).to_have_count(
        0
    )

    page.context.clear_cookies()
    browser.login(stranger.username)
    response = page.goto(f"{browser.base_url}/videos/{video.id}/")
    assert response is not None and response.status == 404
    expect(page.get_by_text("There is no such clip, or you are not a member of its project.")).to_be_visible()
    response = page.goto(f"{browser.base_url}/projects/{project.id}/")
    assert response is not None and response.status == 404
    expect(page.get_by_text("There is no such project, or you are not one of its members.")).to_be_visible()
    assert browser.console_errors == []


def test_long_names_wrap_and_suggestions_speak_plainly_and_all_five_show(browser, import_root):
    user = UserFactory()
    long_project = "P" * 200
    project = project_create(
        name=long_project, classes=[{"name": "C" * 100, "color": "#e15759"}], created_by=user
    )
    truth = make_clip(import_root / "clip", frames=30, width=320, height=240, objects=2, seed=3)
    assert truth.video_path is not None
    video = video_create_from_path(project=project, path=truth.video_path, name="V" * 255)
    video_ingest(video_id=video.id)
    page = browser.page
    browser.login(user.username)

    for path in ("/", f"/projects/{project.id}/", f"/videos/{video.id}/"):
        browser.goto(path)
        if path.startswith("/videos/"):
            wait_frame(page, 0)
        else:
            page.get_by_text(long_project[:50]).first.wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"{path} is {width} px wide"

    suggestions = page.locator("#suggestion-list .suggestion")
    expect(suggestions).to_have_count(5)
    text = page.locator("#suggestion-list").inner_text()
    assert "distance" not in text and "disagreement between" not in text
    # The fifth is shown whole: the list does not clip it.
    clipped = page.evaluate(
        """() => { const l = document.querySelector('#suggestion-list');
                   const last = l.lastElementChild.getBoundingClientRect(), box = l.getBoundingClientRect();
                   return l.scrollHeight > l.clientHeight + 1 || last.bottom > box.bottom + 1; }"""
    )
    assert not clipped
    assert browser.console_errors == []


def test_messages_read_as_sentences_the_api_docs_are_linked_and_the_site_has_an_icon(browser, import_root):
    user, project, video = ready_clip(import_root)
    page = browser.page
    response = page.goto(f"{browser.base_url}/api/docs/")  # signed out: the login page, then back
    assert response is not None and response.status == 200
    assert "/login/?next=/api/docs/" in page.url
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{browser.base_url}/api/docs/")
    expect(page.get_by_role("heading", level=2, name="Operations")).to_be_visible()

    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)
    page.locator("#api-docs-link").click()
    page.wait_for_url(f"{browser.base_url}/api/docs/")

    icon = page.request.get(f"{browser.base_url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/svg+xml"

    described = page.evaluate(
        """async () => {
            const { ApiError } = await import('/static/annotate/api.js');
            return ApiError.describe(400, { file: ['The submitted file is empty.'], code: 'invalid' });
        }"""
    )
    assert described == "The submitted file is empty."
    members = page.request.post(
        f"{browser.base_url}/api/projects/{project.id}/members/",
        data={"username": "nobody-here"},
        headers={"X-CSRFToken": next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")},
    )
    assert members.status == 400
    assert (
        "Object with" not in members.text()
        and "No account can be added under that username" in members.text()
    )
    assert browser.console_errors == []
