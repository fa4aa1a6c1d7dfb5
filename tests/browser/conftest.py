"""Browser fixtures: Debian's Chromium driven by Playwright, against the real alertsvc of tests/web.

The service fixtures (``clock``, ``running``, ``patient``) are tests/web's own, imported here so both
suites run the same uvicorn-in-a-thread with an injected clock. Chromium is the system one
(/usr/bin/chromium, installed by ``make test``); when it is missing the tests fail, saying how to
install it, rather than skip. Pages are always loaded from http://127.0.0.1 (a secure context, which
WebCrypto's Ed25519 needs).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.web.conftest import FakeClock, RunningService, clock, patient, running

__all__ = ["clock", "patient", "running"]  # the service fixtures, shared with tests/web

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Pictures go to a scratch folder, so a test run never changes tracked files; `make screenshots` sets
# ALERTSVC_SCREENSHOTS=docs/screenshots to refresh the README's pictures from the same tests.
_SHOTS = os.environ.get("ALERTSVC_SCREENSHOTS")
SCREENSHOTS = REPO / _SHOTS if _SHOTS else Path(tempfile.gettempdir()) / "alertsvc-screenshots"
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The system Chromium: the tests fail (never skip) when it is missing, saying how to install it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium. Run `make test` (it installs "
            "it) or `apt-get update && apt-get install -y chromium`. Never `playwright install`.",
            pytrace=False,
        )
    return CHROMIUM


@contextlib.contextmanager
def launch(chromium: Path) -> Iterator[Browser]:
    """Playwright and the system Chromium, headless, closed on leaving."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser(chromium: Path, running: RunningService) -> Iterator[Browser]:
    """The system Chromium, headless, for one test.

    Playwright's sync API keeps an event loop running on this thread while it is open, and the service
    fixture's teardown needs this thread's loop free: so the browser lives inside the service's lifetime
    (it depends on ``running`` and is closed first). Starting both costs about a second.
    """
    with launch(chromium) as launched:
        yield launched


@dataclass
class WardPage:
    """One browser tab on the ward dashboard of a running service, with the browser's clock kept at the
    service's (so "printed at", "overdue" and token expiry read the same time the service does)."""

    page: Page
    context: BrowserContext
    base_url: str
    errors: list[str] = field(default_factory=list)

    def set_time(self, now: datetime) -> None:
        self.context.clock.set_fixed_time(now)

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)

    def sign_in(self, token: str, *, live: bool = True) -> None:
        """Paste a staff token into the sign-in form; wait until the dashboard follows the live stream
        (unless ``live`` is false: a test holding the stream back)."""
        self.open("/")
        expect(self.page.locator("#signin")).to_be_visible()
        self.page.locator("#token").fill(token)
        self.page.locator("#signin-form button[type=submit]").click()
        expect(self.page.locator("#app")).to_be_visible()
        if live:
            expect(self.page.locator("#connection")).to_have_attribute("data-state", "live")

    def alert(self, alert_id: str) -> Locator:
        """An alert on the board (in its bed's row, or with the untrusted ones)."""
        return self.page.locator(f'#app li.alert[data-alert-id="{alert_id}"]')

    def dose(self, dose_id: str) -> Locator:
        return self.page.locator(f'#board li.dose[data-dose-id="{dose_id}"]')

    def mark_document(self) -> None:
        """Tag the current document, to prove later that the page was not reloaded."""
        self.page.evaluate("window.__sameDocument = true")

    def same_document(self) -> bool:
        return bool(self.page.evaluate("window.__sameDocument === true"))

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
        return path


ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
INTERNAL_ID = re.compile(
    r"\b(dose-[0-9a-f]{6,}|alert-[0-9a-f]{6,}|adm-[0-9a-f]{6,}|ack-[0-9a-f]{6,}|in:\d+|class:[a-z-]+:"
    r"|kb-\d{4}-|Rule [a-z]+-[a-z])"
)


def assert_plain_words(page: Page) -> None:
    """What the nurse can see holds no ISO timestamp and no internal id (alert, dose, graph node, rule)."""
    text = page.locator("body").inner_text()
    for pattern in (ISO_TIMESTAMP, INTERNAL_ID):
        found = pattern.search(text)
        assert not found, (
            f"{found.group(0)!r} on screen: …{text[max(0, found.start() - 60) : found.end() + 60]}…"
        )


OpenTab = Callable[..., WardPage]
"""``open_tab(base_url=None)``: a new tab on the service (or on ``base_url``, e.g. a proxy in front)."""


@pytest.fixture
def open_tab(browser: Browser, running: RunningService, clock: FakeClock) -> Iterator[OpenTab]:
    """A factory of fresh tabs (each its own context: its own sessionStorage, like another computer).

    Every tab records uncaught page errors and console errors; the test fails if any occurred.
    """
    contexts: list[BrowserContext] = []
    tabs: list[WardPage] = []

    def make(base_url: str | None = None) -> WardPage:
        context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London")
        contexts.append(context)
        page = context.new_page()
        tab = WardPage(page, context, base_url or running.url)
        tab.set_time(clock.now)
        page.on("pageerror", lambda error: tab.errors.append(f"page error: {error}"))
        page.on("console", lambda message: _console_error(tab, message))
        tabs.append(tab)
        return tab

    yield make
    for context in contexts:
        with contextlib.suppress(Error):  # already closed by the test
            context.close()
    errors = [error for tab in tabs for error in tab.errors]
    assert not errors, f"the dashboard reported errors: {errors}"


def _console_error(tab: WardPage, message: ConsoleMessage) -> None:
    # The pages declare no icon, so Chromium's own request for /favicon.ico is a 404: not the page's error.
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        tab.errors.append(f"console error: {message.text} ({message.location.get('url', '')})")
