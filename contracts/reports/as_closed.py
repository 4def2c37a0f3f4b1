"""A month's report as of its close: which ledger rows belong to it, and subscribers' and catalogue records' names
as they were when it was closed (a later rename is not shown), so a closed month gives the same bytes whenever it
is regenerated (DOMAIN §3.11)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from contracts.models import MonthClose, Subscriber
from core import clock
from options.models import Option


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


def ledger_scope(closes: Closes) -> Q:
    """Return the ledger rows that belong to the month's report, whatever their kind.

    A row belongs to its booked month, unless that month was already closed when the row was written (its id
    is above the close's watermark, e.g. a monthly obligation from a billing start corrected backwards): then
    it belongs to the first open month after it, i.e. the month right after the last close. A closed month
    holds only rows up to its own watermark, so later rows never change it.
    """
    scope = Q(booked_month=closes.month)
    if closes.previous is not None:
        scope |= Q(
            booked_month__lt=closes.month,
            booked_month__gte=closes.first_month,
            pk__gt=closes.previous.ledger_watermark,
        )
    if closes.this is not None:
        scope &= Q(pk__lte=closes.this.ledger_watermark)
    return scope


def subscriber_field(closes: Closes, field: str, path: str = "option_contract__subscriber"):
    """The subscriber's `field` now, or as it was at the close for a closed month (a later rename is not shown).

    `path` leads from the queried model to the subscriber ("" when querying subscribers themselves). Only the
    subscribers edited since the close look into the history; every other one is as it was then.
    """
    current = F(f"{path}__{field}" if path else field)
    if closes.this is None:
        return current
    history = Subscriber.history.model
    watermark = closes.this.subscriber_history_watermark
    subscriber = f"{path}_id" if path else "pk"
    as_closed = history.objects.filter(id=OuterRef(subscriber), history_id__lte=watermark).order_by("-history_id")
    edited_since = history.objects.filter(history_id__gt=watermark).values("id")
    return Case(
        When(**{f"{subscriber}__in": edited_since}, then=Coalesce(Subquery(as_closed.values(field)[:1]), current)),
        default=current,
    )


def catalogue_names_at_close(closes: Closes, model, field: str = "name") -> dict[int, str]:
    """The catalogue records (options or variants) edited since the close, with their `field` as it was then.

    The catalogue is small and rarely edited, so this reads the few history rows in Python; catalogue edits are
    not behind the close's lock, so "as it was" is the last history row dated up to the close.
    """
    if closes.this is None:
        return {}
    history = model.history.model
    closed_at = closes.this.closed_at
    edited = set(history.objects.filter(history_date__gt=closed_at).values_list("id", flat=True))
    rows = (
        history.objects.filter(id__in=edited, history_date__lte=closed_at)
        .order_by("id", "history_date", "history_id")
        .values_list("id", field)
    )
    return dict(rows)  # the last row of each record up to the close wins


def catalogue_field(closes: Closes, model, path: str, field: str):
    """The catalogue record's `field` now, or as it was at the close for a closed month (a later rename is not shown).

    `path` leads from the ledger row to the record. The names at the close are constants in the query, so a
    closed month's export costs what an open month's does.
    """
    current = F(f"{path}__{field}")
    as_closed = catalogue_names_at_close(closes, model, field)
    if not as_closed:
        return current
    return Case(*[When(**{f"{path}_id": pk}, then=Value(value)) for pk, value in as_closed.items()], default=current)


def option_names(closes: Closes, options: dict[int, Option]) -> dict[int, str]:
    """The options' names now, or as they were at the close for a closed month."""
    names = {pk: option.name for pk, option in options.items()}
    names.update({pk: name for pk, name in catalogue_names_at_close(closes, Option).items() if pk in names})
    return names
