"""The monthly charge of a month (DOMAIN §3.6): daily proration, revisions mid-month, policies, tax."""

import datetime as dt

import pytest

from contracts.billing.charges import contract_charges, month_charges
from contracts.billing.entries import reversal_row
from contracts.billing.pricing import prorate, tax_for, tax_rate_on
from contracts.choices import LedgerKind
from core.errors import DomainError
from core.history_write import save_with_history
from options.choices import FeeKind, Proration
from options.models import FeeItem
from tests.factories import (
    IPV6,
    SWP_ACCOUNTS,
    TYPE_A,
    add_fee_item,
    at,
    contract_approved,
    contract_billed_from,
    contract_change,
    contract_migrated,
    jst,
    monthly_row,
    subscriber_for,
)

pytestmark = pytest.mark.django_db

FEB = dt.date(2026, 2, 1)
MAR = dt.date(2026, 3, 1)


def _summary(lines):
    return [
        (
            line.option_contract_id,
            line.fee_item.name,
            line.charge_month,
            line.days_billed,
            line.days_in_month,
            line.amount_yen,
        )
        for line in lines
    ]


@pytest.fixture
def sub(regulation):
    return subscriber_for(SWP_ACCOUNTS, code="C000001", name="株式会社さくら")


def _later_monthly_fee(amount_yen: int, name: str, tariff_manager, *, proration=Proration.DAILY) -> FeeItem:
    """The SWP monthly fee of a revision effective 2026-03-16, per block of 10 as the regulation's."""
    return add_fee_item(
        *SWP_ACCOUNTS,
        FeeKind.MONTHLY,
        amount_yen,
        revision_on=dt.date(2026, 3, 16),
        actor=tariff_manager,
        name=name,
        block_size=10,
        proration=proration,
    )


def test_billing_start_mid_month_is_prorated_daily_start_date_counted(sub, approver):
    contract_billed_from(dt.date(2026, 2, 15), subscriber=sub, quantity=10, approver=approver)

    [line] = month_charges(month=FEB)

    # 3,000 × 14 / 28 = 1,500 (2/15..2/28, both counted).
    assert (line.kind, line.days_billed, line.days_in_month, line.amount_yen) == (
        LedgerKind.MONTHLY_CHARGE,
        14,
        28,
        1500,
    )
    assert (line.quantity, line.blocks, line.monthly_amount_yen) == (10, 1, 3000)
    assert line.fee_item.revision.effective_on == dt.date(2026, 2, 1)


def test_billing_start_on_the_first_is_a_full_month(sub, approver):
    contract_billed_from(FEB, subscriber=sub, quantity=30, approver=approver)

    [line] = month_charges(month=FEB)

    assert (line.days_billed, line.amount_yen, line.blocks) == (28, 9000, 3)


def test_end_date_mid_month_is_prorated_with_the_end_date_counted(sub, approver):
    contract_billed_from(FEB, subscriber=sub, quantity=10, end_date=dt.date(2026, 3, 10), approver=approver)

    [line] = month_charges(month=MAR)

    # 3,000 × 10 / 31 = 967.7… → 967 (3/1..3/10).
    assert (line.days_billed, line.days_in_month, line.amount_yen) == (10, 31, 967)
    assert month_charges(month=dt.date(2026, 4, 1)) == []


def test_start_and_end_in_the_same_month_count_both_days(sub, approver):
    contract_billed_from(
        dt.date(2026, 2, 10), subscriber=sub, quantity=10, end_date=dt.date(2026, 2, 20), approver=approver
    )

    [line] = month_charges(month=FEB)

    # 2/10..2/20 = 11 days: 3,000 × 11 / 28 = 1,178.5… → 1,178.
    assert (line.days_billed, line.amount_yen) == (11, 1178)


def test_a_revision_effective_mid_month_splits_the_charge_by_days_per_fee_item(sub, approver, tariff_manager):
    oc = contract_billed_from(FEB, subscriber=sub, quantity=10, approver=approver)
    _later_monthly_fee(3600, "追加アカウント使用料（改定後）", tariff_manager)

    lines = month_charges(month=MAR)

    # 3/1..3/15 at 3,000: 3,000 × 15 / 31 = 1,451.6… → 1,451; 3/16..3/31 at 3,600: 3,600 × 16 / 31 = 1,858.0… → 1,858.
    assert _summary(lines) == [
        (oc.pk, "IIJ セキュア Web プラットフォーム追加アカウント使用料", MAR, 15, 31, 1451),
        (oc.pk, "追加アカウント使用料（改定後）", MAR, 16, 31, 1858),
    ]
    assert [line.monthly_amount_yen for line in lines] == [3000, 3600]


