"""Playwright (sync API) driving Debian's chromium against pytest-django's live_server.

Skips, saying why, when chromium or the playwright package is missing. Screenshots go to
test-artifacts/ (gitignored)."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses database calls from
# a thread with a running loop unless told the code is in fact synchronous (it is).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TABLET = {"width": 1180, "height": 820}  # a 10–11 inch tablet held landscape


def _skip(reason):
    print(f"\nSkipping browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip("the playwright package is not installed (pip install -r requirements-dev.txt)")
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        _skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, transactional_db):
    context = browser.new_context(viewport=TABLET, locale="en-US", timezone_id="America/New_York")
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """Save the page as test-artifacts/<name>.png and return the path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name, **kwargs):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), **kwargs)
        return path

    return take
