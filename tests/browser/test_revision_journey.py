"""A tariff revision's journey in a real browser: 規程管理 drafts it and previews its impact, a colleague
publishes it, the contract page shows the change to come, and 経理 sees it in the next month's 速報 report."""

import datetime as dt

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


def test_a_draft_adds_an_option_retires_one_orders_its_succession_and_a_colleague_publishes_it(
    live_server, page, shot, regulation, clerk, approver, tariff_manager, tariff_manager2
):
    """規程管理 A adds 「IPv6 接続オプション機能（新）」 (0円 a month) from 令和8年4月1日, retires
    IPv6 接続オプション機能 on that day and orders that its contracts continue as the new one; the
    preview names the contract that would move; nothing changes until B publishes, which retires the
    old option from its 実施日."""
    from options.choices import OptionStatus
    from options.models import Option, Section, Service
    from tests import factories

    contract = factories.contract_billed_from(
        dt.date(2026, 2, 10), factories.IPV6, approver=approver, clerk=clerk, approved_at=factories.jst(2026, 2, 10, 9)
    )
    log_in(page, live_server, tariff_manager)
    page.goto(live_server.url + reverse("options:revision_create"))
    page.fill("#id_title", "令和8年4月1日変更")
    page.fill("#id_amended_on", "令和8年3月1日")
    page.fill("#id_effective_on", "令和8年4月1日")
    page.fill("#id_provisions", "この改正規定は、令和8年4月1日から実施します。")
    page.click("button:has-text('下書きとして登録する')")
    page.wait_for_selector("h1:has-text('改定: 令和8年4月1日変更')")

    page.click("a:has-text('オプションを追加')")
    page.wait_for_selector("h1:has-text('改定案で追加するオプション')")
    page.select_option("#id_section", str(Section.objects.get(number=3).pk))
    page.fill("#id_code", "ipv6-plus")
    page.fill("#id_name", "IPv6 接続オプション機能（新）")
    page.fill("#id_condition_article", "第5条")
    page.fill("#id_fee_article", "第6条")
    page.fill("#id_variant_code", "fiberaccess-f")
    page.fill("#id_variant_name", "IIJ FiberAccess/F サービス")
    page.select_option("#id_services", str(Service.objects.get(code="fiberaccess-f").pk))
    page.fill("#id_reason", "IPv6 接続オプションの新設")
    shot(page, "revision_options_01_add_option")
    page.click("button:has-text('追加する')")
    page.wait_for_selector("text=を改定案に追加しました")
    added = Option.objects.get(code="ipv6-plus")
    assert added.introduced_by.title == "令和8年4月1日変更"

    page.click("a:has-text('料金細目を追加')")
    page.wait_for_selector("h1:has-text('改定案の料金細目')")
    page.select_option("#id_option", str(added.pk))
    page.select_option("#id_variant", str(added.variants.get().pk))
    page.select_option("#id_kind", "monthly")
    page.fill("#id_name", "IIJ FiberAccess/F サービス")
    page.select_option("#id_pricing", "fixed")
    page.fill("#id_amount_yen", "0")
    page.select_option("#id_charge_basis", "per_contract")
    page.fill("#id_article", "第6条")
    page.click("button:has-text('追加する')")
    page.wait_for_selector("text=を改定案に追加しました")

    page.click("a:has-text('オプションを廃止')")
    page.wait_for_selector("h1:has-text('改定案で廃止するオプション')")
    page.select_option("#id_option", str(Option.objects.get(code="ipv6").pk))
    page.fill("#id_reason", "新オプションへの切替え")
    page.click("button:has-text('廃止するオプションに加える')")
    page.wait_for_selector("text=を改定案で廃止します")

    page.click("a:has-text('承継を定める')")
    page.wait_for_selector("h1:has-text('改定案の承継')")
    page.select_option("#id_from_option", str(Option.objects.get(code="ipv6").pk))
    page.select_option("#id_to_option", str(added.pk))
    page.fill("#id_provision", "令和8年4月1日変更 附則第2項")
    shot(page, "revision_options_02_succession_form")
    page.click("button:has-text('承継を定める')")
    page.wait_for_selector("text=を改定案に定めました")
    section = page.locator("#option-changes").inner_text()
    assert "IPv6 接続オプション機能（新）（ipv6-plus・第3節）" in section
    assert "IPv6 接続オプション機能（令和8年4月1日 (2026-04-01)に廃止）" in section
    assert "IPv6 接続オプション機能 → IPv6 接続オプション機能（新）（令和8年4月1日変更 附則第2項" in section
    shot(page, "revision_options_03_draft_detail")
    assert Option.objects.get(code="ipv6").status == OptionStatus.ACTIVE  # nothing changes before publishing

    page.click("a:has-text('影響の試算')")
    page.wait_for_selector("h1:has-text('改定の影響試算')")
    moved = page.locator("table:below(h2:has-text('承継で移る契約'))").first.inner_text()
    assert f"#{contract.pk}" in moved and "IPv6 接続オプション機能（新）" in moved
    shot(page, "revision_options_04_impact_successions")
    page.go_back()

    page.fill("#id_reason", "確認をお願いします")
    page.click("button:has-text('確認を依頼する')")
    page.wait_for_selector("text=確認待ちにしました")
    log_out(page)

    revision = TariffRevision.objects.get(title="令和8年4月1日変更")
    log_in(page, live_server, tariff_manager2)
    page.goto(live_server.url + reverse("options:revision_detail", args=[revision.pk]))
    page.fill("#id_reason", "新設・廃止・承継を確認しました")
    page.click("button:has-text('公開する')")
    page.wait_for_selector("text=公開済みにしました")
    shot(page, "revision_options_05_published")
    retired = Option.objects.get(code="ipv6")
    assert (retired.status, retired.retired_on) == (OptionStatus.RETIRED, dt.date(2026, 4, 1))
    page.goto(live_server.url + reverse("options:option_list"))
    assert "IPv6 接続オプション機能（新）" in page.content()
    shot(page, "revision_options_06_option_list")
