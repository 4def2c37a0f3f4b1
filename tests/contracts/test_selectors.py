"""Selectors: eligibility_check (利用の条件 on a date) and fee_preview."""

import datetime as dt

import pytest

from contracts.selectors import (
    EligibilityMode,
    EligibilityResult,
    GivenBasis,
    eligibility_check,
    eligibility_evaluate,
    fee_preview,
)
from contracts.services import base_contract_end
from core.errors import DomainError
from options.choices import FeeKind
from tests.factories import add_fee_item, option, subscriber_with_base, subscriber_with_line, variant

pytestmark = pytest.mark.django_db


def test_eligibility_check_returns_the_basis_in_force_on_the_date(regulation, clerk):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk, start_date=dt.date(2026, 4, 1))
    base = subscriber.base_contracts.get()
    assert eligibility_check(subscriber=subscriber, option=option("ipv6"), on=dt.date(2026, 4, 1)) == (
        EligibilityResult(ok=True, article="", message="", basis=base)
    )
    before = eligibility_check(subscriber=subscriber, option=option("ipv6"), on=dt.date(2026, 3, 31))
    assert (before.ok, before.article, before.basis) == (False, "第5条", None)


def test_eligibility_check_the_end_date_is_the_last_day_in_force(regulation, clerk):
    subscriber = subscriber_with_base("web-standard2", actor=clerk)
    base_contract_end(
        base_contract=subscriber.base_contracts.get(), end_date=dt.date(2026, 5, 31), actor=clerk, reason="解約"
    )
    swp = option("swp-accounts")
    assert eligibility_check(subscriber=subscriber, option=swp, on=dt.date(2026, 5, 31)).ok is True
    after = eligibility_check(subscriber=subscriber, option=swp, on=dt.date(2026, 6, 1))
    assert (after.ok, after.article) == (False, "第3条")


def test_eligibility_check_of_a_carrier_line_the_collabo_line_also_qualifies(regulation, clerk, clerk2):
    subscriber = subscriber_with_line("collabo-hikari", actor=clerk, confirmer=clerk2)
    result = eligibility_check(subscriber=subscriber, option=option("flets-hikari"), on=dt.date(2026, 4, 1))
    assert (result.ok, result.basis) == (True, subscriber.carrier_lines.get())


def test_fee_preview_prices_every_fee_item_in_force_for_the_variant(regulation, tariff_manager):
    add_fee_item(
        "swp-accounts",
        "additional-accounts",
        FeeKind.INITIAL,
        5000,
        revision_on=dt.date(2026, 2, 1),
        actor=tariff_manager,
        name="初期設定料",
    )
    swp = option("swp-accounts")
    priced = fee_preview(
        option=swp,
        variant=variant("swp-accounts", "additional-accounts"),
        quantity=30,
        quoted_amount_yen=None,
        on=dt.date(2026, 2, 1),
    )
    assert [(p.fee_item.kind, p.fee_item.name, p.amount_yen) for p in priced] == [
        (FeeKind.INITIAL, "初期設定料", 5000),
        (FeeKind.MONTHLY, "IIJ セキュア Web プラットフォーム追加アカウント使用料", 9000),
    ]
    assert (
        fee_preview(
            option=swp,
            variant=variant("swp-accounts", "additional-accounts"),
            quantity=30,
            quoted_amount_yen=None,
            on=dt.date(2026, 1, 31),
        )
        == []
    )


def test_fee_preview_refuses_25_accounts_and_a_missing_quote(regulation):
    with pytest.raises(DomainError, match="25アカウントは10の倍数ではありません"):
        fee_preview(
            option=option("swp-accounts"),
            variant=variant("swp-accounts", "additional-accounts"),
            quantity=25,
            quoted_amount_yen=None,
            on=dt.date(2026, 2, 1),
        )
    with pytest.raises(DomainError, match="見積額を入力してから承諾してください"):
        fee_preview(
            option=option("flets-hikari"),
            variant=variant("flets-hikari", "type-a"),
            quantity=1,
            quoted_amount_yen=None,
            on=dt.date(2026, 2, 1),
        )


def test_eligibility_evaluate_one_rule_for_an_application_an_approval_and_a_migrated_contract(regulation, clerk):
    """§3.7 and §3.13: the same 第5条 decides in every mode; what differs is where the basis comes from."""
    fiber = subscriber_with_base("fiberaccess-f", actor=clerk, start_date=dt.date(2020, 4, 1))
    web = subscriber_with_base("web-highgrade2", actor=clerk, start_date=dt.date(2020, 4, 1))
    ipv6, on = option("ipv6"), dt.date(2026, 4, 1)
    for mode in (EligibilityMode.APPLICATION, EligibilityMode.APPROVAL):
        met = eligibility_evaluate(subscriber=fiber, option=ipv6, on=on, mode=mode)
        assert (met.ok, met.basis) == (True, fiber.base_contracts.get())
        refused = eligibility_evaluate(subscriber=web, option=ipv6, on=on, mode=mode)
        assert (refused.ok, refused.article, refused.code) == (False, "第5条", "not_eligible")
        assert (
            refused.message
            == "IPv6 接続オプション機能を利用するには IIJ FiberAccess/F サービスの契約者である必要があります（第5条）"
        )

    migrated = EligibilityMode.MIGRATED
    given = GivenBasis(base_contract=fiber.base_contracts.get())
    met = eligibility_evaluate(subscriber=fiber, option=ipv6, on=dt.date(2021, 1, 1), mode=migrated, given=given)
    assert (met.ok, met.basis) == (True, fiber.base_contracts.get())
    wrong = GivenBasis(base_contract=web.base_contracts.get())
    refused = eligibility_evaluate(subscriber=web, option=ipv6, on=dt.date(2021, 1, 1), mode=migrated, given=wrong)
    assert (refused.ok, refused.article, refused.code, refused.missing) == (False, "第5条", "basis_required", False)
    assert refused.message == (
        "IPv6 接続オプション機能の契約には IIJ FiberAccess/F サービスの基本サービス契約を指定してください（第5条）"
    )
    none = eligibility_evaluate(subscriber=None, option=ipv6, on=dt.date(2021, 1, 1), mode=migrated)
    assert (none.ok, none.missing, none.kind) == (False, True, "service")
    early = eligibility_evaluate(subscriber=fiber, option=ipv6, on=dt.date(2019, 1, 1), mode=migrated, given=given)
    assert (early.ok, early.code) == (False, "basis_after_contract")
    # 第3条's alternatives read the same in the migrated mode: Web ハイグレード2 is a basis for the account add-on.
    swp = eligibility_evaluate(
        subscriber=web, option=option("swp-accounts"), on=dt.date(2021, 1, 1), mode=migrated, given=wrong
    )
    assert swp.ok
