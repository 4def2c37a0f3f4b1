"""Month close (DOMAIN §3.11): one set-based write, once, all or nothing; adjustments go to the first open month."""

import datetime as dt
import math
import threading

import pytest
import time_machine
from django.db import IntegrityError, connection, connections
from django.test.utils import CaptureQueriesContext

from contracts.choices import CorrectionTarget, LedgerKind
from contracts.models import LedgerEntry, MonthClose
from contracts.reports import export_response_chunks, monthly_report
from contracts.services import month_close as month_close_module
from contracts.services import option_contract_end, subscriber_update
from contracts.services.month_close import month_close
from core.errors import DomainError
from core.history_write import system_user
from options.models import Option, OptionVariant
from tests.factories import (
    contract_billed_from,
    contract_change,
    contract_correct,
    contract_migrated,
    entry_clerk,
    jst,
    monthly_row,
)

pytestmark = pytest.mark.django_db

JAN, FEB, MAR, APR = (dt.date(2026, m, 1) for m in (1, 2, 3, 4))


def _at(*args):
    return time_machine.travel(jst(*args), tick=False)


def _charges(**filters):
    return list(
        LedgerEntry.objects.filter(kind__in=[LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT], **filters)
        .order_by("pk")
        .values_list("kind", "option_contract_id", "charge_month", "booked_month", "days_billed", "amount_yen")
    )


def _all_exports(month) -> dict[str, bytes]:
    files = {}
    for fmt, part in (
        ("csv", "detail"),
        ("csv", "charges"),
        ("csv", "summary"),
        ("csv-cp932", "detail"),
        ("xlsx", None),
    ):
        _name, _type, chunks = export_response_chunks(month=month, fmt=fmt, part=part)
        files[f"{fmt}-{part}"] = b"".join(chunks)
    return files


@pytest.fixture
def billed(regulation, approver):
    """Three contracts in February: from 2/15 (1,500円), whole month (3,000円), 30 accounts (9,000円)."""
    contracts = []
    for n, (start, quantity) in enumerate(((dt.date(2026, 2, 15), 10), (dt.date(2026, 2, 1), 10), (FEB, 30))):
        contracts.append(
            contract_billed_from(start, code=f"C{n:06d}", name=f"株式会社{n}", quantity=quantity, approver=approver)
        )
    return contracts


def test_closing_writes_one_charge_row_per_contract_and_fee_item_and_marks_the_month_closed(billed, accounting):
    with _at(2026, 3, 2, 9, 30):
        close = month_close(month=FEB, actor=accounting)

    rows = LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE).order_by("option_contract_id")
    assert [
        (r.option_contract_id, r.charge_month, r.booked_month, r.days_billed, r.days_in_month, r.amount_yen)
        for r in rows
    ] == [
        (billed[0].pk, FEB, FEB, 14, 28, 1500),
        (billed[1].pk, FEB, FEB, 28, 28, 3000),
        (billed[2].pk, FEB, FEB, 28, 28, 9000),
    ]
    first = rows[0]
    assert (first.quantity, first.blocks, first.unit_amount_yen, first.article, first.created_by) == (
        10,
        1,
        3000,
        "第4条",
        accounting,
    )
    assert first.arisen_at == jst(2026, 2, 1) and first.reverses is None and first.application is None
    assert first.history.get().history_change_reason == "令和8年2月 (2026-02)の月次締め"
    assert first.history.get().history_user == accounting
    assert (close.month, close.closed_at, close.closed_by, close.charge_rows, close.adjustment_rows) == (
        FEB,
        jst(2026, 3, 2, 9, 30),
        accounting,
        3,
        0,
    )
    assert close.ledger_watermark == LedgerEntry.objects.latest("pk").pk
    assert monthly_report(month=FEB).is_closed


