"""Search the ledger in a real browser: 経理 narrows the ledger by 取引先, 取引年月日 and 取引金額 (和暦 and Western
dates), reads the reversal and the adjustment with their reasons and the totals row, and downloads the CSV."""

import pytest
from django.urls import reverse

from contracts.choices import LedgerKind
from contracts.models import LedgerEntry
from core.cells import BOM
from tests.browser.test_application_story import log_in
from tests.test_views_ledger_search import build_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def book(regulation, fixed_clock, clerk, approver, accounting):
    """Two subscribers billed from 2026-02-10, February and March closed, a quantity corrected into February."""
    return build_book(fixed_clock, clerk=clerk, approver=approver, accounting=accounting)


def test_search_the_ledger_by_counterparty_dates_and_amounts_and_download_it(
    live_server,
    page,
    shot,
    book,
    accounting,
):
    log_in(page, live_server, accounting)
    page.goto(live_server.url + reverse("contracts:ledger_list"))
    total = LedgerEntry.objects.count()
    assert page.locator(".table-count").inner_text() == f"該当 {total}件"
    shot(page, "ledger_01_all_rows")

    page.fill("#id_subscriber", "さくら")
    page.fill("#id_date_from", "令和8年3月1日")
    page.fill("#id_date_to", "2026-03-31")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/ledger/?*")
    rows = page.locator("table.table tbody tr")
    march = LedgerEntry.objects.filter(option_contract__subscriber__code="L0002", booked_month__month=3)
    assert rows.count() == march.count() == 3  # the reversal, the closed month's charge and the adjustment
    reversal = book["reversal"]
    row = page.locator("tr.reversal")
    assert "取消" in row.locator(".badge.reversal").inner_text()
    assert f"#{book['monthly'].pk} の取消" in row.inner_text()
    assert "理由:" in row.inner_text()
    footer = page.locator("table.table tfoot").inner_text()
    assert "合計 3件" in footer
    assert f"{sum(march.values_list('amount_yen', flat=True)):,}円" in footer
    shot(page, "ledger_02_counterparty_and_dates")

    page.fill("#id_amount_max", "-1")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector(".table-count:has-text('該当 2件')")
    kinds = page.locator("table.table tbody").inner_text()
    assert "調整（締め済み月の訂正）" in kinds and "取消" in kinds
    assert LedgerEntry.objects.filter(kind=LedgerKind.ADJUSTMENT, amount_yen__lt=0).exists()
    shot(page, "ledger_03_credits_only")

    with page.expect_download() as info:
        page.click("a.table-export")
    download = info.value
    assert download.suggested_filename == "支払義務台帳_20260402.csv"
    content = open(download.path(), "rb").read()
    assert content.startswith(BOM)
    lines = content[len(BOM) :].decode().splitlines()
    assert len(lines) == 1 + 2 and lines[0].startswith("番号,種別,契約者コード,契約者名")
    assert any(line.startswith(f"{reversal.pk},取消（") for line in lines)

    page.fill("#id_amount_min", "abc")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("form.filters .errorlist")
    assert "整数" in page.locator("form.filters").inner_text()
    shot(page, "ledger_04_bad_amount_refused_by_its_field")

    page.goto(live_server.url + reverse("contracts:ledger_list") + "?reversal=only")
    page.click(f"tr.reversal a:has-text('#{book['monthly'].pk}')")
    page.wait_for_url(f"**/ledger/{book['monthly'].pk}/")
    shot(page, "ledger_05_the_reversed_row")
