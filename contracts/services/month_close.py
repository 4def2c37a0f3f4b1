"""Month close (月次締め, DOMAIN §3.11): freeze a month's charges in the ledger, once.

Decisions, each kept here:
- Closing a closed month again returns its close and writes nothing (a retried request, a double click or two
  closes racing each other end on the one close); the page and `close_month` refuse it with
  `month_closed_already_message` (`close_month` exits 1), never as 「締めました」.
- Months close in order: after the first close (any month that has ended, chosen by accounting), only the month
  right after the last closed one can be closed. Months before the first close stay open for good: the back
  office does not bill them (migrated contracts reach back to years without fee items, §3.12).
- A month can be closed only once it has ended (JST).
- A month with a contract that cannot be priced is not closed: the refusal names each one (§3.12).
- The rows come from contracts.billing.close_rows.CloseRows, the stream the preview (仮締め) reads too, which
  fingerprints them as they are written. A close confirmed on a preview carries that preview's digest
  (`expected`) and is refused, nothing written, with the differences named, when the rows it streams now hash
  otherwise: the book changed in between. The close keeps its fingerprint (MonthClose.fingerprint).
- Charges stream from the terms timeline (contracts.billing.charges) and are written in batches through
  simple-history, so memory holds one batch whatever the size of the book.
- Adjustments for closed months are booked by this close, into this month (contracts.billing.charges.
  adjustment_lines).
- The office keeps working during a close (PostgreSQL): the close never holds a lock that stops inserts for its
  run. Its watermarks are taken under a short lock in a transaction of their own (every row at or below them is
  committed), then the close reads and writes in one REPEATABLE READ transaction whose snapshot follows that
  lock, so it sees every row at or below the watermarks. A row written meanwhile has an id above them: the
  close may or may not see it, and the next close looks at its contract again (`changed_since`), which books
  only a difference, never the same yen twice. At its end the close waits briefly for the ledger's in-flight
  inserts (the same short lock) so that every ledger row at or below its ledger watermark is committed when the
  month is. Closes of one month are serialised by an advisory lock held by the session.
- SQLite serialises writers: there the close is one transaction, as it always was.
- The close stores the month's 集計 in its transaction (MonthCloseSummary, read from the month's report at the
  close's snapshot): a closed month's figures are never summed on a page.
- The close seals its month (台帳の封印, contracts.billing.seal) in its transaction, after its last short lock, so the
  seal covers exactly the rows the month's report reads: what the close wrote and saw, and the rows another session
  committed below its ledger watermark meanwhile (read on a connection of their own).
"""

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.db.models import Max, Min

from contracts.billing.charges import ChargeLine, Unpriced, in_billing
from contracts.billing.close_rows import CloseRows, digest_differences
from contracts.billing.closed_scope import closes_for
from contracts.billing.entries import ledger_values
from contracts.billing.seal import rows_committed_beside
from contracts.models import ContractTerms, LedgerEntry, MonthClose, OptionContract, Subscriber
from core import clock
from core.errors import DomainError
from core.formats import wareki_datetime, wareki_month
from core.history_write import bulk_append_with_history, save_with_history

from .audit import require_permission
from .report_figures import close_figures_record
from .seals import month_seal_write, month_seals_backfill

BATCH_SIZE = 5000
# The short locks wait this long for in-flight writers, then give way to them and try again, so a waiting close
# never makes the office queue behind it for long.
LOCK_TIMEOUT = "500ms"
LOCK_ATTEMPTS = 40
# The session-level advisory lock (class, key) that serialises closes; the key is the month as yyyymm.
ADVISORY_CLASS = 8201

# Called after each batch written with (contracts done, contracts in billing, charge rows written).
Progress = Callable[[int, int, int], None]


def month_label(month: dt.date) -> str:
    """`令和8年2月 (2026-02)`: a month as every screen, message and command names it (core.formats)."""
    return wareki_month(month)


def month_closed_already_message(close: MonthClose) -> str:
    """The answer to closing `close`'s month again: when and by whom it was closed, and that nothing was written."""
    return (
        f"{month_label(close.month)}は締め済みです（締め日時 {wareki_datetime(close.closed_at)}、"
        f"締め実行者 {close.closed_by.get_username()}）。何も記帳していません。"
    )


@dataclass(frozen=True)
class CloseResult:
    close: MonthClose
    created: bool  # False when the month was closed already and nothing was written


def month_close(*, month: dt.date, actor, expected: dict | None = None) -> MonthClose:
    """Write `month`'s MONTHLY_CHARGE rows (and ADJUSTMENT rows for closed months changed since) and close it."""
    return month_close_run(month=month, actor=actor, expected=expected).close


