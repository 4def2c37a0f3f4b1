"""月額 of the monthly report: the frozen MONTHLY_CHARGE/ADJUSTMENT rows of a closed month, or an open month's
charges and adjustments computed now (what its close would write) with the contracts it cannot price."""

import datetime as dt
from dataclasses import dataclass

from contracts.billing.charges import ChargeLine, Unpriced, adjustment_lines, contract_charges
from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, Subscriber
from options.models import FeeItem, Option, OptionVariant

from .as_closed import Closes, catalogue_field, ledger_scope, subscriber_field
from .layout import CHARGE_KINDS, KIND_ORDER


@dataclass(frozen=True)
class ChargeRow:
    """A line of 月額, from a computed ChargeLine (open month) or a frozen ledger row (closed month)."""

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


@dataclass(frozen=True)
class ChargePart:
    """月額 of a month: its rows, and (for an open month) the contracts that could not be priced."""

    rows: list[ChargeRow]
    unpriced: list[Unpriced]


def charge_part(closes: Closes) -> ChargePart:
    """Return 月額: ledger rows of kind MONTHLY_CHARGE/ADJUSTMENT in the month's scope, plus, for an open month,
    its charges and adjustments computed now (what its close would write) and the contracts it cannot price."""
    rows = _frozen_charge_rows(closes)
    unpriced: list[Unpriced] = []
    if closes.this is None:
        lines: list[ChargeLine] = []
        for result in contract_charges(first_month=closes.month, last_month=closes.month):
            if result.unpriced is not None:
                unpriced.append(result.unpriced)
            lines.extend(result.lines)
        adjustments = adjustment_lines(month=closes.month)
        lines.extend(adjustments.lines)
        unpriced.extend(adjustments.unpriced)
        rows += _computed_charge_rows(lines)
    rows.sort(key=lambda r: r.sort_key)
    unpriced.sort(key=lambda u: (u.subscriber_code, u.option_contract_id))
    return ChargePart(rows, unpriced)


def _frozen_charge_rows(closes: Closes) -> list[ChargeRow]:
    entries = (
        LedgerEntry.objects.filter(ledger_scope(closes), kind__in=CHARGE_KINDS)
        .annotate(
            subscriber_code=subscriber_field(closes, "code"),
            subscriber_name=subscriber_field(closes, "name"),
            option_name=catalogue_field(closes, Option, "fee_item__option", "name"),
            variant_name=catalogue_field(closes, OptionVariant, "fee_item__variant", "name"),
        )
        .values_list(
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
    )
    return [
        ChargeRow(
            option_contract_id=contract_id,
            subscriber_code=code,
            subscriber_name=name,
            option_id=option_id,
            option_name=option_name,
            variant_name=variant_name,
            kind=kind,
            kind_label=LedgerKind(kind).label,
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
        ) in entries
    ]


def _computed_charge_rows(lines: list[ChargeLine]) -> list[ChargeRow]:
    subscribers = (
        dict(
            (pk, (code, name))
            for pk, code, name in Subscriber.objects.filter(pk__in={line.subscriber_id for line in lines}).values_list(
                "pk", "code", "name"
            )
        )
        if lines
        else {}
    )
    return [charge_row_from_line(line, *subscribers[line.subscriber_id]) for line in lines]


def charge_row_from_line(line: ChargeLine, subscriber_code: str, subscriber_name: str) -> ChargeRow:
    fee_item: FeeItem = line.fee_item
    return ChargeRow(
        option_contract_id=line.option_contract_id,
        subscriber_code=subscriber_code,
        subscriber_name=subscriber_name,
        option_id=fee_item.option_id,
        option_name=fee_item.option.name,
        variant_name=fee_item.variant.name,
        kind=line.kind,
        kind_label=LedgerKind(line.kind).label,
        charge_month=line.charge_month,
        quantity=line.quantity,
        blocks=line.blocks,
        monthly_amount_yen=line.monthly_amount_yen,
        days_billed=line.days_billed,
        days_in_month=line.days_in_month,
        amount_yen=line.amount_yen,
        revision=fee_item.revision.title,
        revision_effective_on=fee_item.revision.effective_on,
        article=fee_item.article,
        reason=line.reason,
        fee_item_id=fee_item.pk,
    )
