"""A cheap stamp of the book a month's 速報 is computed from: the last id of every table its figures read.

Every write to those tables appends (the ledger, the month closes) or writes a history row (contracts, their terms,
subscribers, the catalogue: simple-history, written by every service), so "the book changed since" is "one of these
ids grew". One query of MAX()es, each read from the end of a primary-key index, at any size of the book.
"""

from django.db import connection

from contracts.models import ContractTerms, LedgerEntry, MonthClose, OptionContract, Subscriber
from options.models import FeeItem, Option, OptionVariant, Succession, TariffRevision


def _sources() -> dict[str, tuple[str, str]]:
    """name → (table, id column) of what an open month's figures depend on."""
    tracked = {
        "ledger": LedgerEntry,
        "closes": MonthClose,
        "contracts": OptionContract.history.model,
        "terms": ContractTerms.history.model,
        "subscribers": Subscriber.history.model,
        "options": Option.history.model,
        "variants": OptionVariant.history.model,
        "revisions": TariffRevision.history.model,
        "fee_items": FeeItem.history.model,
        "successions": Succession.history.model,
    }
    return {name: (model._meta.db_table, model._meta.pk.column) for name, model in tracked.items()}


def book_watermark() -> dict[str, int]:
    """The last id of each table an open month's figures read (0 for an empty table).

    Read on the primary even inside `reads_from_replica()` (a raw cursor on the default connection): a lagging
    replica must not make stale figures look current."""
    sources = _sources()
    quote = connection.ops.quote_name
    columns = ", ".join(f"(SELECT MAX({quote(column)}) FROM {quote(table)})" for table, column in sources.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")  # noqa: S608 — table names from the models, no input
        values = cursor.fetchone()
    return {name: int(value or 0) for name, value in zip(sources, values, strict=True)}


def changed_since(watermark: dict, now: dict) -> list[str]:
    """The names of what grew between `watermark` and `now` (empty: the book is as it was)."""
    return [name for name, value in now.items() if value != watermark.get(name)]
