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
- Charges stream from the terms timeline (contracts.billing.charges) and are written in batches through
  simple-history, so memory holds one batch whatever the size of the book.
- Adjustments for closed months are booked by this close, into this month (contracts.billing.charges.
  adjustment_lines).
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Min

from contracts.billing.charges import ChargeLine, Unpriced, adjustment_lines, contract_charges
from contracts.billing.entries import ledger_values
from contracts.models import ContractTerms, LedgerEntry, MonthClose, OptionContract, Subscriber
from core import clock
from core.errors import DomainError
from core.history_write import bulk_append_with_history, save_with_history

from .audit import require_permission

BATCH_SIZE = 5000
UNPRICED_NAMED = 20  # how many unpriced contracts a refusal names; the rest are counted


def month_label(month: dt.date) -> str:
    return f"{month.year}年{month.month}月"


def month_closed_already_message(close: MonthClose) -> str:
    """The answer to closing `close`'s month again: when and by whom it was closed, and that nothing was written."""
    closed_at = close.closed_at.astimezone(clock.JST)
    return (
        f"{month_label(close.month)}は締め済みです（締め日時 {closed_at:%Y-%m-%d %H:%M}、"
        f"締め実行者 {close.closed_by.get_username()}）。何も記帳していません。"
    )


@dataclass(frozen=True)
class CloseResult:
    close: MonthClose
    created: bool  # False when the month was closed already and nothing was written


def month_close(*, month: dt.date, actor) -> MonthClose:
    """Write `month`'s MONTHLY_CHARGE rows (and ADJUSTMENT rows for closed months changed since) and close it."""
    return month_close_run(month=month, actor=actor).close


@transaction.atomic(durable=True)
def month_close_run(*, month: dt.date, actor) -> CloseResult:
    """`month_close`, saying whether this call closed the month (False: it was closed already, nothing written)."""
    month = clock.month_start(month)
    require_permission(actor, "contracts.close_month", action="月次締めの")
    _lock_tables()
    existing = MonthClose.objects.filter(month=month).first()
    if existing is not None:
        return CloseResult(existing, created=False)
    _require_closable(month)

    adjustments = adjustment_lines(month=month)
    unpriced: list[Unpriced] = list(adjustments.unpriced)
    unpriced_count = len(unpriced)
    reason = f"{month_label(month)}の月次締め"

    def charge_lines() -> Iterator[ChargeLine]:
        nonlocal unpriced_count
        for result in contract_charges(first_month=month, last_month=month):
            if result.unpriced is not None:
                unpriced_count += 1
                if len(unpriced) < UNPRICED_NAMED:
                    unpriced.append(result.unpriced)
                continue
            yield from result.lines

    charge_rows = _write(charge_lines(), month=month, actor=actor, reason=reason)
    if unpriced_count:
        raise DomainError(_unpriced_message(month, unpriced, unpriced_count), code="unpriced_contracts")
    adjustment_rows = _write(iter(adjustments.lines), month=month, actor=actor, reason=reason)
    close = MonthClose(
        month=month,
        closed_at=clock.now(),
        closed_by=actor,
        charge_rows=charge_rows,
        adjustment_rows=adjustment_rows,
        **_watermarks(),
    )
    save_with_history(close, actor=actor, reason=reason)
    return CloseResult(close, created=True)


def _unpriced_message(month: dt.date, unpriced: list[Unpriced], count: int) -> str:
    named = "\n".join(f"・{u.message}" for u in unpriced)
    more = f"\n（ほか{count - len(unpriced)}件）" if count > len(unpriced) else ""
    return (
        f"{month_label(month)}は、月額料金を計算できない契約が{count}件あるため締められません。"
        f"料金細目・見積額などを登録してから締めてください。\n{named}{more}"
    )


def _write(lines: Iterator[ChargeLine], *, month: dt.date, actor, reason: str) -> int:
    """Append the lines as ledger rows with their history rows, streamed (never a whole month held); return how
    many."""
    rows = (_entry(line, month=month, actor=actor) for line in lines)
    return bulk_append_with_history(LedgerEntry, rows, actor=actor, reason=reason, batch_size=BATCH_SIZE)


def _lock_tables() -> None:
    """Keep every writer of what the close reads out until it commits.

    SHARE ROW EXCLUSIVE conflicts with itself (two closes run one after the other; the second then finds the
    first's MonthClose) and with every INSERT, so the watermarks taken at the end are exact: no row below them
    can still be uncommitted. Taken in the order the services write (subscriber, contract, terms, ledger), so a
    service that already holds one of them finishes instead of deadlocking. The unique constraints on
    MonthClose.month and ledger_charge_once_per_month are the last line behind it. SQLite serialises writers.

    The app role may only append to these tables, and LOCK in this mode needs UPDATE, DELETE or TRUNCATE, so the
    owner's SECURITY DEFINER function takes the locks, in this order, in our transaction (contracts 0007).
    """
    if connection.vendor != "postgresql":
        return
    tables = [
        MonthClose._meta.db_table,
        Subscriber.history.model._meta.db_table,
        OptionContract.history.model._meta.db_table,
        ContractTerms.history.model._meta.db_table,
        LedgerEntry._meta.db_table,
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT contracts_lock_share_row_exclusive(%s::regclass[])", [tables])


def _require_closable(month: dt.date) -> None:
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
        "ledger_watermark": LedgerEntry.objects.aggregate(m=Max("pk"))["m"] or 0,
        "contract_history_watermark": OptionContract.history.aggregate(m=Max("history_id"))["m"] or 0,
        "subscriber_history_watermark": Subscriber.history.aggregate(m=Max("history_id"))["m"] or 0,
        "terms_history_watermark": ContractTerms.history.aggregate(m=Max("history_id"))["m"] or 0,
    }
