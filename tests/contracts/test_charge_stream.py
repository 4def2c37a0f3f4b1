"""月額 streamed in the report's order (contracts.reports.charge_rows): frozen rows, the open month's computed charges
and its adjustments interleaved by subscriber code (code point order, whatever the database's collation), read in
chunks, and counted on the way so that 集計 needs no second pass."""

import datetime as dt

import pytest
import time_machine

from contracts.billing import charges as charges_module
from contracts.choices import CorrectionTarget, LedgerKind
from contracts.models import LedgerEntry
from contracts.reports import charge_rows as charge_rows_module
from contracts.reports import monthly_report
from contracts.reports.as_closed import closes_for
from contracts.reports.charge_rows import ChargeTally, charge_rows, charge_tally
from contracts.services.month_close import month_close
from tests.factories import (
    SWP_ACCOUNTS,
    TYPE_A,
    contract_billed_from,
    contract_correct,
    jst,
    ledger_reverse_at,
    subscriber_for,
)

pytestmark = pytest.mark.django_db

FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)
# In code point order; a locale's collation would sort them otherwise (it ignores "-" and folds case).
CODES = ["A-2", "A1", "B.1", "B/1", "a-1", "a0", "b_9"]


def _at(*args):
    return time_machine.travel(jst(*args), tick=False)


@pytest.fixture
def book(regulation, approver, accounting):
    """Subscribers whose codes sort differently by code point and by a locale, two of them with two contracts;
    February closed; then, in March, one contract's billing start corrected backwards (an adjustment of February)
    and one February charge refunded (a frozen row of March's 月額)."""
    contracts = []
    for index, code in enumerate(reversed(CODES)):  # created out of order: ids do not give the order either
        keys = (SWP_ACCOUNTS, TYPE_A) if index % 3 == 0 else (SWP_ACCOUNTS,)
        sub = subscriber_for(*keys, code=code, name=f"株式会社{index}")
        for key in keys:
            quoted = 5000 if key == TYPE_A else None
            start = dt.date(2026, 2, 1 + index)
            contracts.append(
                contract_billed_from(
                    start,
                    key,
                    subscriber=sub,
                    quantity=10 * (1 + index % 3),
                    quoted=quoted,
                    approved_at=jst(2026, 2, 1, 9, 0),
                    approver=approver,
                )
            )
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    corrected = next(oc for oc in contracts if oc.billing_start_date != FEB)
    # The 課金開始日 was really 2/1: a 訂正申込 approved in March (an adjustment of the closed February).
    contract_correct(
        corrected,
        approver=approver,
        approved_at=jst(2026, 3, 3, 9, 0),
        target=CorrectionTarget.BILLING_START,
        corrected_date=FEB,
    )
    refunded = LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE, option_contract=contracts[-1]).get()
    ledger_reverse_at(refunded, actor=approver, at_instant=jst(2026, 3, 3, 10, 0), reason="返金")
    return contracts


def test_the_charges_stream_in_the_report_order_by_code_point(book):
    rows = list(monthly_report(month=MAR).charge_rows)
    assert rows == sorted(rows, key=lambda r: r.sort_key)
    assert [r.subscriber_code for r in rows if r.kind == LedgerKind.MONTHLY_CHARGE and r.ledger_id is None] == [
        oc.subscriber.code for oc in sorted(book, key=lambda oc: (oc.subscriber.code, oc.pk))
    ]
    kinds = {(r.kind, r.ledger_id is not None) for r in rows}
    # computed charges, an adjustment computed now, and a frozen refund row: all three streams are in it
    assert kinds == {
        (LedgerKind.MONTHLY_CHARGE, False),
        (LedgerKind.ADJUSTMENT, False),
        (LedgerKind.MONTHLY_CHARGE, True),
    }


def test_a_closed_months_charges_stream_in_the_same_order(book):
    rows = list(monthly_report(month=FEB).charge_rows)
    assert [r.subscriber_code for r in rows] == sorted(r.subscriber_code for r in rows)
    assert rows == sorted(rows, key=lambda r: r.sort_key)
    assert len(rows) == len(book)


def test_the_charges_read_in_small_chunks_are_the_same_rows(book, monkeypatch):
    whole = list(charge_rows(closes_for(MAR)))
    monkeypatch.setattr(charge_rows_module, "BATCH", 2)
    monkeypatch.setattr(charges_module, "CHUNK_SIZE", 2)
    assert list(charge_rows(closes_for(MAR))) == whole


def test_a_whole_pass_leaves_the_totals_and_a_closed_months_totals_are_its_rows_grouped(book):
    for month in (FEB, MAR):
        passed = ChargeTally()
        rows = list(charge_rows(closes_for(month), passed))
        counted = charge_tally(closes_for(month))
        assert passed.complete and counted.complete
        assert (counted.rows, dict(counted.per_line), dict(counted.per_month)) == (
            len(rows),
            dict(passed.per_line),
            dict(passed.per_month),
        )
        assert counted.rows == len(rows) and sum(a for _, a in counted.per_line.values()) == sum(
            r.amount_yen for r in rows
        )


def test_the_summary_after_the_charges_computes_nothing_again(book, django_assert_max_num_queries):
    report = monthly_report(month=MAR)
    rows = list(report.charge_rows)
    with django_assert_max_num_queries(3):  # 集計's own reads (obligations, options), not a second pass of 月額
        summary = report.summary
    assert sum(line.amount_yen for line in summary.lines if line.kind != LedgerKind.INITIAL) == sum(
        r.amount_yen for r in rows
    )
