"""Enter everything in the staff screens, in a real browser: a clerk registers a new subscriber, enters their
base-service contract and a carrier line (confirmed, 第1条) from the subscriber's page, then an application whose
subscriber is found by typing its フリガナ in hiragana (autocomplete) and shown before 確認; 確認 refuses 15
accounts by 数量, then shows the fees with their total and tax; 申込 receives it."""

import pytest
from django.urls import reverse

from contracts.choices import ApplicationStatus
from contracts.models import Application, BaseServiceContract, CarrierLineContract, Subscriber
from options.models import CarrierService, Service
from tests import ui_data
from tests.browser.test_application_story import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_subscriber_a_base_contract_a_carrier_line_then_an_application(
    live_server, page, shot, regulation, clerk
):
    page.on("dialog", lambda dialog: dialog.accept())  # the 確認 button asks first (data-confirm)
    log_in(page, live_server, clerk)

    # A new subscriber.
    page.goto(live_server.url + reverse("contracts:subscriber_list"))
    page.click("a:has-text('契約者を登録')")
    page.fill("#id_code", "E0001")
    page.fill("#id_name", "株式会社入力試験")
    page.fill("#id_kana", "かぶしきがいしゃにゅうりょくしけん")  # stored in katakana
    page.click("button:has-text('登録する')")
    page.wait_for_selector("text=を登録しました。")
    subscriber = Subscriber.objects.get(code="E0001")
    assert subscriber.kana == "カブシキガイシャニュウリョクシケン"
    shot(page, "enter_01_new_subscriber")

    # Its base-service contract, from the subscriber's page.
    page.click("a:has-text('基本サービス契約を登録')")
    page.wait_for_selector("h1:has-text('基本サービス契約の登録')")
    service = Service.objects.get(code="web-highgrade2")
    page.select_option("#id_service", value=str(service.pk))
    page.fill("#id_contract_number", "ＷＥＢ－７７７１")
    page.fill("#id_start_date", "令和8年2月1日")
    shot(page, "enter_02_base_contract_form")
    page.click("button:has-text('登録する')")
    page.wait_for_selector("text=基本サービス契約（")
    base = BaseServiceContract.objects.get(subscriber=subscriber)
    assert (base.service, base.contract_number) == (service, "WEB-7771")
    assert page.locator("#base-contracts td:has-text('WEB-7771')").count() == 1

    # A carrier line: entered unconfirmed, then confirmed from its row.
    page.click("a:has-text('事業者回線契約を登録')")
    carrier_service = CarrierService.objects.get(code="flets-next-prio1")
    page.select_option("#id_carrier_service", value=str(carrier_service.pk))
    page.fill("#id_line_id", "CAF00007771")
    page.fill("#id_start_date", "2026-02-01")
    page.click("button:has-text('登録する')")
    page.wait_for_selector("#carrier-lines .badge:has-text('未確認')")
    shot(page, "enter_03_carrier_line_unconfirmed")
    page.click("#carrier-lines button:has-text('確認')")
    page.wait_for_selector("text=を確認しました。")
    line = CarrierLineContract.objects.get(subscriber=subscriber)
    assert line.confirmed_by == clerk
    assert page.locator("#carrier-lines button:has-text('確認')").count() == 0
    shot(page, "enter_04_subscriber_with_contracts")

    # The application: the subscriber found by its フリガナ in hiragana, and shown before 確認.
    ui_data.swp_subscriber(name="株式会社別人", kana="カブシキガイシャベツジン")  # another カブシキガイシャ
    page.click("a:has-text('新規利用申込')")
    page.wait_for_selector(f".subscriber-card[data-code='{subscriber.code}']")  # the code from the page
    page.fill("#id_subscriber_code", "")
    page.type("#id_subscriber_code", "にゅうりょく", delay=30)
    page.wait_for_selector("#subscriber-suggestions li.suggestion")
    assert page.locator("#subscriber-suggestions li.suggestion").count() == 1
    shot(page, "enter_05_autocomplete")
    page.click("#subscriber-suggestions li.suggestion")
    assert page.locator("#id_subscriber_code").input_value() == "E0001"
    card = page.locator("#subscriber-card .subscriber-card")
    assert "株式会社入力試験" in card.inner_text() and service.name in card.inner_text()

    _, variant = ui_data.swp()
    page.select_option("#id_variant", value=str(variant.pk))
    page.fill("#id_quantity", "15")
    page.click("button:has-text('確認')")
    error = page.locator("#id_quantity ~ ul.errorlist")
    error.wait_for()
    assert "10アカウント単位で申し込んでください" in error.inner_text()
    assert page.locator(".subscriber-card[data-code='E0001']").count() == 1  # still shown who it is
    shot(page, "enter_06_confirm_refused_by_quantity")

    page.fill("#id_quantity", "30")
    page.click("button:has-text('確認')")
    page.wait_for_selector("text=利用の条件を満たしています")
    totals = page.locator("#fee-totals").inner_text()
    assert "月額費用の合計（税抜）" in totals and "9,000円" in totals
    assert "消費税（10%）" in totals and "9,900円" in totals
    shot(page, "enter_07_confirm_with_totals")
    page.click("button:has-text('申込')")
    page.wait_for_selector("text=を受け付けました")
    application = Application.objects.get(subscriber=subscriber)
    assert (application.status, application.quantity, application.base_contract) == (
        ApplicationStatus.RECEIVED,
        30,
        base,
    )
    shot(page, "enter_08_application_received")


def test_without_script_the_application_form_lists_the_candidates(live_server, browser, shot, regulation, clerk):
    """The plain-HTML way: no script, a name typed, 確認 lists the candidates; one chosen, 確認 goes on."""
    from tests.browser.conftest import VIEWPORT

    ui_data.swp_subscriber(code="E0002", name="山田 太郎", kana="ヤマダ タロウ")
    ui_data.swp_subscriber(code="E0003", name="山田 花子", kana="ヤマダ ハナコ")
    context = browser.new_context(viewport=VIEWPORT, locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, clerk)
        page.goto(live_server.url + reverse("contracts:application_create"))
        page.fill("#id_subscriber_code", "やまだ")
        _, variant = ui_data.swp()
        page.select_option("#id_variant", value=str(variant.pk))
        page.fill("#id_quantity", "10")
        page.click("button:has-text('確認')")
        page.wait_for_selector("#subscriber-candidates")
        assert page.locator("#subscriber-candidates input[type=radio]").count() == 2
        shot(page, "enter_09_candidates_without_script")
        page.check("#subscriber-candidates input[value=E0003]")
        page.click("button:has-text('確認')")
        page.wait_for_selector("text=利用の条件を満たしています")
        assert "山田 花子" in page.locator("main").inner_text()
        shot(page, "enter_10_confirm_without_script")
    finally:
        context.close()
