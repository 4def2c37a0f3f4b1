"""With the Content-Security-Policy header (CONTENT_SECURITY_POLICY in config/settings/base.py), in headless Chromium:
the staff screens' scripts (static/js/app.js: data-confirm, data-once) and the admin's (jQuery, the calendar, the
autocomplete) still run, and the browser reports no violation at all, neither as a securitypolicyviolation event nor
on the console."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from security.lockouts import current_lockouts
from security.models import AuthEvent, AuthEventKind
from tests.factories import SubscriberFactory

PASSWORD = "pass-1234"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def axes_on(settings):
    """Login throttling as in production (the test settings turn it off for the test client's login())."""
    settings.AXES_ENABLED = True


@pytest.fixture
def violations(page):
    """Every CSP violation of every document the page opens (the listener is installed before any script runs)."""
    found = []

    def report(text):
        found.append(text)

    page.expose_function("reportCspViolation", report)
    page.add_init_script(REPORT)
    page.on(
        "console",
        lambda msg: found.append(f"console: {msg.text}") if "Content Security Policy" in msg.text else None,
    )
    return found


def visit(page, live_server, path):
    response = page.goto(live_server.url + path)
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
    return response


def log_in(page, live_server, username, password=PASSWORD, path=None):
    visit(page, live_server, path or reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[type=submit]")


def test_staff_screens_scripts_work_under_the_policy(live_server, page, violations, axes_on, sysadmin, approver):
    # 承認者 mistypes five times: the Japanese lockout page.
    for _ in range(5):
        log_in(page, live_server, "approver", "wrong-password")
    page.wait_for_selector("h1:has-text('ログインを一時停止しています')")

    # システム管理者: the menu, the lockout list, and 解除 behind data-confirm.
    log_in(page, live_server, "sysadmin")
    page.wait_for_url(live_server.url + reverse("home"))
    page.click("nav >> text=ログインロック")
    row = page.locator("#lockouts tbody tr", has_text="approver")
    assert "5回" in row.inner_text()

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    row.locator("button:has-text('解除')").click()
    page.wait_for_timeout(300)
    assert dialogs == ["ユーザー名 approver のロックを解除しますか？"]  # app.js ran: the browser asked first
    assert [lock.value for lock in current_lockouts()] == ["approver"]  # and, dismissed, nothing was sent

    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('解除')").click()
    page.wait_for_selector("text=approver のロックを解除しました")
    assert posts == [live_server.url + reverse("security:lockout_release")]
    assert current_lockouts() == []

    page.click("nav >> text=認証ログ")
    assert page.locator("table.table tbody tr", has_text="ロック解除").count() == 1
    page.click("header button:has-text('ログアウト')")
    page.wait_for_selector("h1:has-text('ログイン')")

    # Released: 承認者 logs in with the right password.
    log_in(page, live_server, "approver")
    page.wait_for_url(live_server.url + reverse("home"))
    assert AuthEvent.objects.filter(kind=AuthEventKind.LOGIN, username="approver").count() == 1
    assert violations == []


def test_admin_scripts_work_under_the_policy(live_server, page, violations, axes_on):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    subscriber = SubscriberFactory(name="株式会社シーエスピー")
    log_in(page, live_server, "root", path=reverse("admin:login"))
    page.wait_for_url(live_server.url + reverse("admin:index"))

    # jQuery and the calendar of a date/time field (DateTimeShortcuts.js).
    visit(page, live_server, reverse("admin:auth_user_change", args=[root.pk]))
    assert page.evaluate("typeof window.django === 'object' && typeof window.django.jQuery") == "function"
    page.fill("#id_date_joined_0", "")
    page.locator("#id_date_joined_0 ~ .datetimeshortcuts a", has_text="今日").click()
    assert page.input_value("#id_date_joined_0") != ""
    page.click("#calendarlink0")
    assert page.locator("#calendarbox0").is_visible()

    # The autocomplete of a change form (select2, fetching from the admin by XHR).
    visit(page, live_server, reverse("admin:contracts_baseservicecontract_add"))
    page.click("#id_subscriber ~ .select2 .select2-selection")
    page.fill(".select2-search__field", subscriber.code)
    page.wait_for_selector(f".select2-results__option:has-text('{subscriber.name}')")

    # A history page (simple_history's list, overridden without its inline style) and a changelist with filters.
    visit(page, live_server, reverse("admin:contracts_subscriber_history", args=[subscriber.pk]))
    page.wait_for_selector("#change-history")
    visit(page, live_server, reverse("admin:security_authevent_changelist"))
    page.wait_for_selector("#changelist")
    assert violations == []
