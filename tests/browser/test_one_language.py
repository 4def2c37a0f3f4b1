"""One calendar, one language, in a real browser that asks for English (Accept-Language: en-US): the admin and the
staff screens answer in Japanese, a 和暦 date typed into the admin and into a staff form is read, and every date
shown reads 和暦 with the Western date beside it."""

import datetime as dt

import pytest
from django.urls import reverse

from contracts.models import OptionContract
from options.models import TariffRevision
from tests import factories
from tests.browser.conftest import VIEWPORT
from tests.browser.test_application_story import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def english_page(browser):
    context = browser.new_context(
        viewport=VIEWPORT,
        locale="en-US",
        timezone_id="Asia/Tokyo",
        extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def test_an_english_browser_gets_japanese_and_enters_wareki_dates_in_the_admin_and_a_staff_form(
    live_server, english_page, shot, regulation, tariff_manager, clerk, approver
):
    page = english_page
    tariff_manager.is_staff = True
    tariff_manager.first_name, tariff_manager.last_name = "花子", "規程"
    tariff_manager.save()

    # The admin: Japanese chrome and greeting by full name, whatever the browser asks for.
    log_in(page, live_server, tariff_manager)
    page.goto(live_server.url + reverse("admin:index"))
    header = page.locator("#user-tools").inner_text()
    assert "ようこそ、規程 花子さん。" in header and "ログアウト" in header
    assert "Welcome" not in page.content()
    shot(page, "lang_01_admin_index_english_browser")

    # A catalogue date field takes 和暦 (R8.3.2 and 令和8年4月1日) and the list reads them back as 和暦 (Western).
    page.goto(live_server.url + reverse("admin:options_tariffrevision_add"))
    page.fill("#id_title", "令和8年4月1日変更")
    page.fill("#id_amended_on", "R8.3.2")
    page.fill("#id_effective_on", "令和8年4月1日")
    page.fill("#id_provisions", "この改正規定は、令和8年4月1日から実施します。")
    page.fill("#id_change_reason", "改定の登録（ブラウザテスト）")
    shot(page, "lang_02_admin_revision_typed_in_wareki")
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li")
    revision = TariffRevision.objects.get(title="令和8年4月1日変更")
    assert (revision.amended_on, revision.effective_on) == (dt.date(2026, 3, 2), dt.date(2026, 4, 1))
    row = page.locator("#result_list tr", has_text="令和8年4月1日変更")
    assert "令和8年3月2日 (2026-03-02)" in row.inner_text()
    assert "令和8年4月1日 (2026-04-01)" in row.inner_text()
    shot(page, "lang_03_admin_revision_list_in_wareki")

    # Its history page: 変更理由 in Japanese, the reason itself, the time in 和暦.
    page.goto(live_server.url + reverse("admin:options_tariffrevision_history", args=[revision.pk]))
    history = page.locator("#change-history").inner_text()
    assert "変更理由" in history and "改定の登録（ブラウザテスト）" in history
    assert "Change reason" not in history and "None" not in history
    assert "令和8年2月15日 (2026-02-15)" in history
    assert page.locator("h1").inner_text() == "令和8年4月1日変更 の変更履歴"
    shot(page, "lang_04_admin_history_in_japanese")

    # Variant choices name their option: no more four 「標準」.
    page.goto(live_server.url + reverse("admin:options_feeitem_add"))
    labels = page.locator("#id_variant option").all_inner_texts()
    named = [label for label in labels if label.strip("-")]
    assert len(named) == len(set(named)) and all(" ／ " in label for label in named)
    page.locator("#id_variant").focus()
    shot(page, "lang_05_admin_variant_choices")

    # A staff form: the clerk types the 課金開始日 in 和暦 on an English browser.
    page.context.clear_cookies()
    contract = factories.approved_swp_contract(clerk=clerk, approver=approver)
    log_in(page, live_server, clerk)
    page.goto(live_server.url + reverse("contracts:optioncontract_detail", args=[contract.pk]))
    page.fill("#id_billing_start_date", "令和8年2月15日")
    shot(page, "lang_06_staff_billing_start_typed_in_wareki")
    page.click("#billing-start-form button[type=submit]")
    page.wait_for_selector("ul.messages li")
    assert OptionContract.objects.get(pk=contract.pk).billing_start_date == dt.date(2026, 2, 15)
    assert "令和8年2月15日 (2026-02-15)" in page.locator("main").inner_text()
    notice = page.locator("ul.messages li").first
    assert notice.get_attribute("role") == "status" and notice.get_attribute("class") == "success"
    shot(page, "lang_07_staff_billing_start_in_wareki")
