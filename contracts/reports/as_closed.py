"""A month's report as of its close: which ledger rows belong to it, and subscribers' and catalogue records' names
as they were when it was closed (a later rename is not shown), so a closed month gives the same bytes whenever it
is regenerated (DOMAIN §3.11)."""

from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce

from contracts.billing.closed_scope import Closes, closes_for, ledger_scope, ledger_scope_each
from contracts.models import Subscriber
from options.models import Option

__all__ = [
    "Closes",
    "catalogue_field",
    "catalogue_names_at_close",
    "closes_for",
    "ledger_scope",
    "ledger_scope_each",
    "option_names",
    "subscriber_field",
]


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
