"""bulk_append_with_history: the close's fast write gives the rows and history the ORM path gives."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from simple_history.utils import bulk_create_with_history

from contracts.choices import LedgerKind
from contracts.models import LedgerEntry
from core import clock
from core.history_write import bulk_append_with_history, system_user
from options.models import FeeItem
from tests.factories import contract_approved, jst

pytestmark = pytest.mark.django_db

RECORD = [f.attname for f in LedgerEntry._meta.concrete_fields if f.attname not in ("id", "created_at")]
HISTORY = [*RECORD, "history_change_reason", "history_type", "history_user_id"]


def _rows(contract, fee_item, actor, n, reason):
    return [
        dict(
            kind=LedgerKind.MONTHLY_CHARGE,
            option_contract_id=contract.pk,
            fee_item_id=fee_item.pk,
            revision_id=fee_item.revision_id,
            article="第4条",
            quantity=10,
            blocks=1,
            unit_amount_yen=3000,
            amount_yen=100 + i,
            arisen_at=clock.jst_midnight(dt.date(2026, 2, 1)),
            booked_month=dt.date(2026, 2, 1),
            charge_month=dt.date(2026, 2, 1 + i),
            days_billed=1,
            days_in_month=28,
            reason=reason,
            created_by_id=actor.pk,
        )
        for i in range(n)
    ]


def test_bulk_append_writes_what_bulk_create_with_history_writes(regulation, approver):
    contract = contract_approved(code="B000001", approver=approver, approved_at=jst(2026, 2, 1, 9, 0))
    twin = contract_approved(code="B000003", approver=approver, approved_at=jst(2026, 2, 1, 9, 0))
    fee_item = FeeItem.objects.filter(variant=contract.variant).first()
    actor = system_user()

    orm = [LedgerEntry(**row) for row in _rows(twin, fee_item, actor, 5, "ORM")]
    bulk_create_with_history(orm, LedgerEntry, default_user=actor, default_change_reason="締め")
    rows = (row for row in _rows(contract, fee_item, actor, 5, "COPY"))  # a generator, as the close gives
    assert bulk_append_with_history(LedgerEntry, rows, actor=actor, reason="締め", batch_size=2) == 5

    def values(reason):
        rows = LedgerEntry.objects.filter(reason=reason).order_by("charge_month")
        history = LedgerEntry.history.filter(reason=reason).order_by("charge_month")
        return list(rows.values_list(*RECORD)), list(history.values_list(*HISTORY)), rows, history

    orm_rows, orm_history, _, _ = values("ORM")
    fast_rows, fast_history, records, history = values("COPY")
    apart = ("reason", "option_contract_id")  # what tells the two sets apart; everything else must be equal

    def strip(rows):
        return [tuple(v for k, v in zip(HISTORY, r, strict=False) if k not in apart) for r in rows]

    assert strip(fast_rows) == strip(orm_rows) and len(fast_rows) == 5
    assert strip(fast_history) == strip(orm_history)
    assert [h.id for h in history] == [r.pk for r in records]
    assert all(h.history_change_reason == "締め" and h.history_user == actor for h in history)
    assert all(r.created_at is not None for r in records)


def test_bulk_append_refuses_nothing_and_writes_nothing_for_no_rows():
    assert bulk_append_with_history(LedgerEntry, [], actor=None, reason="") == 0
    assert not LedgerEntry.objects.exists() and not LedgerEntry.history.exists()


@pytest.mark.postgres
def test_the_ledger_trigger_still_refuses_an_update_of_a_row_written_by_copy(regulation, approver):
    contract = contract_approved(code="B000002", approver=approver, approved_at=jst(2026, 2, 1, 9, 0))
    fee_item = FeeItem.objects.filter(variant=contract.variant).first()
    bulk_append_with_history(
        LedgerEntry, _rows(contract, fee_item, system_user(), 1, "COPY"), actor=system_user(), reason="締め"
    )
    pk = LedgerEntry.objects.get(reason="COPY").pk
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE contracts_ledgerentry SET amount_yen = 1 WHERE id = %s", [pk])
