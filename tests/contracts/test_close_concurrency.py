"""A close that does not stop the office (PostgreSQL): approvals and billing starts during a month close complete
at once, and what they owe lands in the close or in the next month's adjustments, never in neither, never twice.
"""

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connections

from contracts.billing.closed_scope import closes_for, ledger_scope
from contracts.billing.seal import ledger_verify
from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, MonthClose, MonthCloseSummary
from contracts.reports import monthly_report
from contracts.reports.figures import stored_summary
from contracts.reports.layout import OBLIGATION_KINDS
from contracts.services import month_close as month_close_module
from contracts.services.month_close import month_close, month_close_run
from contracts.services.option_contracts import option_contract_set_billing_start
from core.history_write import system_user
from options.choices import FeeKind
from tests.factories import (
    add_fee_item,
    contract_approved,
    contract_billed_from,
    jst,
    review_and_approve,
    submit_new,
    subscriber_with_base,
)

pytestmark = [pytest.mark.postgres]

FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def _at(*args):
    return time_machine.travel(jst(*args), tick=False)


@pytest.fixture
def book(transactional_db, regulation, approver, clerk):
    add_fee_item(
        "swp-accounts", "additional-accounts", FeeKind.INITIAL, 2000, revision_on=FEB, actor=system_user(), name="初期"
    )
    billed = []
    for n in range(4):
        billed.append(contract_billed_from(FEB, code=f"C{n:06d}", quantity=10, approver=approver, clerk=clerk))
    # Approved in January, its 課金開始日 not yet entered: staff enter 2/10 while February is being closed.
    late = contract_approved(
        code="L000001", quantity=10, approved_at=jst(2026, 1, 20, 10, 0), approver=approver, clerk=clerk
    )
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk, code="N000001")
    application = submit_new(subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    return {"billed": billed, "late": late, "application": application}


def _paused_close(monkeypatch, accounting):
    """Start closing February in a thread of its own, pausing after its first batch until told to go on."""
    monkeypatch.setattr(month_close_module, "BATCH_SIZE", 1)
    paused, resume, outcome = threading.Event(), threading.Event(), {}

    def progress(done, total, written):
        if written == 1:
            paused.set()
            resume.wait(timeout=30)

    def run():
        try:
            with _at(2026, 3, 2, 9, 0):
                outcome["result"] = month_close_run(month=FEB, actor=accounting, progress=progress)
        except Exception as error:  # reported by the assertions
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    assert paused.wait(timeout=30), outcome
    return thread, resume, outcome


def _timed(action):
    """Run `action` in its own thread and connection (another staff member's request); return its seconds."""
    seconds, errors = [], []

    def run():
        started = time.monotonic()
        try:
            with _at(2026, 3, 2, 9, 1):
                action()
        except Exception as error:  # reported by the assertion
            errors.append(error)
        finally:
            seconds.append(time.monotonic() - started)
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert errors == [] and seconds, errors
    return seconds[0]


def test_an_approval_and_a_billing_start_during_a_close_complete_at_once_and_land_exactly_once(
    book, monkeypatch, approver, clerk, accounting
):
    thread, resume, outcome = _paused_close(monkeypatch, accounting)
    try:
        # The close has written a batch and holds its transaction open: the office goes on.
        approval = _timed(lambda: review_and_approve(book["application"], approver=approver))
        billing_start = _timed(
            lambda: option_contract_set_billing_start(
                option_contract=book["late"], billing_start_date=dt.date(2026, 2, 10), actor=clerk
            )
        )
    finally:
        resume.set()
        thread.join(timeout=60)
    assert "error" not in outcome, outcome
    assert approval < 1.0 and billing_start < 1.0, (approval, billing_start)

    late = book["late"]
    february = MonthClose.objects.get(month=FEB)
    # The close read at its snapshot, taken before either: February's charges are the four contracts billed then.
    assert february.charge_rows == 4
    assert not LedgerEntry.objects.filter(option_contract=late, kind=LedgerKind.MONTHLY_CHARGE).exists()
    # Each obligation is in the ledger once.
    assert LedgerEntry.objects.filter(application=book["application"], kind=LedgerKind.INITIAL).count() == 1
    assert LedgerEntry.objects.filter(option_contract=late, kind=LedgerKind.MONTHLY).count() == 1
    # The late contract's 月額費用 row is booked into February below the close's watermark, committed beside its
    # snapshot: February's report reads it, so its seal covers it (read on a connection of its own) and verifies.
    obligation = LedgerEntry.objects.get(option_contract=late, kind=LedgerKind.MONTHLY)
    assert obligation.booked_month == FEB and february.ledger_seen_watermark < obligation.pk < february.ledger_watermark
    assert february.seal.row_count == LedgerEntry.objects.filter(ledger_scope(closes_for(FEB))).count()
    assert [(c.month, c.ok) for c in ledger_verify()] == [(FEB, True)]
    # The 集計 the close stored is the report's, that row included.
    with _at(2026, 3, 2, 10, 0):
        report = monthly_report(month=FEB).summary
    stored = stored_summary(MonthCloseSummary.objects.get(close=february))
    assert (stored.total_excl_yen, stored.total_tax_yen) == (report.total_excl_yen, report.total_tax_yen)

    # The next close books February's charge of the late contract as an adjustment, once: 3,000円 × 19/28.
    with _at(2026, 4, 2, 9, 0):
        month_close(month=MAR, actor=accounting)
        month_close(month=MAR, actor=accounting)
    late_february = list(
        LedgerEntry.objects.filter(option_contract=late, charge_month=FEB)
        .filter(kind__in=[LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT])
        .values_list("kind", "booked_month", "amount_yen")
    )
    assert late_february == [(LedgerKind.ADJUSTMENT, MAR, 3000 * 19 // 28)]
    # The contracts the close did see get no adjustment: what it froze was right.
    assert not LedgerEntry.objects.filter(kind=LedgerKind.ADJUSTMENT).exclude(option_contract=late).exists()
    # Every obligation row (the 明細) belongs to exactly one month's report.
    with _at(2026, 4, 2, 9, 0):
        ids = [row[0] for month in (FEB, MAR, dt.date(2026, 4, 1)) for row in monthly_report(month=month).detail_rows]
    assert sorted(ids) == sorted(LedgerEntry.objects.filter(kind__in=OBLIGATION_KINDS).values_list("pk", flat=True))
    assert [(c.month, c.ok) for c in ledger_verify()] == [(FEB, True), (MAR, True)]


def test_a_close_waits_only_for_the_writes_already_under_way_and_then_sees_them(book, clerk, accounting, monkeypatch):
    """A billing start whose transaction is open when the close begins is waited for (it holds the ledger) and is
    in the close."""
    in_write, release, errors = threading.Event(), threading.Event(), []
    from contracts.services import option_contracts

    original = option_contracts.ledger_append_monthly_for_later_periods

    def then_hold(**kwargs):
        original(**kwargs)
        in_write.set()  # the obligation is written, its transaction still open
        release.wait(timeout=30)

    monkeypatch.setattr(option_contracts, "ledger_append_monthly_for_later_periods", then_hold)

    def slow_billing_start():
        try:
            with _at(2026, 3, 2, 8, 59):
                option_contract_set_billing_start(
                    option_contract=book["late"], billing_start_date=dt.date(2026, 2, 10), actor=clerk
                )
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_billing_start)
    writer.start()
    assert in_write.wait(timeout=30), errors
    closer_done = {}

    def close():
        try:
            with _at(2026, 3, 2, 9, 0):
                closer_done["close"] = month_close(month=FEB, actor=accounting)
        finally:
            connections.close_all()

    closer = threading.Thread(target=close)
    closer.start()
    time.sleep(0.3)
    release.set()
    writer.join(timeout=30)
    closer.join(timeout=60)
    assert errors == []
    assert closer_done["close"].charge_rows == 5
    assert LedgerEntry.objects.get(option_contract=book["late"], kind=LedgerKind.MONTHLY_CHARGE).amount_yen == (
        3000 * 19 // 28
    )
