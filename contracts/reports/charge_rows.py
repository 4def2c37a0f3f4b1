"""月額 of the monthly report, streamed in the report's order: the frozen MONTHLY_CHARGE/ADJUSTMENT rows of a closed
month, or an open month's charges and adjustments computed now (what its close would write) with the contracts it
cannot price.

The order is (subscriber code, contract, month, kind, revision, fee item, ledger row) (`ChargeRow.sort_key`). No
month is held in memory: frozen rows come from the database in that order through a server-side cursor; an open
month's charges from `contract_charges` reading contracts in subscriber-code order in chunks; its adjustments (the
few contracts changed since the last close) are sorted in memory; `heapq.merge` interleaves the three. Totals
and counts are taken on the way (`ChargeTally`), so 集計 after 月額 needs no second pass, and a closed month's
totals are one GROUP BY of its frozen rows.
"""

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Case, Count, Sum, Value, When

from contracts.billing.charges import ChargeLine, Unpriced, adjustment_lines, contract_charges
from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, Subscriber
from core.text import code_point_order
from options.models import FeeItem, Option, OptionVariant

from .as_closed import Closes, catalogue_field, ledger_scope, ledger_scope_each, subscriber_field
from .layout import CHARGE_KINDS, KIND_ORDER


class ChargeRow(NamedTuple):
    """A line of 月額, from a computed ChargeLine (open month) or a frozen ledger row (closed month). A named tuple:
    a month has one per contract, made as fast as Python makes anything."""

    option_contract_id: int
    subscriber_code: str
    subscriber_name: str
    option_id: int
    option_name: str
    variant_name: str
    kind: str
    kind_label: str
    charge_month: dt.date
    quantity: int
    blocks: int | None
    monthly_amount_yen: int
    days_billed: int | None
    days_in_month: int | None
    amount_yen: int
    revision: str
    revision_effective_on: dt.date
    article: str
    reason: str
    fee_item_id: int
    ledger_id: int | None = None

    @property
    def sort_key(self):
        return (
            self.subscriber_code,
            self.option_contract_id,
            self.charge_month,
            KIND_ORDER[self.kind],
            self.revision_effective_on,
            self.fee_item_id,
            self.ledger_id or 0,
        )


KIND_LABELS = dict(LedgerKind.choices)
BATCH = 2000


def _sort_key(row: ChargeRow) -> tuple:
    return row.sort_key