def month_close_run(
    *, month: dt.date, actor, progress: Progress | None = None, expected: dict | None = None
) -> CloseResult:
    """`month_close`, saying whether this call closed the month (False: it was closed already, nothing written).

    `progress`, if given, is called after every batch written (the task's progress record, a progress bar).
    `expected`, if given, is the digest of the preview the close was confirmed on (CloseDigest.as_dict): the
    close is refused, nothing written, when its rows differ from it.
    """
    month = clock.month_start(month)
    require_permission(actor, "contracts.close_month", action="月次締めの")
    with one_close_at_a_time(month):
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            seen = _watermarks_under_short_lock()
            return _close(month=month, actor=actor, seen=seen, progress=progress, snapshot=True, expected=expected)
        # SQLite, or inside a caller's transaction (a test's): one transaction, the lock held to its end.
        return _close(month=month, actor=actor, seen=None, progress=progress, snapshot=False, expected=expected)


@contextmanager
def one_close_at_a_time(month: dt.date):
    """Hold the month's advisory lock (PostgreSQL; session-level, so it spans the close's two transactions and is
    dropped by the server if the process dies). A second close of the month waits, then finds the first's close."""
    if connection.vendor != "postgresql":
        yield
        return
    key = month.year * 100 + month.month
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_CLASS, key])
    try:
        yield
    finally:
        if connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_CLASS, key])


def close_is_running(month: dt.date) -> bool:
    """Whether some session holds the month's close lock now (PostgreSQL; elsewhere: unknown, False)."""
    if connection.vendor != "postgresql":
        return False
    key = month.year * 100 + month.month
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s"
            " AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname ="
            " current_database()))",
            [ADVISORY_CLASS, key],
        )
        return cursor.fetchone()[0]


@transaction.atomic(durable=True)
def _close(
    *,
    month: dt.date,
    actor,
    seen: dict[str, int] | None,
    progress: Progress | None,
    snapshot: bool,
    expected: dict | None,
):
    if snapshot:
        with connection.cursor() as cursor:
            # The first statement: the snapshot is taken now, after the watermarks' lock was released.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    else:
        _lock_tables()
        seen = _watermarks()
    existing = MonthClose.objects.filter(month=month).first()
    if existing is not None:
        return CloseResult(existing, created=False)
    month_close_assert_closable(month)

    rows = CloseRows(month)
    reason = f"{month_label(month)}の月次締め"
    total = _contracts_in_billing(month) if progress else 0

    on_batch = None
    if progress is not None:
        progress(0, total, 0)

        def on_batch(written: int) -> None:
            progress(rows.contracts_done, total, written)

    charge_rows = _write(rows.charge_lines(), month=month, actor=actor, reason=reason, on_batch=on_batch)
    if rows.unpriced_count:
        raise DomainError(_unpriced_message(month, rows.unpriced, rows.unpriced_count), code="unpriced_contracts")
    adjustment_rows = _write(rows.adjustments(), month=month, actor=actor, reason=reason)
    if expected is not None and expected.get("fingerprint") != rows.digest.fingerprint:
        raise DomainError(_book_changed_message(month, expected, rows), code="book_changed")
    if snapshot:
        _short_lock([LedgerEntry._meta.db_table])
    close = MonthClose(
        month=month,
        closed_at=clock.now(),
        closed_by=actor,
        charge_rows=charge_rows,
        adjustment_rows=adjustment_rows,
        fingerprint=rows.digest.fingerprint,
        ledger_watermark=_ledger_watermark(),
        ledger_seen_watermark=seen["ledger_watermark"],
        contract_history_watermark=seen["contract_history_watermark"],
        subscriber_history_watermark=seen["subscriber_history_watermark"],
        terms_history_watermark=seen["terms_history_watermark"],
    )
    save_with_history(close, actor=actor, reason=reason)
    # The month's 集計, as its report now reads it, stored with the close: the report page and the accounting home
    # read it instead of summing the month (contracts.services.report_figures).
    close_figures_record(close=close, actor=actor)
    _seal(close, actor=actor, seen=seen, snapshot=snapshot)
    if progress is not None:
        progress(rows.contracts_done, total, charge_rows)
    return CloseResult(close, created=True)


def _seal(close: MonthClose, *, actor, seen: dict[str, int], snapshot: bool) -> None:
    """Seal the month in the close's transaction (contracts.services.seals): the closes before it first, if they
    predate seals, since the chain needs them; at a snapshot, with the month's rows other sessions committed beside
    it (they are in the month's report, below its ledger watermark)."""
    month_seals_backfill.joined(actor=actor, before=close.month)
    also = rows_committed_beside(closes_for(close.month), after_id=seen["ledger_watermark"]) if snapshot else []
    month_seal_write(close=close, actor=actor, also=also)


def _book_changed_message(month: dt.date, expected: dict, rows: CloseRows) -> str:
    """The refusal of a close whose rows differ from the preview it was confirmed on, naming the differences."""
    named = "\n".join(f"・{line}" for line in digest_differences(expected, rows.digest))
    return (
        f"仮締めの確認後に台帳・契約が変わったため、{month_label(month)}を締めませんでした（何も記帳していません）。"
        f"仮締めをもう一度確認してから締めてください。\n{named}"
    )


