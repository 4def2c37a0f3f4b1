"""A tariff revision's journey in a real browser: 規程管理 drafts it and previews its impact, a colleague
publishes it, the contract page shows the change to come, and 経理 sees it in the next month's 速報 report."""

import pytest
from django.urls import reverse

from options.choices import RevisionStatus
from options.models import TariffRevision
from tests import ui_data
from tests.browser.test_application_story import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_draft_preview_publish_and_the_next_provisional_report(
    live_server, page, shot, regulation, clerk, approver, accounting, tariff_manager, tariff_manager2
):
    contract = ui_data.billing_contract(clerk=clerk, approver=approver)  # SWP, 30 accounts: 9,000円 a month
    log_in(page, live_server, tariff_manager)
    page.goto(live_server.url + reverse("options:revision_list"))
    page.click("a:has-text('改定案を作成')")
    page.fill("#id_title", "令和8年3月1日変更")
    page.fill("#id_amended_on", "令和8年2月20日")
    page.fill("#id_effective_on", "令和8年3月1日")
    page.fill("#id_provisions", "この改正規定は、令和8年3月1日から実施します。")
    shot(page, "revision_01_draft_form")
    page.click("button:has-text('下書きとして登録する')")
    page.wait_for_selector("h1:has-text('改定: 令和8年3月1日変更')")
    assert "公開されるまで料金の計算には使われません" in page.content()

    page.click("tr:has-text('追加アカウント使用料') a:has-text('改める')")
    page.wait_for_selector("h1:has-text('改定案の料金細目')")
    page.fill("#id_amount_yen", "3300")
    page.fill("#id_reason", "追加アカウント使用料を3,300円に改める")
    shot(page, "revision_02_fee_item_form")
    page.click("button:has-text('追加する')")
    page.wait_for_selector("text=改定案に追加しました")
    shot(page, "revision_03_draft_detail")

    page.click("a:has-text('実施日に有効な改定との差分')")
    page.wait_for_selector("h1:has-text('改定の差分')")
    assert "3,300円" in page.content() and "3,000円" in page.content()
    shot(page, "revision_04_diff")
    page.go_back()

    page.click("a:has-text('影響の試算')")
    page.wait_for_selector("h1:has-text('改定の影響試算')")
    html = page.content()
    assert "影響を受ける契約 1件" in html and f"#{contract.pk}" in html
    assert "9,900円" in html and "900円" in html
    assert contract.subscriber.name not in html
    shot(page, "revision_05_impact_preview")
    page.go_back()

    page.fill("#id_reason", "確認をお願いします")
    page.click("button:has-text('確認を依頼する')")
    page.wait_for_selector("text=確認待ちにしました")
    # The four eyes: the drafter is not offered 公開する (and the service refuses a forged one).
    assert page.locator("button:has-text('公開する')").count() == 0
    assert "起案・入力をしたため公開できません" in page.locator("#author-note").inner_text()
    shot(page, "revision_06_waiting_for_a_colleague")
    log_out(page)

    revision = TariffRevision.objects.get(title="令和8年3月1日変更")
    log_in(page, live_server, tariff_manager2)
    page.goto(live_server.url + reverse("options:revision_detail", args=[revision.pk]))
    page.fill("#id_reason", "料金表と附則を確認しました")
    page.click("button:has-text('公開する')")
    page.wait_for_selector("text=公開済みにしました")
    shot(page, "revision_07_published")
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PUBLISHED and revision.published_by == tariff_manager2
    log_out(page)

    log_in(page, live_server, clerk)
    page.goto(live_server.url + reverse("contracts:optioncontract_detail", args=[contract.pk]))
    pending = page.locator("#pending-fee-changes").inner_text()
    assert pending == "令和8年3月1日から 9,900円（改定案: 令和8年3月1日変更）"
    shot(page, "revision_08_contract_pending_change")
    log_out(page)

    log_in(page, live_server, accounting)
    page.goto(live_server.url + reverse("contracts:monthly_report") + "?month=令和8年3月")
    page.wait_for_selector("h1:has-text('月次レポート')")
    assert "9,900円" in page.content()
    shot(page, "revision_09_next_provisional_report")
