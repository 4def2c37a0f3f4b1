"""経理 in a real browser: the close preview (仮締め) with its differences and drill-down, a close refused because
the book changed after the preview (its differences shown), then the close confirmed on a fresh preview."""

import datetime as dt

import pytest
from django.urls import reverse

from contracts.models import MonthClose
from contracts.services import option_contract_set_billing_start
from contracts.services.month_close import month_close
from tests.browser.test_application_story import log_in
from tests.factories import contract_approved, contract_billed_from, entry_clerk, jst
from tests.tasks import run_queued_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.clock("2026-03-02T10:00+09:00")
def test_accounting_previews_sees_the_differences_is_refused_on_a_stale_preview_then_closes(
    live_server, page, shot, regulation, approver, accounting
):
    for n, (start, quantity) in enumerate(((dt.date(2026, 2, 15), 10), (dt.date(2026, 2, 1), 30))):
        contract_billed_from(start, code=f"B{n:06d}", name=f"株式会社ブラウザ{n}", quantity=quantity, approver=approver)
    late = contract_approved(
        code="B000009", name="株式会社あとから", quantity=10, approved_at=jst(2026, 2, 1, 9, 0), approver=approver
    )
    month_close(month=dt.date(2026, 1, 1), actor=accounting)  # January: the previous closed month (nothing billed)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server, accounting)

    page.click("nav a:has-text('仮締め')")
    page.fill("#id_month", "令和8年2月")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("#preview-summary")
    assert page.locator("#preview-row-count").inner_text() == "2"
    assert "10,500円" in page.locator("#preview-summary").inner_text()  # 1,500 + 9,000円 before tax
    shot(page, "close_preview_01_totals_and_differences")

    page.click("#preview-diff tfoot a")  # 新規: both contracts, January charged nothing
    page.wait_for_selector("#preview-rows h2:has-text('新規')")
    assert page.locator("#preview-rows tbody tr").count() == 2
    shot(page, "close_preview_02_drill_down_new")

    page.goto(live_server.url + reverse("contracts:close_preview") + "?month=2026-02")
    # The book changes after the preview was read: the 課金開始日 2/1 of the contract approved on 2/1 is entered.
    option_contract_set_billing_start(option_contract=late, billing_start_date=dt.date(2026, 2, 1), actor=entry_clerk())
    page.click("#preview-close button[type=submit]")
    page.wait_for_selector("#close-job")
    run_queued_tasks()
    page.reload()
    message = page.locator("#close-job-message").inner_text()
    assert "仮締めの確認後に台帳・契約が変わったため" in message
    assert "仮締め 2件 10,500円 → 現在 3件 13,500円" in message
    assert not MonthClose.objects.filter(month=dt.date(2026, 2, 1)).exists()
    shot(page, "close_preview_03_refused_with_the_differences")

    page.click("a:has-text('仮締めをもう一度確認する')")
    page.wait_for_selector("#preview-summary")
    assert page.locator("#preview-row-count").inner_text() == "3"
    fingerprint = page.locator("#preview-fingerprint").inner_text()
    page.click("#preview-close button[type=submit]")
    page.wait_for_selector("#close-job")
    run_queued_tasks()
    page.reload()
    closed = page.locator("#close-job-message").inner_text()
    assert "令和8年2月 (2026-02)を締めました（月額料金 3行・調整 0行を記帳）" in closed
    assert MonthClose.objects.get(month=dt.date(2026, 2, 1)).fingerprint == fingerprint
    shot(page, "close_preview_04_closed")
