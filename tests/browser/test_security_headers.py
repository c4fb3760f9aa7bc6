"""Every page still loads under the Content-Security-Policy: no refused script, style or image."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotate.services.videos import video_create_from_path, video_ingest
from fixtures.make_clips import make_clip
from tests.browser.helpers import wait_frame
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.csp,
    pytest.mark.django_db(transaction=True),
]


def test_every_page_loads_under_the_content_security_policy(browser, import_root, settings):
    user = UserFactory(is_staff=True, is_superuser=True)
    project = ProjectFactory()
    MembershipFactory(project=project, user=user, role="manager")
    clip = make_clip(import_root / "clip", frames=8, width=128, height=96, objects=1, seed=4)
    video = video_create_from_path(project=project, path=clip.video_path)
    video_ingest(video_id=video.id)
    page = browser.page
    csp_reports: list[str] = []
    page.on("console", lambda m: csp_reports.append(m.text) if "Content Security Policy" in m.text else None)

    browser.login(user.username)
    response = page.goto(f"{browser.base_url}/")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    for path in (
        f"/projects/{project.id}/",
        f"/projects/{project.id}/dashboard/",
        f"/videos/{video.id}/dashboard/",
        "/api/docs/",
        "/admin/",
        "/admin/annotate/video/",
    ):
        page.goto(f"{browser.base_url}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{browser.base_url}/videos/{video.id}/")
    wait_frame(page, 0)
    expect(page.locator("canvas").first).to_be_visible()

    assert csp_reports == []
    # The admin and the API reference name no icon, so the browser asks for /favicon.ico: not a page error.
    assert [e for e in browser.console_errors if "/favicon.ico" not in e] == []
