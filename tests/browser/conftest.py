"""Browser tests: Debian's chromium driven by Playwright's sync API against pytest-django's live server.

Frames are decoded by the ingest service in the test process (the pages are what is under test
here; the worker has its own integration tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page

# Playwright's sync API keeps an event loop running in this thread; the database calls of these
# tests are plain synchronous ones, so Django's async guard is told to let them through.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# Where page.screenshot() files go (outside the repository when ANNOTATE_SCREENSHOTS says so).
SCREENSHOTS = Path(
    os.environ.get("ANNOTATE_SCREENSHOTS", Path(__file__).resolve().parents[2] / "artifacts" / "screenshots")
)
PASSWORD = "correct horse battery"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@dataclass
class Browser:
    page: Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(f"{self.base_url}/")

    def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(request, chromium, live_server) -> Iterator[Browser]:
    # Playwright's string predicates (wait_for_function) are evaluated with eval(), which the site's
    # Content-Security-Policy forbids; tests marked ``csp`` run under the real policy.
    enforce_csp = request.node.get_closest_marker("csp") is not None
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=not enforce_csp)
    page = context.new_page()
    page.set_default_timeout(10_000)
    session = Browser(page=page, base_url=live_server.url)

    def on_console(message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        # Every failed request counts, unless the test said it expects that status (a 409 it provoked).
        if "Failed to load resource" in message.text and any(
            f"status of {code}" in message.text for code in session.allowed_statuses
        ):
            return
        session.console_errors.append(f"{message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: session.console_errors.append(str(error)))
    yield session
    context.close()