def _close_queries(contracts: int, approver) -> list[str]:
    for n in range(contracts):
        contract_billed_from(dt.date(2026, 2, 1 + n % 28), code=f"C{n:06d}", quantity=10, approver=approver)
    system = system_user()
    with _at(2026, 3, 2, 9, 0), CaptureQueriesContext(connection) as captured:
        month_close(month=FEB, actor=system)
    assert LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE).count() == contracts
    return [q["sql"] for q in captured.captured_queries]


# The month's 集計 stored with the close (contracts.services.report_figures): its closes, the billed obligations and the
# charges grouped, the options and their names at the close, the summary's check and insert.
SUMMARY_QUERIES = 12


@pytest.mark.parametrize("contracts", [10, 100])
def test_closing_takes_a_bounded_number_of_statements_whatever_the_rows(contracts, regulation, approver):
    queries = _close_queries(contracts, approver)
    inserts = [q for q in queries if q.startswith('INSERT INTO "contracts_ledgerentry"')]

    if connection.vendor == "postgresql":
        # The charge rows and their history go by COPY (not captured here): no INSERT per row or per batch. The
        # rest (the advisory lock, the short lock with its timeout, closes, fee schedule, a chunk of contracts and
        # their terms, ids, watermarks at the start and the ledger's at the end, the MonthClose and its history) is
        # the same for 10 rows or 100. The seal adds at most sixteen: its lock (twice), the closes before it without
        # a seal, the seal already there, the month's closes, the previous seal, per part of the month (one or two)
        # its cursor with the plan's setting taken, set and restored, and the seal with its history.
        assert inserts == []
        assert len(queries) <= 25 + SUMMARY_QUERIES + 16, "\n".join(queries)
    else:
        # SQLite caps a statement at 999 parameters, so Django splits the insert (and its history insert) into
        # batches; everything else is the same (the seal's eight statements included).
        batch = connection.ops.bulk_batch_size(LedgerEntry._meta.concrete_fields[1:], [None] * contracts)
        assert len(inserts) == math.ceil(contracts / batch)
        assert len(queries) <= 17 + SUMMARY_QUERIES + 8 + 2 * (len(inserts) - 1), "\n".join(queries)


def test_closing_twice_writes_nothing_more_and_returns_the_first_close(billed, accounting):
    with _at(2026, 3, 2, 9, 0):
        first = month_close(month=FEB, actor=accounting)
    before = _charges()
    history_rows = LedgerEntry.history.count()

    with _at(2026, 3, 3, 9, 0):
        again = month_close(month=FEB, actor=accounting)

    assert again == first and again.closed_at == jst(2026, 3, 2, 9, 0)
    assert _charges() == before and len(before) == 3
    assert LedgerEntry.history.count() == history_rows
    assert MonthClose.objects.count() == 1


