import datetime as dt

import pytest
from django.core.management import call_command

from options.choices import EligibilityKind, FeeKind, OptionStatus, Pricing
from options.models import EligibilityRule, FeeItem, Option, Succession, TariffRevision
from options.selectors import fee_item_in_force

pytestmark = pytest.mark.django_db

EXPECTED_DATES = [
    (2004, 8, 1),
    (2004, 10, 1),
    (2005, 1, 1),
    (2005, 8, 1),
    (2005, 10, 1),
    (2006, 4, 1),
    (2006, 6, 1),
    (2006, 7, 1),
    (2007, 10, 1),
    (2008, 2, 1),
    (2008, 10, 1),
    (2009, 2, 1),
    (2009, 8, 1),
    (2009, 10, 1),
    (2010, 3, 1),
    (2010, 10, 1),
    (2011, 6, 1),
    (2012, 10, 1),
    (2013, 8, 1),
    (2014, 3, 1),
    (2014, 6, 1),
    (2014, 7, 1),
    (2014, 12, 1),
    (2015, 4, 1),
    (2015, 10, 1),
    (2016, 1, 1),
    (2016, 3, 1),
    (2016, 4, 1),
    (2016, 6, 1),
    (2017, 2, 1),
    (2018, 6, 1),
    (2019, 2, 1),
    (2020, 2, 1),
    (2021, 2, 1),
    (2022, 2, 1),
    (2023, 4, 1),
    (2024, 8, 1),
    (2025, 4, 1),
    (2026, 2, 1),
]


def test_load_regulation_has_39_revisions_with_their_dates(regulation):
    revisions = list(TariffRevision.objects.order_by("effective_on"))
    assert [r.amended_on for r in revisions] == [dt.date(*d) for d in EXPECTED_DATES]
    assert all(r.effective_on == r.amended_on for r in revisions)
    h26 = TariffRevision.objects.get(amended_on=dt.date(2014, 3, 1))
    assert h26.title == "平成26年3月1日変更"
    assert "PacketWIN 接続オプション(従量課金)機能として有効に存続" in h26.provisions
    assert h26.provisions.count("\n") == 3  # 第1項〜第4項
    last = revisions[-1]
    assert last.title == "令和8年2月1日変更"
    assert last.provisions == "この契約約款は、令和 8 年 2 月 1 日から実施します。"


@pytest.mark.parametrize(
    ("option", "variant", "pricing", "amount", "block"),
    [
        ("flets-hikari", "type-a", Pricing.QUOTED, None, None),
        ("flets-hikari", "type-e", Pricing.FIXED, 0, None),
        ("swp-accounts", "additional-accounts", Pricing.PER_BLOCK, 3000, 10),
        ("ipv6", "fiberaccess-f", Pricing.FIXED, 0, None),
    ],
)
def test_fee_in_force_on_2026_02_01_for_each_row_of_annex_1(regulation, option, variant, pricing, amount, block):
    option = Option.objects.get(code=option)
    item = fee_item_in_force(
        option=option, variant=option.variants.get(code=variant), kind=FeeKind.MONTHLY, on=dt.date(2026, 2, 1)
    )
    assert (item.pricing, item.amount_yen, item.block_size) == (pricing, amount, block)
    assert item.revision.amended_on == dt.date(2026, 2, 1)
    assert item.article == option.fee_article


def test_successor_of_each_retired_option(regulation):
    successions = {s.from_option.code: (s.to_option.code, s.provision) for s in Succession.objects.all()}
    assert successions == {
        "packetone-metered": ("packetwin-metered", "平成26年3月1日変更 附則第2項"),
        "packetone-win-fixed": ("packetwin-fixed", "平成26年3月1日変更 附則第3項"),
        "b-flets": ("flets-hikari", "平成26年3月1日変更 附則第4項"),
    }
    for succession in Succession.objects.all():
        assert succession.effective_on == dt.date(2014, 3, 1)
        assert succession.contracts_made_until == dt.date(2014, 2, 28)
        assert succession.from_option.status == OptionStatus.RETIRED
        assert succession.to_option.status == OptionStatus.ACTIVE


def test_eligibility_rules_cite_articles_1_3_and_5(regulation):
    def rule(code):
        return EligibilityRule.objects.get(option__code=code)

    swp = rule("swp-accounts")
    assert (swp.article, swp.kind) == ("第3条", EligibilityKind.SERVICE_CONTRACT)
    assert {s.code for s in swp.services.all()} == {"web-highgrade2", "web-standard2"}
    ipv6 = rule("ipv6")
    assert (ipv6.article, {s.code for s in ipv6.services.all()}) == ("第5条", {"fiberaccess-f"})
    flets = rule("flets-hikari")
    assert (flets.article, flets.kind) == ("第1条", EligibilityKind.CARRIER_LINE)
    assert {s.code for s in flets.carrier_services.all()} == {"flets-next-prio1", "collabo-hikari"}
    assert set(EligibilityRule.objects.values_list("article", flat=True)) == {"第1条", "第3条", "第5条"}


def test_load_regulation_twice_changes_nothing_and_writes_no_history(regulation, capsys):
    counts = {m: m.history.count() for m in (TariffRevision, FeeItem, Option, Succession, EligibilityRule)}
    call_command("load_regulation")
    assert "変更はありません" in capsys.readouterr().out
    assert {m: m.history.count() for m in counts} == counts
    assert TariffRevision.objects.count() == 39


def test_loaded_records_carry_the_system_user_and_a_reason(regulation):
    record = TariffRevision.history.first()
    assert record.history_user.username == "system"
    assert "個別規程" in record.history_change_reason