@dataclass
class ChargeTally:
    """What one whole pass over 月額 saw: its rows counted and summed per (option, kind) and per month charged, and
    the contracts the month could not price (sorted by subscriber code and contract once the pass is complete)."""

    rows: int = 0
    per_line: dict[tuple[int, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    per_month: dict[dt.date, int] = field(default_factory=lambda: defaultdict(int))
    # per (option, kind, month charged): what the tax rate of each line is read from (集計's rates, the journals)
    per_line_month: dict[tuple[int, str, dt.date], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )
    unpriced: list[Unpriced] = field(default_factory=list)
    complete: bool = False

    def add(self, *, option_id: int, kind: str, charge_month: dt.date, count: int, amount_yen: int) -> None:
        totals = self.per_line[(option_id, kind)]
        totals[0] += count
        totals[1] += amount_yen
        self.per_month[charge_month] += amount_yen
        by_month = self.per_line_month[(option_id, kind, charge_month)]
        by_month[0] += count
        by_month[1] += amount_yen
        self.rows += count

    def finish(self) -> None:
        self.unpriced.sort(key=lambda u: (u.subscriber_code, u.option_contract_id))
        self.complete = True


def charge_rows(closes: Closes, tally: ChargeTally | None = None) -> Iterator[ChargeRow]:
    """Yield 月額 in the report's order: ledger rows of kind MONTHLY_CHARGE/ADJUSTMENT in the month's scope, plus,
    for an open month, its charges and adjustments computed now (what its close would write).

    `tally`, if given, counts and sums every row yielded and collects the contracts that cannot be priced; it is
    `complete` once the last row has been yielded.
    """
    tally = ChargeTally() if tally is None else tally
    streams = [_frozen_charge_rows(closes)]
    if closes.this is None:
        adjustments = adjustment_lines(month=closes.month)
        tally.unpriced.extend(adjustments.unpriced)
        streams.append(iter(sorted(charge_rows_of_lines(adjustments.lines), key=_sort_key)))
        streams.append(_computed_charge_rows(closes.month, tally.unpriced))
    for row in heapq.merge(*streams, key=_sort_key):
        tally.add(
            option_id=row.option_id,
            kind=row.kind,
            charge_month=row.charge_month,
            count=1,
            amount_yen=row.amount_yen,
        )
        yield row
    tally.finish()


def charge_tally(closes: Closes) -> ChargeTally:
    """Count and sum 月額 without keeping it: a closed month by one GROUP BY of its frozen rows, an open month by a
    pass over its rows (its charges are computed, not stored)."""
    tally = ChargeTally()
    if closes.this is None:
        for _row in charge_rows(closes, tally):
            pass
        return tally
    charges = LedgerEntry.objects.filter(kind__in=CHARGE_KINDS)
    for part in ledger_scope_each(closes, charges):  # disjoint parts, each by its index, added up
        grouped = (
            part.values("fee_item__option_id", "kind", "charge_month")
            .annotate(n=Count("pk"), amount=Sum("amount_yen"))
            .order_by()
        )
        for row in grouped:
            tally.add(
                option_id=row["fee_item__option_id"],
                kind=row["kind"],
                charge_month=row["charge_month"],
                count=row["n"],
                amount_yen=row["amount"],
            )
    tally.finish()
    return tally


_FROZEN_FIELDS = (
    "pk",
    "option_contract_id",
    "subscriber_code",
    "subscriber_name",
    "fee_item__option_id",
    "option_name",
    "variant_name",
    "kind",
    "charge_month",
    "quantity",
    "blocks",
    "unit_amount_yen",
    "days_billed",
    "days_in_month",
    "amount_yen",
    "revision__title",
    "revision__effective_on",
    "article",
    "reason",
    "fee_item_id",
)


def _frozen_charge_rows(closes: Closes) -> Iterator[ChargeRow]:
    """The month's frozen charge rows, ordered by the database as `ChargeRow.sort_key` orders them."""
    return frozen_rows(frozen_charge_queryset(closes).iterator(chunk_size=BATCH))


def frozen_charge_queryset(closes: Closes):
    """The month's frozen charge rows as a values_list queryset in `ChargeRow.sort_key` order (slice it for a page;
    `frozen_rows` makes them ChargeRows)."""
    kind_order = Case(*[When(kind=kind, then=Value(index)) for kind, index in KIND_ORDER.items()])
    return (
        LedgerEntry.objects.filter(ledger_scope(closes), kind__in=CHARGE_KINDS)
        .annotate(
            subscriber_code=subscriber_field(closes, "code"),
            subscriber_name=subscriber_field(closes, "name"),
            option_name=catalogue_field(closes, Option, "fee_item__option", "name"),
            variant_name=catalogue_field(closes, OptionVariant, "fee_item__variant", "name"),
        )
        .order_by(
            code_point_order("subscriber_code"),
            "option_contract_id",
            "charge_month",
            kind_order,
            "revision__effective_on",
            "fee_item_id",
            "pk",
        )
        .values_list(*_FROZEN_FIELDS)
    )


def frozen_rows(entries) -> Iterator[ChargeRow]:
    """ChargeRows of `frozen_charge_queryset`'s rows."""
    labels = KIND_LABELS
    for (
        pk,
        contract_id,
        code,
        name,
        option_id,
        option_name,
        variant_name,
        kind,
        charge_month,
        quantity,
        blocks,
        unit,
        days,
        days_in_month,
        amount,
        revision,
        effective_on,
        article,
        reason,
        fee_item_id,
    ) in entries:
        yield ChargeRow(
            option_contract_id=contract_id,
            subscriber_code=code,
            subscriber_name=name,
            option_id=option_id,
            option_name=option_name,
            variant_name=variant_name,
            kind=kind,
            kind_label=labels[kind],
            charge_month=charge_month,
            quantity=quantity,
            blocks=blocks,
            monthly_amount_yen=unit,
            days_billed=days,
            days_in_month=days_in_month,
            amount_yen=amount,
            revision=revision,
            revision_effective_on=effective_on,
            article=article,
            reason=reason,
            fee_item_id=fee_item_id,
            ledger_id=pk,
        )


def _computed_charge_rows(month: dt.date, unpriced: list[Unpriced]) -> Iterator[ChargeRow]:
    """The open month's charges, contract by contract in subscriber-code order (`contract_charges`, streamed).

    Each contract's lines come in (revision, fee item) order, the tail of the sort key, so the stream is in the
    report's order without sorting it."""
    for result in contract_charges(first_month=month, last_month=month, by_subscriber_code=True, chunk_size=BATCH):
        if result.unpriced is not None:
            unpriced.append(result.unpriced)
            continue
        for line in result.lines:
            yield charge_row_from_line(line, result.subscriber_code, result.subscriber_name)


def charge_rows_of_lines(lines: list[ChargeLine]) -> list[ChargeRow]:
    """ChargeRows of computed lines, their subscribers' codes and names read in one query."""
    ids = {line.subscriber_id for line in lines}
    subscribers = (
        {pk: (code, name) for pk, code, name in Subscriber.objects.filter(pk__in=ids).values_list("pk", "code", "name")}
        if ids
        else {}
    )
    return [charge_row_from_line(line, *subscribers[line.subscriber_id]) for line in lines]


def charge_row_from_line(line: ChargeLine, subscriber_code: str, subscriber_name: str) -> ChargeRow:
    option_id, option_name, variant_name, revision, effective_on, article = _fee_columns(line.fee_item)
    return ChargeRow(
        line.option_contract_id,
        subscriber_code,
        subscriber_name,
        option_id,
        option_name,
        variant_name,
        line.kind,
        KIND_LABELS[line.kind],
        line.charge_month,
        line.quantity,
        line.blocks,
        line.monthly_amount_yen,
        line.days_billed,
        line.days_in_month,
        line.amount_yen,
        revision,
        effective_on,
        article,
        line.reason,
        line.fee_item.pk,
    )


def _fee_columns(fee_item: FeeItem) -> tuple:
    """What a row shows of its fee item: read from its option, variant and revision once per fee item, not per row
    (a fee item object belongs to one run's fee schedule)."""
    columns = getattr(fee_item, "_charge_row_columns", None)
    if columns is None:
        revision = fee_item.revision
        columns = (
            fee_item.option_id,
            fee_item.option.name,
            fee_item.variant.name,
            revision.title,
            revision.effective_on,
            fee_item.article,
        )
        fee_item._charge_row_columns = columns
    return columns
