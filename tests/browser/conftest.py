"""Headless Chromium (Debian's package) driven by Playwright's sync API against pytest-django's live_server.

Where /usr/bin/chromium is missing the browser tests are skipped with the reason; with REQUIRE_BROWSER=1
(.ci/run) they fail instead, so CI cannot pass without them.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the tests themselves are still sync.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


def _unavailable() -> str:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} がありません（apt-get install chromium）"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright がインストールされていません（pip install -r requirements.txt）"
    return ""


def pytest_collection_modifyitems(config, items):
    """Skip at collection, before any database work, when the browser is missing (unless CI requires it)."""
    reason = _unavailable()
    if not reason or os.environ.get("REQUIRE_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason=f"ブラウザテストを省略: {reason}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _session_cookie_without_expiry(settings):
    """The server runs at the suite's fixed instant (tests/conftest.py), Chromium at the real one: a cookie whose
    Expires the server stamps 30 minutes after the fixed instant would already be past for the browser. Let the
    session cookie last the browser's life; the server still expires the session itself at the fixed clock."""
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    """The live server needs committed data, so these tests flush the database after each other; the role
    groups come from a data migration, so a flush removes them. Put them back before the staff are made."""
    from django.contrib.auth.models import Group, Permission

    from contracts.roles import sync_roles

    sync_roles(Group, Permission)


@pytest.fixture(scope="session")
def browser():
    reason = _unavailable()
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 ですがブラウザテストを実行できません: {reason}", pytrace=False)
        pytest.skip(f"ブラウザテストを省略: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="ja-JP", timezone_id="Asia/Tokyo")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def shot():
    """Save a full-page screenshot of the main screens to test-artifacts/screenshots/ (not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
