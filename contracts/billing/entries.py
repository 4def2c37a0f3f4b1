"""The one builder of ledger rows (支払義務台帳): every row the services and the close append is made here."""

import datetime as dt

from contracts.models import LedgerEntry
from core import clock
from options.models import FeeItem


def ledger_row(
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
) -> LedgerEntry:
    """Return an unsaved row priced from `fee_item` (its revision and article are the row's basis).

    It is booked in the JST month it arises in, unless the close books it into the month being closed.
    """
    return LedgerEntry(
        kind=kind,
        option_contract_id=option_contract_id,
        application_id=application_id,
        fee_item=fee_item,
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
        reverses=reverses,
        reason=reason,
        created_by=actor,
    )


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
