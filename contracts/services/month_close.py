"""Month close (月次締め, DOMAIN §3.11): freeze a month's charges in the ledger, once.

Decisions, each kept here:
- Closing a closed month again returns its close and writes nothing (a retried request or a double click is
  not an error); `close_month` says so.
- Months close in order: after the first close (any month that has ended, chosen by accounting), only the month
  right after the last closed one can be closed. Months before the first close stay open for good: the back
  office does not bill them (migrated contracts reach back to years without fee items, §3.12).
- A month can be closed only once it has ended (JST).
- Charges are computed in Python with a fixed number of queries (contracts.reports.charges) and written with
  one bulk insert through simple-history (which writes their history rows too), not INSERT … SELECT: the
  proration, the fee in force per day and the pricing rules live in Python once, for close and report alike.
- Adjustments for closed months are booked by this close, into this month (contracts.reports.charges.
  adjustment_lines).
"""

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from simple_history.utils import bulk_create_with_history

from contracts.models import LedgerEntry, MonthClose, OptionContract, Subscriber
from contracts.reports.charges import ChargeLine, adjustment_lines, month_charges
from options import clock
from options.errors import DomainError
from options.history import save_with_history


def month_label(month: dt.date) -> str:
    return f"{month.year}年{month.month}月"


@transaction.atomic(durable=True)
def month_close(*, month: dt.date, actor) -> MonthClose:
    """Write `month`'s MONTHLY_CHARGE rows (and ADJUSTMENT rows for closed months changed since) and close it."""
    month = clock.month_start(month)
    _require_permission(actor)
    _lock_tables()
    existing = MonthClose.objects.filter(month=month).first()
    if existing is not None:
        return existing
    _require_closable(month)

    charges = month_charges(month=month)
    adjustments = adjustment_lines(month=month)
    now = clock.now()
    entries = [_entry(line, month=month, actor=actor) for line in charges + adjustments]
    if entries:
        bulk_create_with_history(
            entries, LedgerEntry, default_user=actor, default_change_reason=f"{month_label(month)}の月次締め"
        )
    close = MonthClose(
        month=month,
        closed_at=now,
        closed_by=actor,
        charge_rows=len(charges),
        adjustment_rows=len(adjustments),
        **_watermarks(),
    )
    save_with_history(close, actor=actor, reason=f"{month_label(month)}の月次締め")
    return close


def _require_permission(actor) -> None:
    # Management commands act as the system user, which has no role and cannot log in (options.history).
    if actor.get_username() == settings.SYSTEM_USERNAME:
        return
    if not actor.has_perm("contracts.close_month"):
        raise DomainError("月次締めの権限がありません。", code="permission_denied")


def _lock_tables() -> None:
    """Keep every writer of what the close reads out until it commits.

    SHARE ROW EXCLUSIVE conflicts with itself (two closes run one after the other; the second then finds the
    first's MonthClose) and with every INSERT, so the watermarks taken at the end are exact: no row below them
    can still be uncommitted. Taken in the order the services write (subscriber, contract, ledger), so a
    service that already holds one of them finishes instead of deadlocking. The unique constraints on
    MonthClose.month and ledger_charge_once_per_month are the last line behind it. SQLite serialises writers.
    """
    if connection.vendor != "postgresql":
        return
    tables = [
        MonthClose._meta.db_table,
        Subscriber.history.model._meta.db_table,
        OptionContract.history.model._meta.db_table,
        LedgerEntry._meta.db_table,
    ]
    with connection.cursor() as cursor:
        names = ", ".join(connection.ops.quote_name(t) for t in tables)
        cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")


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


def _entry(line: ChargeLine, *, month: dt.date, actor) -> LedgerEntry:
    """A MONTHLY_CHARGE or ADJUSTMENT row, booked in the month being closed; it arises at that month's start."""
    return LedgerEntry(
        kind=line.kind,
        option_contract_id=line.option_contract_id,
        fee_item=line.fee_item,
        revision_id=line.fee_item.revision_id,
        article=line.fee_item.article,
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
        created_by=actor,
    )


def _watermarks() -> dict[str, int]:
    return {
        "ledger_watermark": LedgerEntry.objects.aggregate(m=Max("pk"))["m"] or 0,
        "contract_history_watermark": OptionContract.history.aggregate(m=Max("history_id"))["m"] or 0,
        "subscriber_history_watermark": Subscriber.history.aggregate(m=Max("history_id"))["m"] or 0,
    }
