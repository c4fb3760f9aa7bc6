"""What each role is offered in the pages: a viewer looks and changes nothing (no control that would
only answer 403, and no failed request); an annotator labels and imports but is not offered what a
manager does, and the API refuses it anyway."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from annotate.models import Box, CorrectionEvent, Membership
from tests.browser.helpers import drag, ready_clip, to_client, wait_frame
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WRITE_CONTROLS = [
    "#accept-all",
    "#undo",
    "#redo",
    "#box-tools",
    "#merge-objects",
    "#accept-above",
    "#train-button",
]


def _state(video) -> list[tuple]:
    rows = Box.objects.filter(frame__video=video).order_by("id")
    return list(
        rows.values_list("id", "x", "y", "w", "h", "label_class_id", "review_state", "frame__reviewed_at")
    )


def test_a_viewer_moves_plays_and_looks_but_cannot_change_anything(browser, import_root):
    _, project, video = ready_clip(import_root)
    car = project.classes.get(name="car")
    frame = video.frames.get(index=0)
    Box.objects.create(frame=frame, label_class=car, x=20, y=20, w=60, h=40)
    Box.objects.create(
        frame=frame,
        label_class=car,
        x=200,
        y=120,
        w=50,
        h=50,
        source="model",
        review_state="pending",
        score=0.4,
    )
    viewer = UserFactory()
    Membership.objects.create(project=project, user=viewer, role="viewer")
    before = _state(video)
    page = browser.page
    browser.login(viewer.username)

    browser.goto(f"/projects/{project.id}/")
    page.locator('#clip-rows tr[data-status="ready"]').wait_for()
    expect(page.locator("#my-role")).to_have_text("viewer")
    for hidden in [
        "#upload-card",
        "#export-open",
        "#export-card",
        "#settings-link",
        "#label-import-card",
        "#member-form",
    ]:
        expect(page.locator(hidden)).to_be_hidden()
    assert page.get_by_role("link", name="Label clip <one>").count() == 0
    assert page.get_by_role("button", name="Delete clip <one>").count() == 0
    page.get_by_role("link", name="View clip <one>").click()

    wait_frame(page, 0)
    notice = page.locator("#view-only")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("View only: your role in this project is viewer")
    for selector in WRITE_CONTROLS:
        expect(page.locator(selector)).to_be_hidden()
    expect(page.locator("#box-list li")).to_have_count(2)

    # A drag on the empty picture pans instead of drawing; a drag on a box selects it and moves nothing.
    scale_before = page.locator("#stage canvas").get_attribute("data-offset-x")
    drag(page, (120, 150), (180, 200))
    expect(page.locator("#stage canvas")).not_to_have_attribute("data-offset-x", scale_before or "")
    page.get_by_role("button", name="Fit").click()
    x, y = to_client(page, 40, 30)
    page.mouse.click(x, y)
    expect(page.locator("#box-list li.selected")).to_have_count(1)
    drag(page, (40, 30), (100, 90))
    drag(page, (80, 60), (110, 80))  # where a resize handle would be on an editable box
    page.get_by_role("button", name="Fit").click()
    browser.screenshot("viewer-workspace")
    for key in ["Delete", "Enter", "Shift+Enter", "Control+z", "b", "1", "q", "t", "Control+v"]:
        page.keyboard.press(key)
    # Said once, not once per key.
    expect(page.locator("#toasts").get_by_text("View only: your role cannot change boxes.")).to_have_count(1)

    # Navigation, playback and the object list views stay.
    page.keyboard.press("ArrowRight")
    wait_frame(page, 1)
    page.get_by_role("button", name="Previous frame").click()
    wait_frame(page, 0)
    play = page.locator("#play")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")

    assert _state(video) == before
    assert not CorrectionEvent.objects.exists()
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    assert browser.console_errors == []  # no request was refused: none was tried


def test_an_annotator_labels_and_imports_but_is_refused_the_managers_part(browser, import_root, tmp_path):
    _, project, video = ready_clip(import_root)
    annotator = UserFactory()
    Membership.objects.create(project=project, user=annotator, role="annotator")
    browser.allowed_statuses = {403}
    page = browser.page
    browser.login(annotator.username)
    browser.goto(f"/projects/{project.id}/")
    page.locator('#clip-rows tr[data-status="ready"]').wait_for()
    expect(page.locator("#my-role")).to_have_text("annotator")
    for hidden in ["#upload-card", "#export-open", "#export-card", "#settings-link", "#member-form"]:
        expect(page.locator(hidden)).to_be_hidden()
    assert page.get_by_role("button", name="Delete clip <one>").count() == 0
    # Importing labels is theirs; adding classes to the project is not, so it is not offered.
    import_form = page.locator("#label-import-form")
    expect(import_form).to_be_visible()
    assert import_form.get_by_label("Add classes the project lacks").count() == 0

    labels = tmp_path / "new-class.json"
    labels.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "frame_000001.jpg"}],
                "categories": [{"id": 1, "name": "lorry"}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}],
            }
        )
    )
    # Hidden controls are not the protection: the API refuses the calls themselves.
    statuses = page.evaluate(
        """async ([projectId, videoId, text]) => {
            const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="))?.split("=")[1];
            const json = { "Content-Type": "application/json", "X-CSRFToken": csrf };
            const call = (url, method, body) =>
                fetch(url, { method, headers: json, body }).then((r) => r.status);
            const form = new FormData();
            form.append("file", new Blob([text]), "new-class.json");
            form.append("format", "coco");
            form.append("create_classes", "true");
            const imported = await fetch(`/api/videos/${videoId}/imports/`,
                { method: "POST", headers: { "X-CSRFToken": csrf }, body: form }).then((r) => r.status);
            return [
                await call(`/api/projects/${projectId}/exports/`, "POST", '{"format": "mot"}'),
                await call(`/api/projects/${projectId}/`, "PATCH", '{"auto_train": false}'),
                await call(`/api/projects/${projectId}/classes/`, "POST", '{"name": "lorry"}'),
                await call(`/api/videos/${videoId}/`, "DELETE"),
                imported,
            ];
        }""",
        [project.id, video.id, labels.read_text()],
    )
    assert statuses == [403, 403, 403, 403, 403]

    # The settings page, reached by its address, shows the settings read only.
    browser.goto(f"/projects/{project.id}/settings/")
    page.locator("body[data-settings-ready]").wait_for()
    expect(page.locator("#settings-error")).to_contain_text("only managers and owners change settings")
    expect(page.get_by_label("Project name")).to_be_disabled()
    expect(page.get_by_label("Train the clip's model automatically")).to_be_disabled()
    expect(page.get_by_role("button", name="Save settings")).to_be_hidden()
    expect(page.get_by_label("Name of class car")).to_be_disabled()
    assert page.get_by_role("button", name="Delete class car").count() == 0
    expect(page.locator("#class-form")).to_be_hidden()
    expect(page.locator("#member-form")).to_be_hidden()

    # Labeling is theirs: the workspace is not read only.
    browser.goto(f"/videos/{video.id}/")
    wait_frame(page, 0)
    expect(page.locator("#view-only")).to_be_hidden()
    expect(page.locator("#accept-all")).to_be_visible()
    drag(page, (30, 30), (90, 80))
    page.locator('#save-state[data-state="saved"]').wait_for()
    page.locator("#box-list li").first.wait_for()
    project.refresh_from_db()
    assert project.auto_train is True and video.frames.get(index=0).boxes.count() == 1
    assert not project.classes.filter(name="lorry").exists()
    assert browser.console_errors == []