def test_a_quantity_change_mid_month_prorates_each_part_under_one_fee_item(sub, approver):
    oc = contract_billed_from(FEB, subscriber=sub, quantity=10, approver=approver)
    contract_change(
        oc, approver=approver, approved_at=jst(2026, 3, 10, 10, 0), effective_date=dt.date(2026, 3, 16), quantity=30
    )

    [line] = month_charges(month=MAR)

    # 3,000 × 15 / 31 = 1,451 + 9,000 × 16 / 31 = 4,645.1… → 4,645.
    assert (line.days_billed, line.amount_yen, line.quantity, line.blocks, line.monthly_amount_yen) == (
        31,
        1451 + 4645,
        30,
        3,
        9000,
    )


def test_full_month_policy_charges_any_partial_month_whole(sub, approver):
    FeeItem.objects.filter(variant__code="additional-accounts").update(proration=Proration.FULL_MONTH)
    oc = contract_billed_from(
        dt.date(2026, 2, 27), subscriber=sub, quantity=10, end_date=dt.date(2026, 3, 2), approver=approver
    )

    assert _summary(month_charges(month=FEB)) == [
        (oc.pk, "IIJ セキュア Web プラットフォーム追加アカウント使用料", FEB, 2, 28, 3000)
    ]
    assert [line.amount_yen for line in month_charges(month=MAR)] == [3000]


def test_full_month_policy_with_a_mid_month_revision_charges_one_whole_month_at_the_later_fee(
    sub, approver, tariff_manager
):
    FeeItem.objects.filter(variant__code="additional-accounts").update(proration=Proration.FULL_MONTH)
    contract_billed_from(FEB, subscriber=sub, quantity=10, approver=approver)
    later = _later_monthly_fee(3600, "改定後", tariff_manager, proration=Proration.FULL_MONTH)

    [line] = month_charges(month=MAR)

    assert (line.fee_item, line.days_billed, line.amount_yen) == (later, 31, 3600)


def test_quoted_fee_uses_the_obligations_quote_per_contract_account(regulation, approver):
    oc = contract_billed_from(FEB, TYPE_A, code="C000002", quantity=3, quoted=1200, approver=approver)
    # Written around the services on purpose: the contract row edited alone (no staff path does) changes nothing
    # charged; the charges read the terms timeline, which only an approved change or correction moves.
    oc.quoted_amount_yen = 9999
    oc.save()

    [line] = month_charges(month=FEB)

    assert (line.quantity, line.monthly_amount_yen, line.amount_yen) == (3, 3600, 3600)


def test_a_zero_yen_fee_still_gets_its_charge_line(regulation, approver):
    oc = contract_billed_from(dt.date(2026, 2, 10), IPV6, code="C000003", quantity=1, approver=approver)

    assert _summary(month_charges(month=FEB)) == [(oc.pk, "IIJ FiberAccess/F サービス", FEB, 19, 28, 0)]


def test_charges_read_the_terms_timeline_not_the_monthly_rows(sub, approver):
    """DOMAIN §3.16: a 月額費用 row reversed around the services changes nothing charged; only the timeline does
    (the service refuses such a reversal and points to the 訂正申込, tests/contracts/test_corrections.py)."""
    oc = contract_billed_from(FEB, subscriber=sub, quantity=20, approver=approver)
    wrong = monthly_row(oc)
    # Written around ledger_entry_reverse, which refuses it: the reversing row a defect or a script would write.
    with at(jst(2026, 2, 3, 9, 0)):
        save_with_history(
            reversal_row(wrong, arisen_at=jst(2026, 2, 3, 9, 0), actor=approver, reason="数量の入力誤り"),
            actor=approver,
            reason="数量の入力誤り",
        )

    [line] = month_charges(month=FEB)

    assert (line.quantity, line.days_billed, line.amount_yen) == (20, 28, 6000)


