"""The fee-obligation ledger (DOMAIN §2): append-only; a correction is a reversing row."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, OptionContract
from contracts.services import ledger_entry_reverse, option_contract_set_billing_start
from core.clock import JST
from core.errors import DomainError
from options.choices import FeeKind
from tests.factories import add_fee_item, review_and_approve, submit_new, subscriber_with_base

pytestmark = pytest.mark.django_db

REFUSED = "支払義務台帳の行は{}できません。訂正は取消行で行ってください。"


@pytest.fixture
def entry(regulation, clerk, approver, tariff_manager):
    """An 初期費用 row of 6,000円: money of its own, which staff may reverse by hand."""
    add_fee_item(
        "swp-accounts",
        "additional-accounts",
        FeeKind.INITIAL,
        6000,
        revision_on=dt.date(2026, 2, 1),
        actor=tariff_manager,
    )
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk)
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=JST), tick=False):
        review_and_approve(
            submit_new(subscriber, "swp-accounts", "additional-accounts", quantity=20, actor=clerk), approver=approver
        )
    return LedgerEntry.objects.get()


@pytest.fixture
def monthly(entry, clerk):
    with time_machine.travel(dt.datetime(2026, 3, 2, 11, tzinfo=JST), tick=False):
        option_contract_set_billing_start(
            option_contract=OptionContract.objects.get(), billing_start_date=dt.date(2026, 3, 2), actor=clerk
        )
    return LedgerEntry.objects.get(kind=LedgerKind.MONTHLY)


def test_ledger_append_only_model_save_of_an_existing_row_is_refused(entry):
    entry.amount_yen = 1
    with pytest.raises(TypeError, match=REFUSED.format("変更")):
        entry.save()
    entry.refresh_from_db()
    assert entry.amount_yen == 6000


def test_ledger_append_only_model_delete_is_refused(entry):
    with pytest.raises(TypeError, match=REFUSED.format("削除")):
        entry.delete()
    assert LedgerEntry.objects.count() == 1


def test_ledger_append_only_queryset_update_and_delete_are_refused(entry):
    with pytest.raises(TypeError, match=REFUSED.format("変更")):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_yen=1)
    with pytest.raises(TypeError, match=REFUSED.format("削除")):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get().amount_yen == 6000


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("sql", "operation"),
    [
        ("UPDATE contracts_ledgerentry SET amount_yen = 1", "UPDATE"),
        ("DELETE FROM contracts_ledgerentry", "DELETE"),
        ("TRUNCATE contracts_ledgerentry CASCADE", "TRUNCATE"),
    ],
)
def test_ledger_append_only_the_postgresql_trigger_refuses_raw_sql(entry, sql, operation):
    from django.db.utils import ProgrammingError

    with pytest.raises(ProgrammingError) as refused, transaction.atomic(), connection.cursor() as cursor:
        # Run the test transaction's deferred FK checks now: TRUNCATE refuses a table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql)
    assert f"支払義務台帳は追記のみです（{operation} は禁止されています）" in str(refused.value)
    assert LedgerEntry.objects.get().amount_yen == 6000


def test_ledger_reverse_appends_a_negated_row_booked_in_the_month_of_the_reversal(entry, approver2):
    with time_machine.travel(dt.datetime(2026, 5, 1, 0, 10, tzinfo=JST), tick=False):  # 2026-04-30 UTC
        reversal = ledger_entry_reverse(entry=entry, reason="金額の入力誤り", actor=approver2)
    reversal.refresh_from_db()
    assert (reversal.reverses, reversal.kind, reversal.amount_yen, reversal.reason) == (
        entry,
        LedgerKind.INITIAL,
        -6000,
        "金額の入力誤り",
    )
    assert (reversal.arisen_at, reversal.booked_month, reversal.created_by) == (
        dt.datetime(2026, 5, 1, 0, 10, tzinfo=JST),
        dt.date(2026, 5, 1),
        approver2,
    )
    assert (reversal.fee_item, reversal.revision, reversal.quantity, reversal.application) == (
        entry.fee_item,
        entry.revision,
        20,
        entry.application,
    )
    entry.refresh_from_db()
    assert entry.amount_yen == 6000  # the original row is never edited


def test_ledger_reverse_needs_a_reason(entry, approver):
    with pytest.raises(DomainError, match="取消の理由を入力してください。"):
        ledger_entry_reverse(entry=entry, reason=" ", actor=approver)
    assert LedgerEntry.objects.count() == 1


def test_ledger_reverse_a_row_once_only(entry, approver2, approver3):
    first = ledger_entry_reverse(entry=entry, reason="誤り", actor=approver2)
    with pytest.raises(DomainError, match=f"支払義務 #{entry.pk} は取消済みです（取消行 #{first.pk}"):
        ledger_entry_reverse(entry=entry, reason="誤り", actor=approver3)
    with pytest.raises(DomainError, match="取消行のため、取り消せません"):
        ledger_entry_reverse(entry=first, reason="取消の取消", actor=approver3)
    assert LedgerEntry.objects.count() == 2


def test_ledger_reverse_four_eyes_the_approver_of_the_row_cannot_reverse_it(entry, approver):
    with pytest.raises(DomainError, match="承諾した職員は、その支払義務を取り消せません"):
        ledger_entry_reverse(entry=entry, reason="誤り", actor=approver)
    assert LedgerEntry.objects.count() == 1


def test_ledger_reverse_of_a_monthly_row_is_refused_pointing_to_the_correction(monthly, approver2):
    with pytest.raises(DomainError) as refused:
        ledger_entry_reverse(entry=monthly, reason="課金開始日の誤り", actor=approver2)
    assert refused.value.code == "reverse_needs_correction"
    assert "訂正申込で訂正してください" in refused.value.message
    assert LedgerEntry.objects.count() == 2  # the initial row and the monthly row, nothing more


def test_ledger_reverse_once_is_held_by_the_database_when_the_service_is_bypassed(entry, approver2):
    first = ledger_entry_reverse(entry=entry, reason="誤り", actor=approver2)
    again = LedgerEntry(
        **{
            f.attname: getattr(first, f.attname)
            for f in LedgerEntry._meta.concrete_fields
            if f.attname not in ("id", "created_at")
        }
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()


def test_ledger_reverse_needs_the_role(entry, clerk):
    with pytest.raises(DomainError, match="支払義務を取り消す権限がありません。"):
        ledger_entry_reverse(entry=entry, reason="誤り", actor=clerk)
