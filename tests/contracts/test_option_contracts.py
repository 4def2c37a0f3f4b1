"""Option contracts after approval: 課金開始日, end, and migrated contracts (DOMAIN §3.13)."""

import datetime as dt

import pytest
import time_machine

from contracts.choices import LedgerKind, OptionContractStatus
from contracts.models import LedgerEntry, OptionContract
from contracts.services import (
    option_contract_end,
    option_contract_set_billing_start,
)
from core.clock import JST
from core.errors import DomainError
from tests.factories import (
    option,
    register_migrated_confirmed,
    review_and_approve,
    submit_new,
    subscriber_with_base,
    subscriber_with_line,
    variant,
)

pytestmark = pytest.mark.django_db

APPROVED_AT = dt.datetime(2026, 3, 10, 0, 15, tzinfo=JST)  # 2026-03-09 15:15 UTC


@pytest.fixture
def approved(regulation, clerk, approver):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk)
    with time_machine.travel(APPROVED_AT, tick=False):
        review_and_approve(submit_new(subscriber, "ipv6", "fiberaccess-f", actor=clerk), approver=approver)
    return OptionContract.objects.get()


def test_billing_start_writes_the_monthly_obligation_arising_on_that_date(approved, clerk):
    with time_machine.travel(dt.datetime(2026, 3, 11, 9, tzinfo=JST), tick=False):
        option_contract_set_billing_start(
            option_contract=approved, billing_start_date=dt.date(2026, 3, 15), actor=clerk
        )
    approved.refresh_from_db()
    assert (approved.status, approved.billing_start_date) == (OptionContractStatus.BILLING, dt.date(2026, 3, 15))
    row = LedgerEntry.objects.get()
    # 0円 (IPv6) still gets its row: the obligation exists, its amount is zero.
    assert (row.kind, row.amount_yen, row.unit_amount_yen, row.quantity) == (LedgerKind.MONTHLY, 0, 0, 1)
    assert (row.arisen_at, row.effective_from, row.booked_month) == (
        dt.datetime(2026, 3, 15, 0, 0, tzinfo=JST),
        dt.date(2026, 3, 15),
        dt.date(2026, 3, 1),
    )
    assert (row.revision.title, row.article, row.application) == (
        "令和8年2月1日変更",
        "第6条",
        approved.origin_application,
    )


def test_billing_start_not_before_the_approval_jst_date(approved, clerk):
    with pytest.raises(DomainError) as refused:
        option_contract_set_billing_start(option_contract=approved, billing_start_date=dt.date(2026, 3, 9), actor=clerk)
    assert str(refused.value) == (
        "課金開始日（令和8年3月9日 (2026-03-09)）は承諾日（令和8年3月10日 (2026-03-10)）より前にできません。（第6条）"
    )
    # The approval's JST date itself is allowed, though it is 3月9日 in UTC.
    option_contract_set_billing_start(option_contract=approved, billing_start_date=dt.date(2026, 3, 10), actor=clerk)


def test_billing_start_set_again_with_the_same_date_writes_nothing(approved, clerk):
    option_contract_set_billing_start(option_contract=approved, billing_start_date=dt.date(2026, 4, 1), actor=clerk)
    history = approved.history.count()
    option_contract_set_billing_start(option_contract=approved, billing_start_date=dt.date(2026, 4, 1), actor=clerk)
    assert (LedgerEntry.objects.count(), approved.history.count()) == (1, history)
    with pytest.raises(DomainError, match=r"課金開始日は令和8年4月1日 \(2026-04-01\)で登録済みです。誤りは訂正申込"):
        option_contract_set_billing_start(option_contract=approved, billing_start_date=dt.date(2026, 4, 2), actor=clerk)


def test_billing_start_of_a_date_with_no_fee_in_force_fails_clearly_never_0_yen(regulation, clerk):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk)
    contract = register_migrated_confirmed(
        subscriber=subscriber,
        option=option("ipv6"),
        variant=variant("ipv6", "fiberaccess-f"),
        contracted_on=dt.date(2020, 5, 1),
        base_contract=subscriber.base_contracts.get(),
        actor=clerk,
    )
    with pytest.raises(DomainError, match="令和2年6月1日 \\(2020-06-01\\)時点で「IPv6 接続オプション機能 / .*」の料金"):
        option_contract_set_billing_start(option_contract=contract, billing_start_date=dt.date(2020, 6, 1), actor=clerk)
    assert LedgerEntry.objects.count() == 0


