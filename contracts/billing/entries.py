"""The one builder of ledger rows (支払義務台帳): every row the services and the close append is made here."""

import datetime as dt

from contracts.models import LedgerEntry
from core import clock
from options.models import FeeItem


def ledger_values(
    *,
    kind: str,
    option_contract_id: int,
    fee_item: FeeItem,
    quantity: int,
    blocks: int | None,
    unit_amount_yen: int,
    amount_yen: int,
    arisen_at: dt.datetime,
    actor,
    booked_month: dt.date | None = None,
    application_id: int | None = None,
    effective_from: dt.date | None = None,
    charge_month: dt.date | None = None,
    days_billed: int | None = None,
    days_in_month: int | None = None,
    reverses: LedgerEntry | None = None,
    reason: str = "",
) -> dict:
    """Return the fields of a row priced from `fee_item` (its revision and article are the row's basis), by
    attribute name.

    It is booked in the JST month it arises in, unless the close books it into the month being closed.
    """
    return dict(
        kind=kind,
        option_contract_id=option_contract_id,
        application_id=application_id,
        fee_item_id=fee_item.pk,
        revision_id=fee_item.revision_id,
        article=fee_item.article,
        quantity=quantity,
        blocks=blocks,
        unit_amount_yen=unit_amount_yen,
        amount_yen=amount_yen,
        arisen_at=arisen_at,
        booked_month=booked_month or clock.month_start(clock.jst_date(arisen_at)),
        effective_from=effective_from,
        charge_month=charge_month,
        days_billed=days_billed,
        days_in_month=days_in_month,
        reverses_id=reverses.pk if reverses is not None else None,
        reason=reason,
        created_by_id=actor.pk,
    )


def ledger_row(*, fee_item: FeeItem, actor, reverses: LedgerEntry | None = None, **fields) -> LedgerEntry:
    """Return an unsaved row: `ledger_values` as a model instance (see there for the arguments)."""
    row = LedgerEntry(**ledger_values(fee_item=fee_item, actor=actor, reverses=reverses, **fields))
    # Built from ids (cheap); the instances stay cached on the row as if they had been assigned.
    cache = row._state.fields_cache
    cache["fee_item"], cache["created_by"] = fee_item, actor
    if reverses is not None:
        cache["reverses"] = reverses
    return row


def reversal_row(original: LedgerEntry, *, arisen_at: dt.datetime, actor, reason: str) -> LedgerEntry:
    """The row that reverses `original`: the same obligation negated, booked when the reversal is made."""
    return ledger_row(
        kind=original.kind,
        option_contract_id=original.option_contract_id,
        application_id=original.application_id,
        fee_item=original.fee_item,
        quantity=original.quantity,
        blocks=original.blocks,
        unit_amount_yen=original.unit_amount_yen,
        amount_yen=-original.amount_yen,
        arisen_at=arisen_at,
        effective_from=original.effective_from,
        charge_month=original.charge_month,
        days_billed=original.days_billed,
        days_in_month=original.days_in_month,
        reverses=original,
        reason=reason,
        actor=actor,
    )
