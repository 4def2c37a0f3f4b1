"""Which ledger rows belong to a month: the one rule the closed month's report, its seal (contracts.billing.seal)
and `verify_ledger` all read (DOMAIN §3.11)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from contracts.models import MonthClose
from core import clock


@dataclass(frozen=True)
class Closes:
    """The closes a month's report depends on: its own, the previous month's and the very first one."""

    month: dt.date
    this: MonthClose | None
    previous: MonthClose | None
    first_month: dt.date | None


def closes_for(month: dt.date) -> Closes:
    month = clock.month_start(month)
    previous_month = clock.month_start(month - dt.timedelta(days=1))
    found = {c.month: c for c in MonthClose.objects.filter(month__in=[month, previous_month])}
    first = MonthClose.objects.order_by("month").values_list("month", flat=True).first()
    return Closes(month, found.get(month), found.get(previous_month), first)


def ledger_scope(closes: Closes, *, id_field: str = "pk") -> Q:
    """Return the ledger rows that belong to the month's report, whatever their kind.

    A row belongs to its booked month, unless that month was already closed when the row was written (its id
    is above the close's watermark, e.g. a monthly obligation from a billing start corrected backwards): then
    it belongs to the first open month after it, i.e. the month right after the last close. A closed month
    holds only rows up to its own watermark, so later rows never change it.

    `id_field` names the ledger id on the queried model: "id" on the ledger's history, whose pk is its own.
    """
    booked, late = ledger_scope_parts(closes, id_field=id_field)
    return booked if late is None else booked | late


def ledger_scope_each(closes: Closes, queryset):
    """`queryset` restricted to each part of the month's rows (`ledger_scope_parts`), for a count or sum added up
    part by part: each part is read through its own index, where `ledger_scope`'s OR is a sequential scan of the
    whole ledger (0.46 s at 5M rows, 1.3–2.2 s at 20M: BENCHMARKS.md "The ledger at 5M and 20M rows")."""
    return [queryset.filter(part) for part in ledger_scope_parts(closes) if part is not None]


def ledger_scope_parts(closes: Closes, *, id_field: str = "pk") -> tuple[Q, Q | None]:
    """`ledger_scope` as its two disjoint parts: the rows booked into the month, and the rows booked into an earlier
    closed month after the previous close (None when the month has no previous close). Each is served by one index
    (booked_month; the id range above the previous watermark), so a reader of the whole month (the seal) reads
    rows of this month only, where their OR reads the ledger from its first row."""
    booked = Q(booked_month=closes.month)
    late = None
    if closes.previous is not None:
        late = Q(
            booked_month__lt=closes.month,
            booked_month__gte=closes.first_month,
            **{f"{id_field}__gt": closes.previous.ledger_watermark},
        )
    if closes.this is not None:
        up_to = Q(**{f"{id_field}__lte": closes.this.ledger_watermark})
        booked &= up_to
        late = None if late is None else late & up_to
    return booked, late
