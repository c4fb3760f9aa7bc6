"""The clip page reuses another clip's model: a new clip starts from it, and a manager downloads it."""

from __future__ import annotations

from django.db import transaction
from playwright.sync_api import expect

from annotate.models import Generation, JobStatus
from annotate.services.generations import generation_execute, generation_start
from annotate.services.videos import video_create_from_path, video_ingest
from fixtures.make_clips import make_clip
from tests.annotate.loop.conftest import label_from_truth
from tests.browser.helpers import ready_clip


def test_a_new_clip_starts_from_the_first_clips_model_and_its_model_downloads(browser, import_root, settings):
    settings.ANNOTATE_TRAIN_TIME_BUDGET = 6
    settings.ANNOTATE_TRAIN_DEVICE = "cpu"
    user, project, first = ready_clip(import_root, frames=12, classes=["square", "disc"])
    truth = make_clip(import_root / "clip", frames=12, width=320, height=240, objects=2, seed=1, video=False)
    label_from_truth(first, truth, [0, 5, 11])
    with transaction.atomic():
        trained, _ = generation_start(video=first)
    generation_execute(generation_id=trained.id)  # what the worker runs
    trained.refresh_from_db()
    assert trained.status == JobStatus.SUCCEEDED, trained.error
    again = make_clip(
        import_root / "again", frames=12, width=320, height=240, seed=1, motion_seed=2, video=False
    )
    second = video_create_from_path(project=project, path=again.frames_dir, name="clip two")
    video_ingest(video_id=second.id)

    page = browser.page
    browser.login(user.username)
    browser.goto(f"/videos/{second.id}/")
    select = page.get_by_label("Another clip's model")
    expect(select.locator("option")).to_have_text(["clip <one> · generation 1"])
    page.get_by_role("button", name="Pre-label with it").click()
    page.get_by_text("Generation 0 queued", exact=False).wait_for()
    start = Generation.objects.get(video=second)
    assert start.number == 0 and start.transferred_from_id == trained.id
    generation_execute(generation_id=start.id)
    expect(page.locator("#train-status")).to_contain_text(
        "pre-labeled by the model of clip <one> (generation 1)"
    )
    expect(page.locator("#start-from")).to_be_hidden()

    browser.goto(f"/videos/{first.id}/")
    links = page.locator("#train-model-files")
    expect(links).to_contain_text("Generation 1 model")
    with page.expect_download() as download:
        links.get_by_role("link", name="ONNX", exact=True).click()
    assert download.value.suggested_filename.endswith("-generation1.onnx")
    assert browser.console_errors == []
