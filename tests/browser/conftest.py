"""Playwright driving Debian's Chromium (headless, --no-sandbox) against a live server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from webapp import live_server, make_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run .ci/run, which installs Debian's chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def base_url(web_index):
    with live_server(make_app(web_index)) as url:
        yield url


# htmx reports a request it aborted on purpose (hx-sync replaced it with a newer one) as errors.
EXPECTED_ABORT = ("htmx:sendAbort", "htmx:afterRequest")


def _is_error(message) -> bool:
    return message.type == "error" and not message.text.startswith(EXPECTED_ABORT)


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if _is_error(message) else None)
    yield page
    context.close()
    assert not errors, f"the page logged errors: {errors}"


@pytest.fixture()
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
