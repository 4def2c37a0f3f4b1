"""The day of two staff members in a real browser: the clerk submits, the approver approves, the ledger shows it.

Also: the clerk cannot approve their own application (no button; a forged POST is refused).
"""

import pytest
from django.urls import reverse

from contracts.choices import ApplicationStatus, LedgerKind
from contracts.models import Application, LedgerEntry, OptionContract
from core import clock
from core.wareki import to_wareki
from options.models import TariffRevision
from tests import ui_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-1234"


def log_in(page, live_server, user):
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("home"))


def log_out(page):
    page.click("header button:has-text('ログアウト')")
    page.wait_for_selector("h1:has-text('ログイン')")


def test_clerk_submits_approver_approves_and_the_monthly_row_is_9000_yen(
    live_server, page, shot, regulation, clerk, approver
):
    subscriber = ui_data.swp_subscriber(name="株式会社ブラウザ試験", kana="カブシキガイシャブラウザシケン")

    # 受付担当: 新規利用申込, 確認 then 申込.
    page.goto(live_server.url + reverse("login"))
    shot(page, "01_login")
    log_in(page, live_server, clerk)
    shot(page, "02_home_clerk")
    page.click("text=新規利用申込を入力")
    page.fill("#id_subscriber_code", subscriber.code)
    _, variant = ui_data.swp()
    page.select_option("#id_variant", value=str(variant.pk))
    page.fill("#id_quantity", "30")
    page.click("button:has-text('確認')")
    page.wait_for_selector("text=利用の条件を満たしています")
    assert page.locator("tbody td:has-text('9,000円')").count() == 1  # the row; the totals repeat it below
    shot(page, "03_application_confirm")
    page.click("button:has-text('申込')")
    page.wait_for_selector("text=を受け付けました")
    application = Application.objects.get(subscriber=subscriber)
    assert application.entered_by == clerk
    shot(page, "04_application_received_clerk")

    # The clerk sees no decision button, and a forged POST is refused.
    assert page.locator("button:has-text('承諾する')").count() == 0
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    approve_url = live_server.url + reverse("contracts:application_approve", args=[application.pk])
    forged = page.request.post(approve_url, headers={"X-CSRFToken": token, "Referer": live_server.url + "/"})
    assert forged.status == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RECEIVED
    log_out(page)

    # 承認者: from the home queue, start the review and approve (a double click approves once).
    log_in(page, live_server, approver)
    shot(page, "05_home_approver")
    page.click(f"a:has-text('#{application.pk} 新規利用申込')")
    page.click("button:has-text('審査を開始する')")
    page.wait_for_selector("text=審査を開始しました。")
    shot(page, "06_application_under_review_approver")
    page.dblclick("#approve-form button[type=submit]")
    page.wait_for_selector("text=承諾しました。")
    shot(page, "07_application_approved")
    application.refresh_from_db()
    assert (application.status, application.decided_by) == (ApplicationStatus.APPROVED, approver)
    contract = OptionContract.objects.get(origin_application=application)
    assert Application.history.filter(id=application.pk, status=ApplicationStatus.APPROVED).count() == 1
    log_out(page)

    # 受付担当: the 課金開始日 in 和暦 writes the 月額費用 row of 9,000円 (30 accounts = 3 × 3,000円).
    log_in(page, live_server, clerk)
    page.goto(live_server.url + reverse("contracts:optioncontract_detail", args=[contract.pk]))
    shot(page, "08_option_contract_awaiting_billing_start")
    page.fill("#id_billing_start_date", to_wareki(clock.today()))
    page.click("button:has-text('課金開始日を登録')")
    page.wait_for_selector("text=月額費用の支払義務を記帳しました")
    shot(page, "09_option_contract_billing")
    row = LedgerEntry.objects.get(option_contract=contract)
    assert (row.kind, row.amount_yen, row.quantity) == (LedgerKind.MONTHLY, 9000, 30)

    page.goto(live_server.url + reverse("contracts:ledger_list") + f"?subscriber={subscriber.code}")
    ledger_row = page.locator("table.table tbody tr").first
    assert "月額費用（課金開始）" in ledger_row.inner_text()
    assert "9,000円" in ledger_row.inner_text()
    shot(page, "10_ledger")


def test_main_screens_render_for_the_screenshots(live_server, page, shot, regulation, clerk, approver, accounting):
    contract = ui_data.billing_contract(clerk=clerk, approver=approver)
    subscriber = contract.subscriber
    log_in(page, live_server, accounting)
    older = TariffRevision.objects.get(effective_on="2025-04-01")
    newer = TariffRevision.objects.get(effective_on="2026-02-01")
    screens = {
        "11_subscriber_list": reverse("contracts:subscriber_list"),
        "12_subscriber_detail": reverse("contracts:subscriber_detail", args=[subscriber.pk]),
        "13_application_list": reverse("contracts:application_list"),
        "14_tariff_revisions": reverse("options:revision_list"),
        "15_tariff_as_of": reverse("options:tariff_as_of") + "?on=令和8年2月1日",
        "16_tariff_diff": reverse("options:revision_diff") + f"?older={older.pk}&newer={newer.pk}",
        "17_option_detail": reverse("options:option_detail", args=[contract.option_id]),
        "18_history_option_contract": reverse("contracts:history_optioncontract", args=[contract.pk])
        + f"?on={clock.today().isoformat()}",
        "19_monthly_report_provisional": reverse("contracts:monthly_report"),
        "20_ledger_entry_accounting": reverse("contracts:ledgerentry_detail", args=[contract.ledger_entries.get().pk]),
    }
    for name, path in screens.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert page.locator("h1").count() == 1, path
        shot(page, name)
    # 経理 reads everything and is offered no write: no reversal form on the ledger row.
    assert page.locator("text=取消行を記帳する").count() == 0
