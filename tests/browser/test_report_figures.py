"""経理 in a real browser: the report page of an open month shows no figures until a worker has computed them, asks
for them, sees the refresh waiting, then the figures with when they were computed; after the book changes, the same
figures labelled as not current, refreshed again; a closed month shows the 集計 its close stored."""

import datetime as dt

import pytest
from django.urls import reverse

from contracts.services.month_close import month_close
from tests.browser.test_application_story import log_in
from tests.factories import contract_billed_from
from tests.tasks import run_queued_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.clock("2026-03-20T10:00+09:00")
def test_accounting_asks_for_the_provisional_figures_sees_them_then_sees_them_go_stale(
    live_server, page, shot, regulation, approver, accounting
):
    # February: 10 accounts (3,000円) from 2/1, closed. March: 30 accounts (9,000円) from 3/1, and 10 from 3/5.
    contract_billed_from(dt.date(2026, 2, 1), code="R000001", name="株式会社レポート1", quantity=10, approver=approver)
    month_close(month=dt.date(2026, 2, 1), actor=accounting)
    contract_billed_from(dt.date(2026, 3, 1), code="R000002", name="株式会社レポート2", quantity=30, approver=approver)
    log_in(page, live_server, accounting)

    page.goto(live_server.url + reverse("contracts:monthly_report") + "?month=令和8年3月")
    assert "令和8年3月 (2026-03)の速報はまだ集計されていません" in page.locator("#figures-state").inner_text()
    assert page.locator("#summary-totals").count() == 0  # no figure until one is computed
    assert page.locator("#charge-rows tbody tr").count() == 2  # the rows are a page of the stream, computed now
    shot(page, "report_figures_01_open_month_not_computed")

    page.click("#figures-refresh-button")
    page.wait_for_selector("#figures-refresh")
    assert "待機中" in page.locator("#figures-refresh").inner_text()
    shot(page, "report_figures_02_refresh_waiting")

    run_queued_tasks()
    page.wait_for_selector("#summary-totals", timeout=10_000)  # the page reloads itself while the refresh runs
    state = page.locator("#figures-state").inner_text()
    assert "令和8年3月 (2026-03)の速報は 令和8年3月20日 (2026-03-20) 10:00 時点の集計です" in state
    assert "その後に台帳・契約は変わっていません" in state
    totals = page.locator("#summary-totals").inner_text()
    assert "12,000円" in totals and "13,200円" in totals  # 3,000 + 9,000円; with 10% tax
    shot(page, "report_figures_03_computed")

    contract_billed_from(dt.date(2026, 3, 5), code="R000003", name="株式会社レポート3", quantity=10, approver=approver)
    page.reload()
    stale = page.locator("#figures-state").inner_text()
    assert "時点の集計です。その後に台帳が変わりました" in stale
    assert "12,000円" in page.locator("#summary-totals").inner_text()  # the figures read then, labelled
    shot(page, "report_figures_04_stale_labelled")

    page.click("#figures-refresh-button")
    page.wait_for_selector("#figures-refresh")
    run_queued_tasks()
    page.wait_for_selector("#figures-state.result-ok", timeout=10_000)
    # 3,000 × 31/31 + 9,000 + 3,000 × 27/31 (from 3/5) = 2,612円 → 14,612円, tax 1,461円.
    assert "14,612円" in page.locator("#summary-totals").inner_text()
    shot(page, "report_figures_05_refreshed")

    page.goto(live_server.url + reverse("contracts:monthly_report") + "?month=令和8年2月")
    assert "締めで記録した集計です" in page.locator("#report-figures").inner_text()
    assert "3,300円" in page.locator("#summary-totals").inner_text()
    shot(page, "report_figures_06_closed_month")

    # 台帳の検証 from the closed month's report: its rows hashed again match the seal its close made.
    page.click("#ledger-verify-link")
    page.wait_for_selector("#verify-result")
    assert "令和8年2月 (2026-02): 一致" in page.locator("#verify-result").inner_text()
    assert page.locator("#seals tbody tr").count() == 1
    shot(page, "report_figures_07_ledger_verified")