def _unpriced_message(month: dt.date, unpriced: list[Unpriced], count: int) -> str:
    named = "\n".join(f"・{u.message}" for u in unpriced)
    more = f"\n（ほか{count - len(unpriced)}件）" if count > len(unpriced) else ""
    return (
        f"{month_label(month)}は、月額料金を計算できない契約が{count}件あるため締められません。"
        f"料金細目・見積額などを登録してから締めてください。\n{named}{more}"
    )


def _write(lines: Iterator[ChargeLine], *, month: dt.date, actor, reason: str, on_batch=None) -> int:
    """Append the lines as ledger rows with their history rows, streamed (never a whole month held); return how
    many."""
    rows = (_entry(line, month=month, actor=actor) for line in lines)
    return bulk_append_with_history(
        LedgerEntry, rows, actor=actor, reason=reason, batch_size=BATCH_SIZE, on_batch=on_batch
    )


def _contracts_in_billing(month: dt.date) -> int:
    return OptionContract.objects.filter(in_billing(month, clock.month_end(month))).count()


_WATERMARKED = (
    MonthClose,
    Subscriber.history.model,
    OptionContract.history.model,
    ContractTerms.history.model,
    LedgerEntry,
)


def _lock_tables() -> None:
    """Keep every writer of what the close reads out until the lock ends, so the watermarks read under it are exact:
    no row at or below them can still be uncommitted.

    SHARE ROW EXCLUSIVE conflicts with every INSERT (and with itself). Taken in the order the services write
    (subscriber, contract, terms, ledger), so a service that already holds one of them finishes instead of
    deadlocking. The unique constraints on MonthClose.month and ledger_charge_once_per_month are the last line
    behind it. SQLite serialises writers.

    The app role may only append to these tables, and LOCK in this mode needs UPDATE, DELETE or TRUNCATE, so the
    owner's SECURITY DEFINER function takes the locks, in this order, in our transaction (contracts 0007).
    """
    if connection.vendor != "postgresql":
        return
    _short_lock([m._meta.db_table for m in _WATERMARKED])


def _short_lock(tables: list[str]) -> None:
    """Take the close's lock on `tables` in the current transaction, waiting at most LOCK_TIMEOUT at a time: a
    lock request queued behind a long writer would make every new insert queue behind it, so it gives way (its
    savepoint rolled back) and tries again."""
    for attempt in range(LOCK_ATTEMPTS):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
                cursor.execute("SELECT contracts_lock_share_row_exclusive(%s::regclass[])", [tables])
                cursor.execute("SELECT set_config('lock_timeout', '0', true)")
            return
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != "55P03" or attempt + 1 == LOCK_ATTEMPTS:
                raise
            time.sleep(0.05 * (attempt + 1))


def _watermarks_under_short_lock() -> dict[str, int]:
    """The watermarks, read in a transaction of their own under the close's lock, released at once (PostgreSQL)."""
    with transaction.atomic(durable=True):
        _lock_tables()
        return _watermarks()


def month_close_assert_closable(month: dt.date) -> None:
    """Refuse a month that has not ended or is out of order (the checks that need no pricing)."""
    label = month_label(month)
    if clock.today() <= clock.month_end(month):
        raise DomainError(
            f"{label}はまだ終わっていないため締められません（締めは翌月1日以降に行います）。", code="month_not_ended"
        )
    months = MonthClose.objects.aggregate(first=Min("month"), last=Max("month"))
    first, last = months["first"], months["last"]
    if last is None:
        return
    if month < first:
        raise DomainError(
            f"{label}は最初の締め月（{month_label(first)}）より前のため締められません。",
            code="month_before_first_close",
        )
    expected = clock.next_month(last)
    if month != expected:
        raise DomainError(
            f"先に{month_label(expected)}を締めてください（月次締めは月の順に行います。"
            f"最後に締めた月: {month_label(last)}）。",
            code="month_close_out_of_order",
        )


def _entry(line: ChargeLine, *, month: dt.date, actor) -> dict:
    """A MONTHLY_CHARGE or ADJUSTMENT row, booked in the month being closed; it arises at that month's start."""
    return ledger_values(
        kind=line.kind,
        option_contract_id=line.option_contract_id,
        fee_item=line.fee_item,
        quantity=line.quantity,
        blocks=line.blocks,
        unit_amount_yen=line.monthly_amount_yen,
        amount_yen=line.amount_yen,
        arisen_at=clock.jst_midnight(month),
        booked_month=month,
        charge_month=line.charge_month,
        days_billed=line.days_billed,
        days_in_month=line.days_in_month,
        reason=line.reason,
        actor=actor,
    )


def _watermarks() -> dict[str, int]:
    return {
        "ledger_watermark": _ledger_watermark(),
        "contract_history_watermark": OptionContract.history.aggregate(m=Max("history_id"))["m"] or 0,
        "subscriber_history_watermark": Subscriber.history.aggregate(m=Max("history_id"))["m"] or 0,
        "terms_history_watermark": ContractTerms.history.aggregate(m=Max("history_id"))["m"] or 0,
    }


def _ledger_watermark() -> int:
    return LedgerEntry.objects.aggregate(m=Max("pk"))["m"] or 0
