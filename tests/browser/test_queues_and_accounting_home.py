"""Two journeys in a real browser: an approver decides from the queue (「次の申込へ」), and 経理 checks a month on the
accounting home (its totals, the chart, the drill-down to the month's ledger rows and report)."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from contracts.choices import ApplicationStatus
from contracts.models import Application
from contracts.services import application_start_review
from contracts.services.month_close import month_close
from tests import factories
from tests.browser.test_application_story import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_approver_decides_from_the_queue_and_goes_on_to_the_next(
    live_server, page, shot, regulation, clerk, approver, fixed_clock
):
    now = fixed_clock.now()
    waiting = []
    for days in (3, 1):
        fixed_clock.set(now - dt.timedelta(days=days))
        application = factories.submit_swp(subscriber=factories.swp_subscriber(actor=clerk), actor=clerk)
        application_start_review(application=application, actor=approver)
        waiting.append(application)
    fixed_clock.set(now)
    oldest, newest = waiting

    log_in(page, live_server, approver)
    nav = page.locator("header nav a.queue-link:has-text('審査待ち')")
    expect(nav).to_have_text(re.compile(r"^\s*審査待ち\s*2\s*$"), use_inner_text=True)
    shot(page, "queues_01_home_approver")
    nav.click()
    page.wait_for_url(live_server.url + reverse("contracts:queue_review"))
    rows = page.locator("#queue-review tbody tr")
    assert rows.count() == 2
    assert f"#{oldest.pk}" in rows.nth(0).inner_text() and "3日" in rows.nth(0).inner_text()
    assert f"#{newest.pk}" in rows.nth(1).inner_text() and "1日" in rows.nth(1).inner_text()
    shot(page, "queues_02_review_queue_oldest_first")

    rows.nth(0).locator("a").click()
    page.wait_for_selector(f"h1:has-text('申込 #{oldest.pk}')")
    page.click("#approve-form button[type=submit]")
    page.wait_for_selector("text=承諾しました。")
    # Read as rendered, retried for a moment: the header's menu is a <details> that a wide screen shows open.
    expect(page.locator("header nav a.queue-link:has-text('審査待ち')")).to_have_text(
        re.compile(r"^\s*審査待ち\s*1\s*$"), use_inner_text=True
    )
    shot(page, "queues_03_approved_next_offered")

    page.click("#next-in-queue")
    page.wait_for_selector(f"h1:has-text('申込 #{newest.pk}')")
    page.fill("textarea[name=reason]", "必要書類が揃っていません")
    page.click("button:has-text('不承諾とする')")
    page.wait_for_selector("text=不承諾としました。")
    shot(page, "queues_04_rejected")
    page.click("#next-in-queue")
    page.wait_for_selector("text=審査待ちの申込はほかにありません。")
    assert page.locator("#queue-review tbody tr").inner_text().strip() == "待っている申込はありません。"
    shot(page, "queues_05_queue_empty")
    statuses = dict(Application.objects.values_list("pk", "status"))
    assert statuses == {oldest.pk: ApplicationStatus.APPROVED, newest.pk: ApplicationStatus.REJECTED}


def test_accounting_checks_a_month_on_its_home(
    live_server, page, shot, regulation, clerk, approver, accounting, fixed_clock
):
    fixed_clock.set("2026-02-10T10:00+09:00")
    contract = factories.billing_contract(clerk=clerk, approver=approver, quantity=30)
    fixed_clock.set("2026-03-05T10:00+09:00")
    month_close(month=dt.date(2026, 2, 1), actor=accounting)
    factories.billing_contract(clerk=clerk, approver=approver, quantity=10)
    fixed_clock.set("2026-04-02T10:00+09:00")
    month_close(month=dt.date(2026, 3, 1), actor=accounting)

    log_in(page, live_server, accounting)
    march = page.locator("#month-card-2026-03")
    assert "確定" in march.inner_text() and "12,773円" in march.inner_text() and "+5,505円" in march.inner_text()
    assert "速報" in page.locator("#month-card-2026-04").inner_text()
    assert page.locator("header nav a.queue-link").count() == 0  # 経理 works no queue
    assert page.locator("#monthly-chart rect.series-0").count() == 2
    months = page.locator("#accounting-months tbody tr")
    assert months.count() == 12
    shot(page, "accounting_01_home")

    page.locator(f"#monthly-chart a[href*='month=2026-03'][href*='option={contract.option_id}']").click()
    page.wait_for_url("**/ledger/?month=2026-03*")
    ledger = page.locator("table.table tbody").inner_text()
    assert "9,000円" in ledger and "2,612円" in ledger
    shot(page, "accounting_02_drill_down_ledger")

    page.goto(live_server.url + reverse("home"))
    page.locator("#accounting-breakdown a:has-text('月額料金（月次）')").click()
    page.wait_for_url("**/ledger/?month=2026-03*kind=monthly_charge")
    rows = page.locator("table.table tbody tr")
    assert rows.count() == 2  # the two charges that make March's 11,612円: 9,000円 and 2,612円
    assert sorted(rows.nth(i).locator("td").nth(6).inner_text() for i in range(2)) == ["2,612円", "9,000円"]
    shot(page, "accounting_03_drill_down_charges")

    page.goto(live_server.url + reverse("home"))
    page.locator("#accounting-months tr[data-month='2026-03'] a:has-text('月次レポート')").click()
    page.wait_for_selector("h1:has-text('月次レポート')")
    assert "確定" in page.locator("h1").inner_text()
    assert page.locator("tfoot tr:has-text('税込合計')").inner_text().split()[-1] == "12,773円"
    shot(page, "accounting_04_report_of_the_month")