def test_end_sets_the_last_day_and_the_status(approved, clerk, approver2):
    option_contract_set_billing_start(option_contract=approved, billing_start_date=dt.date(2026, 4, 1), actor=clerk)
    with pytest.raises(DomainError, match="オプション契約を解約する権限がありません。"):
        option_contract_end(option_contract=approved, end_date=dt.date(2026, 6, 30), actor=clerk, reason="解約")
    with pytest.raises(DomainError, match="変更理由を入力してください。"):
        option_contract_end(option_contract=approved, end_date=dt.date(2026, 6, 30), actor=approver2, reason="")
    with pytest.raises(DomainError, match="解約日（.*）は課金開始日（.*）より前にできません。"):
        option_contract_end(option_contract=approved, end_date=dt.date(2026, 3, 31), actor=approver2, reason="解約")
    option_contract_end(
        option_contract=approved, end_date=dt.date(2026, 6, 30), actor=approver2, reason="基本契約の終了"
    )
    approved.refresh_from_db()
    assert (approved.status, approved.end_date) == (OptionContractStatus.ENDED, dt.date(2026, 6, 30))
    history = approved.history.count()
    option_contract_end(option_contract=approved, end_date=dt.date(2026, 6, 30), actor=approver2, reason="再実行")
    assert approved.history.count() == history


def test_register_migrated_keeps_real_dates_without_approval_or_obligations(regulation, clerk, clerk2):
    subscriber = subscriber_with_line("b-flets", actor=clerk, confirmer=clerk2, start_date=dt.date(2010, 3, 1))
    contract = register_migrated_confirmed(
        subscriber=subscriber,
        option=option("b-flets"),
        variant=variant("b-flets", "type-e"),
        contracted_on=dt.date(2010, 4, 1),
        billing_start_date=dt.date(2010, 5, 1),
        carrier_line=subscriber.carrier_lines.get(),
        actor=clerk,
        reason="旧システムからの移行",
    )
    contract.refresh_from_db()
    assert (contract.migrated, contract.status, contract.contracted_on, contract.billing_start_date) == (
        True,
        OptionContractStatus.BILLING,
        dt.date(2010, 4, 1),
        dt.date(2010, 5, 1),
    )
    assert (contract.approved_at, contract.approved_by, contract.origin_application) == (None, None, None)
    assert LedgerEntry.objects.count() == 0
    registered, confirmed = contract.history.order_by("history_id")
    assert registered.history_change_reason == "旧システムからの移行"
    assert confirmed.history_change_reason == "移行データの確認（平成22年4月1日 (2010-04-01)から契約条件を適用）"


def test_register_migrated_needs_the_contract_its_condition_rests_on(regulation, clerk):
    subscriber = subscriber_with_base("web-standard2", actor=clerk)
    with pytest.raises(DomainError) as refused:
        register_migrated_confirmed(
            subscriber=subscriber,
            option=option("ipv6"),
            variant=variant("ipv6", "fiberaccess-f"),
            contracted_on=dt.date(2020, 5, 1),
            base_contract=subscriber.base_contracts.get(),
            actor=clerk,
        )
    assert str(refused.value) == (
        "IPv6 接続オプション機能の契約には IIJ FiberAccess/F サービスの基本サービス契約を指定してください（第5条）"
    )


def test_register_migrated_refuses_quantities_that_are_not_whole_blocks(regulation, clerk):
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk)
    with pytest.raises(DomainError, match="25アカウントは10の倍数ではありません"):
        register_migrated_confirmed(
            subscriber=subscriber,
            option=option("swp-accounts"),
            variant=variant("swp-accounts", "additional-accounts"),
            quantity=25,
            contracted_on=dt.date(2020, 5, 1),
            base_contract=subscriber.base_contracts.get(),
            actor=clerk,
        )
