"""The fee-obligation ledger (支払義務): rows are appended, never edited; a correction is a reversing row.

When each fee is owed (第2条・第4条・第6条):
- 初期費用: at the approval of the 新規利用申込, stamped with the approval's timestamp;
- 一時費用: at the approval of the 契約内容変更申込 that gives rise to it, stamped likewise;
- 月額費用: from the 課金開始日. One MONTHLY row records the monthly amount owed from its `effective_from`
  (JST midnight of that date is its `arisen_at`); a contract change writes a new MONTHLY row from the
  change's effective date. For a day D, the contract's monthly amount is that of its latest MONTHLY row
  (not reversed) with effective_from ≤ D, until the contract's end date. Each month's charge is a row of its
  own, written by the month close.
"""

import datetime as dt

from django.db import transaction

from contracts.choices import LedgerKind
from contracts.models import Application, LedgerEntry, OptionContract
from contracts.pricing import Priced, price
from options import clock
from options.choices import FeeKind
from options.errors import DomainError
from options.history import save_with_history
from options.selectors import fee_item_in_force_or_error
from options.wareki import format_date

from .audit import require_permission, require_reason
from .locks import lock_ledger_entry, lock_option_contract, lock_subscriber


def _append(
    *,
    kind: str,
    option_contract: OptionContract,
    application: Application | None,
    priced: Priced,
    arisen_at: dt.datetime,
    effective_from: dt.date | None = None,
    actor,
    reason: str,
) -> LedgerEntry:
    entry = LedgerEntry(
        kind=kind,
        option_contract=option_contract,
        application=application,
        fee_item=priced.fee_item,
        revision_id=priced.fee_item.revision_id,
        article=priced.fee_item.article,
        quantity=priced.quantity,
        blocks=priced.blocks,
        unit_amount_yen=priced.unit_amount_yen,
        amount_yen=priced.amount_yen,
        arisen_at=arisen_at,
        booked_month=clock.month_start(clock.jst_date(arisen_at)),
        effective_from=effective_from,
        created_by=actor,
    )
    save_with_history(entry, actor=actor, reason=reason)
    return entry


def ledger_append_on_approval(
    *,
    fee_kind: str,
    option_contract: OptionContract,
    application: Application,
    priced: list[Priced],
    approved_at: dt.datetime,
    actor,
    reason: str,
) -> list[LedgerEntry]:
    """Append one row per priced fee item of `fee_kind` (初期費用 or 一時費用), stamped with the approval."""
    return [
        _append(
            kind=LedgerKind(fee_kind),
            option_contract=option_contract,
            application=application,
            priced=p,
            arisen_at=approved_at,
            actor=actor,
            reason=reason,
        )
        for p in priced
        if p.fee_item.kind == fee_kind
    ]


def ledger_price_monthly(*, option_contract: OptionContract, on: dt.date) -> Priced:
    """Price the contract's monthly fee from the revision in force on `on`; a missing price is an error (§3.12)."""
    item = fee_item_in_force_or_error(
        option=option_contract.option, variant=option_contract.variant, kind=FeeKind.MONTHLY, on=on
    )
    return price(fee_item=item, quantity=option_contract.quantity, quoted_amount_yen=option_contract.quoted_amount_yen)


def ledger_append_monthly(
    *,
    option_contract: OptionContract,
    application: Application | None,
    priced: Priced,
    effective_from: dt.date,
    actor,
    reason: str,
) -> LedgerEntry:
    """Append the 月額費用 obligation owed from `effective_from` (a 0円 fee still gets its row)."""
    return _append(
        kind=LedgerKind.MONTHLY,
        option_contract=option_contract,
        application=application,
        priced=priced,
        arisen_at=clock.jst_midnight(effective_from),
        effective_from=effective_from,
        actor=actor,
        reason=reason,
    )


@transaction.atomic(durable=True)
def ledger_entry_reverse(*, entry: LedgerEntry, reason: str, actor) -> LedgerEntry:
    """Append the row that reverses `entry` (amount negated), booked in the JST month of the reversal; once."""
    require_permission(actor, "contracts.reverse_ledgerentry", action="支払義務を取り消す")
    reason = require_reason(reason, label="取消の理由")
    lock_subscriber(entry.option_contract.subscriber_id)
    lock_option_contract(entry.option_contract_id)
    original = lock_ledger_entry(entry)
    if original.reverses_id is not None:
        raise DomainError(f"支払義務 #{original.pk} は取消行のため、取り消せません。", code="reversal_of_reversal")
    done = LedgerEntry.objects.filter(reverses=original).first()
    if done is not None:
        raise DomainError(
            f"支払義務 #{original.pk} は取消済みです"
            f"（取消行 #{done.pk}、{format_date(clock.jst_date(done.arisen_at))}）。",
            code="already_reversed",
        )
    now = clock.now()
    reversal = LedgerEntry(
        kind=original.kind,
        option_contract_id=original.option_contract_id,
        application_id=original.application_id,
        fee_item_id=original.fee_item_id,
        revision_id=original.revision_id,
        article=original.article,
        quantity=original.quantity,
        blocks=original.blocks,
        unit_amount_yen=original.unit_amount_yen,
        amount_yen=-original.amount_yen,
        arisen_at=now,
        booked_month=clock.month_start(clock.jst_date(now)),
        effective_from=original.effective_from,
        charge_month=original.charge_month,
        days_billed=original.days_billed,
        days_in_month=original.days_in_month,
        reverses=original,
        reason=reason,
        created_by=actor,
    )
    save_with_history(reversal, actor=actor, reason=f"支払義務 #{original.pk} の取消: {reason}")
    return reversal