def test_a_close_killed_half_way_leaves_nothing(billed, accounting, monkeypatch):
    def insert_half_then_die(model, rows, **kwargs):
        rows = list(rows)
        model.objects.bulk_create([model(**row) for row in rows[: len(rows) // 2]])
        raise RuntimeError("killed")

    monkeypatch.setattr(month_close_module, "bulk_append_with_history", insert_half_then_die)

    with _at(2026, 3, 2, 9, 0), pytest.raises(RuntimeError):
        month_close(month=FEB, actor=accounting)

    assert _charges() == []
    assert not MonthClose.objects.exists()
    monkeypatch.undo()
    with _at(2026, 3, 2, 9, 5):
        month_close(month=FEB, actor=accounting)
    assert len(_charges()) == 3


def test_the_unique_constraint_refuses_a_second_charge_for_the_same_contract_fee_and_month(billed, accounting):
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    frozen = LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE).first()
    frozen.pk = None
    frozen._state.adding = True

    with pytest.raises(IntegrityError):
        frozen.save()


def test_a_month_that_has_not_ended_cannot_be_closed(billed, accounting):
    with _at(2026, 2, 28, 23, 59), pytest.raises(DomainError) as caught:
        month_close(month=FEB, actor=accounting)

    assert caught.value.message == (
        "令和8年2月 (2026-02)はまだ終わっていないため締められません（締めは翌月1日以降に行います）。"
    )
    assert _charges() == []


def test_months_close_in_order_after_the_first_close(billed, accounting):
    with _at(2026, 5, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
        with pytest.raises(DomainError) as skipped:
            month_close(month=APR, actor=accounting)
        with pytest.raises(DomainError) as earlier:
            month_close(month=JAN, actor=accounting)

    assert (
        skipped.value.message == "先に令和8年3月 (2026-03)を締めてください"
        "（月次締めは月の順に行います。最後に締めた月: 令和8年2月 (2026-02)）。"
    )
    assert earlier.value.message == (
        "令和8年1月 (2026-01)は最初の締め月（令和8年2月 (2026-02)）より前のため締められません。"
    )
    assert list(MonthClose.objects.values_list("month", flat=True)) == [FEB]


def test_staff_without_the_close_permission_cannot_close(billed, clerk):
    with _at(2026, 3, 2, 9, 0), pytest.raises(DomainError) as caught:
        month_close(month=FEB, actor=clerk)

    assert caught.value.message == "月次締めの権限がありません。"


def test_a_month_without_charges_still_closes(regulation, accounting):
    with _at(2026, 3, 2, 9, 0):
        close = month_close(month=FEB, actor=accounting)

    assert (close.charge_rows, close.adjustment_rows) == (0, 0)


def test_a_missing_fee_refuses_the_close_and_writes_nothing(regulation, approver, accounting):
    # A contract from before the system: approval would have refused a 課金開始日 without a monthly fee in force.
    contract_migrated(dt.date(2026, 1, 20), code="C000001")

    with _at(2026, 2, 2, 9, 0), pytest.raises(DomainError) as caught:
        month_close(month=JAN, actor=accounting)

    assert caught.value.code == "unpriced_contracts"
    assert caught.value.message.startswith(
        "令和8年1月 (2026-01)は、月額料金を計算できない契約が1件あるため締められません。"
    )
    assert "・契約者 C000001 のオプション契約 #" in caught.value.message
    assert "月額費用が登録されていないため" in caught.value.message
    assert not MonthClose.objects.exists() and _charges() == []


def test_the_open_months_report_is_the_closed_months_report_until_something_changes(billed, accounting):
    provisional = _all_exports(FEB)
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    closed = _all_exports(FEB)

    for key in ("csv-detail", "csv-charges", "csv-cp932-detail"):
        assert closed[key] == provisional[key]
    assert closed["csv-summary"] == provisional["csv-summary"].replace(
        "速報（締め前の見込み）".encode(), "確定（2026-03-02 09:00 締め）".encode()
    )


def test_a_late_cancellation_is_adjusted_in_the_first_open_month_and_the_closed_month_never_changes(
    regulation, approver, accounting
):
    oc = contract_billed_from(FEB, code="C000001", name="株式会社さくら", quantity=10, approver=approver)
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    february = _all_exports(FEB)

    # 3/5: the cancellation arrives late: service ended on 2/10. The subscriber has a new name too.
    with _at(2026, 3, 5, 10, 0):
        option_contract_end(option_contract=oc, end_date=dt.date(2026, 2, 10), actor=approver, reason="解約の申出")
        subscriber_update(
            subscriber=oc.subscriber, name="株式会社さくら（新社名）", actor=entry_clerk(), reason="社名変更"
        )

    march = monthly_report(month=MAR)
    assert [(r.kind, r.charge_month, r.days_billed, r.amount_yen, r.reason) for r in march.charge_rows] == [
        # 3,000 × 10/28 = 1,071 now, 3,000 frozen: −1,929.
        (LedgerKind.ADJUSTMENT, FEB, 10, -1929, "令和8年2月 (2026-02)分（締め済み）の訂正"),
    ]
    assert march.summary.total_excl_yen == -1929 and march.summary.total_tax_yen == -192
    assert _all_exports(FEB) == february  # closed: same bytes, old name and all

    with _at(2026, 4, 1, 9, 0):
        close = month_close(month=MAR, actor=accounting)
    assert (close.charge_rows, close.adjustment_rows) == (0, 1)
    assert _charges(kind=LedgerKind.ADJUSTMENT) == [(LedgerKind.ADJUSTMENT, oc.pk, FEB, MAR, 10, -1929)]
    assert [r.subscriber_name for r in monthly_report(month=MAR).charge_rows] == ["株式会社さくら（新社名）"]
    assert _all_exports(FEB) == february

    with _at(2026, 5, 1, 9, 0):
        april = month_close(month=APR, actor=accounting)
    assert (april.charge_rows, april.adjustment_rows) == (0, 0)  # booked once, never again


def test_a_billing_start_corrected_backwards_is_adjusted_and_listed_in_the_open_month(regulation, approver, accounting):
    oc = contract_billed_from(
        dt.date(2026, 2, 15), code="C000001", quantity=10, approved_at=jst(2026, 2, 1, 9, 0), approver=approver
    )
    wrong = monthly_row(oc)
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    february = _all_exports(FEB)

    # 3/3: the billing start was really 2/1: the 訂正申込 reverses the 2/15 obligation and writes a 2/1 one.
    contract_correct(
        oc,
        approver=approver,
        approved_at=jst(2026, 3, 3, 10, 0),
        target=CorrectionTarget.BILLING_START,
        corrected_date=FEB,
    )
    reversal = LedgerEntry.objects.get(reverses=wrong)
    corrected = monthly_row(oc)
    assert corrected.booked_month == FEB  # booked into the closed month …

    march = monthly_report(month=MAR)
    # … so it is listed in the first open month, beside the reversal; February keeps its bytes.
    assert [row[0] for row in march.detail_rows] == [corrected.pk, reversal.pk]
    assert [row[0] for row in monthly_report(month=FEB).detail_rows] == [wrong.pk]
    assert [(r.kind, r.charge_month, r.days_billed, r.amount_yen) for r in march.charge_rows] == [
        (LedgerKind.ADJUSTMENT, FEB, 28, 1500),  # 3,000 now − 1,500 frozen
        (LedgerKind.MONTHLY_CHARGE, MAR, 31, 3000),
    ]
    assert _all_exports(FEB) == february

    with _at(2026, 4, 1, 9, 0):
        month_close(month=MAR, actor=accounting)
    assert _charges(booked_month=MAR) == [
        (LedgerKind.MONTHLY_CHARGE, oc.pk, MAR, MAR, 31, 3000),
        (LedgerKind.ADJUSTMENT, oc.pk, FEB, MAR, 28, 1500),
    ]
    assert [row[0] for row in monthly_report(month=MAR).detail_rows] == [corrected.pk, reversal.pk]
    assert [row[0] for row in monthly_report(month=APR).detail_rows] == []
    assert _all_exports(FEB) == february


def test_ledger_scope_each_the_month_summed_part_by_part_is_the_month(regulation, approver, accounting):
    """集計 and a closed month's 月額 tally add up the month's two parts (booked into it; booked into an earlier
    closed month after that close), each read by its index: they are disjoint and together are `ledger_scope`."""
    from contracts.billing.closed_scope import closes_for, ledger_scope, ledger_scope_each
    from contracts.models import MonthCloseSummary
    from contracts.reports.figures import stored_summary

    oc = contract_billed_from(
        dt.date(2026, 2, 15), code="C000001", quantity=10, approved_at=jst(2026, 2, 1, 9, 0), approver=approver
    )
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    contract_correct(
        oc, approver=approver, approved_at=jst(2026, 3, 3, 10, 0), target=CorrectionTarget.BILLING_START,
        corrected_date=FEB,
    )  # fmt: skip
    with _at(2026, 4, 1, 9, 0):
        close = month_close(month=MAR, actor=accounting)
        closes = closes_for(MAR)
        parts = ledger_scope_each(closes, LedgerEntry.objects)
        booked, late = (set(part.values_list("pk", flat=True)) for part in parts)
        assert late and booked and not booked & late  # the correction booked into February is March's
        assert booked | late == set(LedgerEntry.objects.filter(ledger_scope(closes)).values_list("pk", flat=True))
        report = monthly_report(month=MAR)
        summary = report.summary
    stored = stored_summary(MonthCloseSummary.objects.get(close=close))
    assert (stored.total_excl_yen, stored.total_tax_yen) == (summary.total_excl_yen, summary.total_tax_yen)
    # 3,000 (March) + 1,500 (February's adjustment) + the corrected 月額費用 row and its reversal: as listed.
    listed = sum(r.amount_yen for r in monthly_report(month=MAR).charge_rows)
    assert listed == 4500 and summary.total_excl_yen == listed + sum(
        LedgerEntry.objects.filter(pk__in=late | booked)
        .exclude(kind__in=["monthly_charge", "adjustment"])
        .values_list("amount_yen", flat=True)
    )


def test_only_the_first_open_month_receives_adjustments(regulation, approver, accounting):
    oc = contract_billed_from(FEB, code="C000001", quantity=10, approver=approver)
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
        option_contract_end(option_contract=oc, end_date=dt.date(2026, 2, 10), actor=approver, reason="解約の申出")

    assert [r.kind for r in monthly_report(month=MAR).charge_rows] == [LedgerKind.ADJUSTMENT]
    assert list(monthly_report(month=APR).charge_rows) == []


@pytest.mark.postgres
def test_two_closes_of_the_same_month_at_once_write_one_set_of_rows(billed, accounting, transactional_db):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def close():
        try:
            barrier.wait()
            with _at(2026, 3, 2, 9, 0):
                results.append(month_close(month=FEB, actor=accounting).pk)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1
    assert MonthClose.objects.count() == 1
    assert len(_charges()) == 3


def test_a_change_of_a_migrated_contract_does_not_reprice_the_closed_months_before_it(regulation, approver, accounting):
    oc = contract_migrated(dt.date(2015, 4, 1), code="C000001", quantity=10)
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)

    # 3/10: a change to 20 accounts from 3/16 is approved: the contract row now says 20, its first monthly row too.
    contract_change(
        oc, approver=approver, approved_at=jst(2026, 3, 10, 10, 0), effective_date=dt.date(2026, 3, 16), quantity=20
    )

    march = monthly_report(month=MAR)
    # February was 10 accounts and stays so: no adjustment. March: 3,000 × 15/31 + 6,000 × 16/31 = 1,451 + 3,096.
    assert [(r.kind, r.charge_month, r.quantity, r.amount_yen) for r in march.charge_rows] == [
        (LedgerKind.MONTHLY_CHARGE, MAR, 20, 1451 + 3096),
    ]


def test_a_closed_months_report_keeps_the_option_and_variant_names_it_was_closed_with(billed, accounting):
    # The catalogue was loaded before anything was billed (the fixture loads it at the real time of the run).
    for model in (Option, OptionVariant):
        model.history.update(history_date=jst(2026, 1, 5, 9, 0))
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    february = _all_exports(FEB)

    with _at(2026, 3, 5, 9, 0):
        option, variant = billed[0].option, billed[0].variant
        option.name = "アカウント追加オプション（改称）"
        option.save()
        variant.name = "追加アカウント使用料（改称）"
        variant.save()

    assert _all_exports(FEB) == february
    assert {r.option_name for r in monthly_report(month=MAR).charge_rows} == {"アカウント追加オプション（改称）"}