def test_a_migrated_contract_without_obligations_is_charged_on_its_own_terms(regulation):
    contract_migrated(dt.date(2010, 4, 1), code="C000001", quantity=20)

    [line] = month_charges(month=FEB)

    assert (line.quantity, line.days_billed, line.amount_yen) == (20, 28, 6000)


def test_a_day_in_billing_without_a_fee_in_force_is_an_error_never_zero_yen(regulation):
    # A contract from before the system: approval would have refused a 課金開始日 without a monthly fee in force.
    oc = contract_migrated(dt.date(2026, 1, 10), code="C000001", quantity=10)

    with pytest.raises(DomainError) as caught:
        month_charges(month=dt.date(2026, 1, 1))

    assert caught.value.message == (
        f"契約者 C000001 のオプション契約 #{oc.pk}: "
        "令和8年1月10日 (2026-01-10)時点で「IIJ セキュア Web プラットフォーム アカウント追加オプション機能 / "
        "IIJ セキュア Web プラットフォーム追加アカウント使用料」の月額費用が登録されていないため、"
        "月額料金を計算できません。規程管理担当に料金細目の登録を依頼してください。"
    )
    assert caught.value.article == "第4条"


def test_contracts_outside_the_month_are_not_charged(sub, approver):
    contract_billed_from(FEB, subscriber=sub, end_date=dt.date(2026, 2, 28), approver=approver)
    contract_billed_from(dt.date(2026, 4, 1), subscriber=sub, approver=approver)
    contract_approved(code="S0009", approver=approver, approved_at=jst(2026, 2, 1, 9, 0))  # no billing start yet

    assert month_charges(month=MAR) == []


def test_several_months_at_once_give_the_same_lines_as_each_month(sub, approver):
    contract_billed_from(
        dt.date(2026, 2, 15), subscriber=sub, quantity=10, end_date=dt.date(2026, 4, 10), approver=approver
    )

    together = [
        line for result in contract_charges(first_month=FEB, last_month=dt.date(2026, 4, 1)) for line in result.lines
    ]

    assert [(line.charge_month, line.amount_yen) for line in together] == [
        (FEB, 1500),
        (MAR, 3000),
        (dt.date(2026, 4, 1), 1000),  # 3,000 × 10 / 30
    ]
    assert together == month_charges(month=FEB) + month_charges(month=MAR) + month_charges(month=dt.date(2026, 4, 1))


@pytest.mark.parametrize("contracts", [10, 100])
def test_computing_a_month_takes_the_same_few_queries_however_many_contracts(
    contracts, regulation, approver, django_assert_num_queries
):
    for n in range(contracts):
        contract_billed_from(dt.date(2026, 2, 1 + n % 28), code=f"C{n:06d}", quantity=10, approver=approver)

    with django_assert_num_queries(3):
        lines = month_charges(month=FEB)

    assert len(lines) == contracts


@pytest.mark.parametrize(
    ("days", "policy", "expected"),
    [
        (14, Proration.DAILY, 1500),
        (28, Proration.DAILY, 3000),
        (1, Proration.DAILY, 107),  # 107.1… rounded down
        (27, Proration.DAILY, 2892),  # 2,892.8… rounded down, never up
        (0, Proration.DAILY, 0),
        (1, Proration.FULL_MONTH, 3000),
        (0, Proration.FULL_MONTH, 0),
    ],
)
def test_prorate_is_monthly_times_days_over_days_in_month_rounded_down(days, policy, expected):
    assert prorate(monthly_amount_yen=3000, days_billed=days, days_in_month=28, policy=policy) == expected


def test_prorate_refuses_more_days_than_the_month_has():
    with pytest.raises(ValueError):
        prorate(monthly_amount_yen=3000, days_billed=29, days_in_month=28)


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        (dt.date(2014, 3, 31), 5),
        (dt.date(2014, 4, 1), 8),
        (dt.date(2019, 9, 30), 8),
        (dt.date(2019, 10, 1), 10),
        (dt.date(2026, 2, 1), 10),
    ],
)
def test_tax_rate_is_the_one_in_force_on_the_charged_date(day, rate):
    assert tax_rate_on(day) == rate


def test_tax_is_rounded_down_on_the_total_and_toward_zero_for_refunds():
    assert tax_for(amount_yen=1999, rate_percent=10) == 199
    assert tax_for(amount_yen=1999, rate_percent=8) == 159  # 159.92
    assert tax_for(amount_yen=-1999, rate_percent=10) == -199
