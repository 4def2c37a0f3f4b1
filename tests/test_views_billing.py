"""Screens of the billing rules (DOMAIN §3.12, §3.16–§3.18): the state as of today, the 速報 that names what it
cannot price, and the correction entered from the contract page. The clock is fixed."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from contracts.choices import ApplicationKind, CorrectionTarget
from contracts.models import Application, MonthClose
from contracts.services import option_contract_set_billing_start
from core.clock import JST
from tests import ui_data
from tests.factories import close_from_preview, option, register_migrated_confirmed, variant
from tests.tasks import refresh_report_figures, run_queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(dt.datetime(2026, 12, 2, 10, 0, tzinfo=JST), tick=False):
        yield


def test_a_future_billing_start_shows_waiting_with_its_date_not_billing(regulation, client, clerk, approver):
    application = ui_data.approve(
        ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk), approver=approver
    )
    application.refresh_from_db()
    contract = application.option_contract
    option_contract_set_billing_start(option_contract=contract, billing_start_date=dt.date(2026, 12, 10), actor=clerk)
    client.force_login(clerk)

    page = client.get(reverse("contracts:optioncontract_detail", args=[contract.pk])).content.decode()
    waiting = "課金開始待ち（令和8年12月10日 (2026-12-10)から）"
    assert f'<span class="badge waiting" id="contract-state">{waiting}</span>' in page
    listed = client.get(reverse("contracts:optioncontract_list")).content.decode()
    assert "課金開始待ち（令和8年12月10日 (2026-12-10)から）" in listed and "課金中</span>" not in listed
    waiting = client.get(reverse("contracts:optioncontract_list"), {"state": "billing"}).content.decode()
    assert f"#{contract.pk}" not in waiting


def test_the_provisional_report_lists_the_contracts_it_cannot_price_and_refuses_the_close(
    regulation, client, clerk, clerk2, approver, accounting
):
    # A quoted タイプA contract registered without its quote: its charge cannot be computed (§3.5, §3.12).
    subscriber = ui_data.swp_subscriber()
    from contracts.services import carrier_line_confirm, carrier_line_create
    from options.models import CarrierService

    line = carrier_line_create(
        subscriber=subscriber,
        carrier_service=CarrierService.objects.get(code="flets-next-prio1"),
        line_id="CAF-1",
        start_date=dt.date(2025, 1, 1),
        actor=clerk,
    )
    carrier_line_confirm(carrier_line=line, actor=clerk2)
    unquoted = register_migrated_confirmed(
        subscriber=subscriber,
        option=option("flets-hikari"),
        variant=variant("flets-hikari", "type-a"),
        contracted_on=dt.date(2026, 4, 1),
        billing_start_date=dt.date(2026, 4, 1),
        carrier_line=line,
        actor=clerk,
    )
    priced = ui_data.billing_contract(clerk=clerk, approver=approver)  # billing today: 9,000円 a month
    client.force_login(accounting)

    refresh_report_figures(month=dt.date(2026, 12, 1), actor=accounting)  # 経理's 「速報を集計する」, by a worker
    response = client.get(reverse("contracts:monthly_report"), {"month": "2026-12"})
    html = response.content.decode()
    assert response.context["summary"].total_excl_yen == 9000 * 30 // 31  # what can be priced is shown
    assert "月額料金を計算できない契約が1件あります。" in html
    assert reverse("contracts:optioncontract_detail", args=[unquoted.pk]) in html
    assert f"オプション契約 #{unquoted.pk}" in html and "見積額を入力してから" in html
    assert priced.pk != unquoted.pk

    response = close_from_preview(client, dt.date(2026, 11, 1))
    assert any("締めを依頼しました" in str(m) for m in response.context["messages"])
    run_queued_tasks()  # the worker finds the contract it cannot price and ends the job with the reason
    page = client.get(response.request["PATH_INFO"]).content.decode()
    assert "失敗" in page and "令和8年11月 (2026-11)は、月額料金を計算できない契約が1件あるため締められません。" in page
    assert not MonthClose.objects.exists()


def test_a_correction_is_entered_from_the_contract_page_and_waits_for_another_approver(
    regulation, client, clerk, approver
):
    contract = ui_data.billing_contract(clerk=clerk, approver=approver)
    client.force_login(clerk)
    url = reverse("contracts:optioncontract_correction", args=[contract.pk])
    response = client.post(url, {"correction_target": CorrectionTarget.BILLING_START, "corrected_date": "R8.12.1"})
    assert response.status_code == 200 and response.context["correction_form"].errors["correction_reason"]

    response = client.post(
        url,
        {
            "correction_target": CorrectionTarget.BILLING_START,
            "corrected_date": "令和8年12月2日",
            "correction_reason": "申込書の読み違い",
        },
    )
    assert response.status_code == 200  # the same date: refused by the service, shown on the form
    assert "訂正後の課金開始日が現在の課金開始日" in response.content.decode()
    assert not Application.objects.filter(kind=ApplicationKind.CORRECTION).exists()

    response = client.post(
        url,
        {
            "correction_target": CorrectionTarget.TERMS,
            "corrected_date": "2026-12-02",
            "quantity": "20",
            "correction_reason": "申込書は20アカウント",
        },
        follow=True,
    )
    correction = Application.objects.get(kind=ApplicationKind.CORRECTION)
    assert response.redirect_chain[-1][0] == reverse("contracts:application_detail", args=[correction.pk])
    assert (correction.correction_target, correction.quantity, correction.entered_by) == ("terms", 20, clerk)
    assert [str(m) for m in response.context["messages"]] == [
        f"訂正申込 #{correction.pk}（数量・見積額）を受け付けました。"
        "受付者とは別の承認者が審査・承諾すると訂正されます。"
    ]
