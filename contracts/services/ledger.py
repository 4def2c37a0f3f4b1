"""The fee-obligation ledger (支払義務): rows are appended, never edited; a correction is a reversing row.

When each fee is owed (第2条・第4条・第6条):
- 初期費用: at the approval of the 新規利用申込, stamped with the approval's timestamp;
- 一時費用: at the approval of the 契約内容変更申込 that gives rise to it, stamped likewise;
- 月額費用: from the 課金開始日. One MONTHLY row records the monthly amount owed from its `effective_from`
  (JST midnight of that date is its `arisen_at`), priced on the terms in force that day; a change approved while
  billing writes a new MONTHLY row from its effective date. What each month charges is computed from the terms
  timeline (contracts.billing.charges) and written by the month close.

Reversal (取消) by hand is for money of its own: an 初期費用 or 一時費用 row, or a closed month's charge (a refund,
see contracts.billing.charges.adjustment_target). A 月額費用 row or an adjustment is refused with a pointer to
the 訂正申込: reversing it alone would change nothing that is charged (the charges read the terms timeline), so
only a correction, which changes the terms or dates and writes the reversing and corrected rows together, does.
"""

import datetime as dt

from django.db import transaction

from contracts.billing.entries import ledger_row, reversal_row
from contracts.billing.pricing import Priced, price
from contracts.billing.timeline import period_on, periods_of
from contracts.choices import LedgerKind
from contracts.models import Application, LedgerEntry, OptionContract
from core import clock
from core.errors import DomainError
from core.history_write import save_with_history
from core.wareki import format_date
from options.choices import FeeKind
from options.models import OptionVariant
from options.selectors import fee_item_in_force_or_error
from security.accounts import staff_assert_independent

from .audit import require_permission, require_reason
from .locks import lock_ledger_entry, lock_option_contract, lock_subscriber

# Kinds staff may reverse by hand; the others change only through a 訂正申込 (see the module docstring).
REVERSIBLE_KINDS = (LedgerKind.INITIAL, LedgerKind.ONE_TIME, LedgerKind.MONTHLY_CHARGE)


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
    entry = ledger_row(
        kind=kind,
        option_contract_id=option_contract.pk,
        application_id=application.pk if application else None,
        fee_item=priced.fee_item,
        quantity=priced.quantity,
        blocks=priced.blocks,
        unit_amount_yen=priced.unit_amount_yen,
        amount_yen=priced.amount_yen,
        arisen_at=arisen_at,
        effective_from=effective_from,
        actor=actor,
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
    """Price the monthly fee owed on `on`: the terms in force that day, the fee item in force that day (§3.12)."""
    period = period_on(periods_of(option_contract), on)
    if period is None:
        raise DomainError(
            f"{format_date(on)}時点の契約条件がないため、月額費用を計算できません（契約 #{option_contract.pk}）。",
            code="no_terms_on_date",
        )
    variant = OptionVariant.objects.select_related("option").get(pk=period.variant_id)
    item = fee_item_in_force_or_error(option=variant.option, variant=variant, kind=FeeKind.MONTHLY, on=on)
    return price(fee_item=item, quantity=period.quantity, quoted_amount_yen=period.quoted_amount_yen)


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


def ledger_append_monthly_for_later_periods(
    *, option_contract: OptionContract, after: dt.date, actor, reason: str, application: Application | None = None
) -> list[LedgerEntry]:
    """Write the 月額費用 row of every terms period that starts after `after` (the billing start) and has none.

    A change approved, or corrected, before billing started took effect on its own date: once billing starts,
    or its start is moved before the change, the fee is owed from the change's date too. The row names the
    application that set the period, or the one at hand.
    """
    standing = set(
        option_contract.ledger_entries.filter(
            kind=LedgerKind.MONTHLY, reverses__isnull=True, reversed_by__isnull=True
        ).values_list("effective_from", flat=True)
    )
    written = []
    for period in periods_of(option_contract):
        if period.valid_from <= after or period.valid_from in standing:
            continue
        source = Application.objects.get(pk=period.application_id) if period.application_id else application
        written.append(
            ledger_append_monthly(
                option_contract=option_contract,
                application=source or application,
                priced=ledger_price_monthly(option_contract=option_contract, on=period.valid_from),
                effective_from=period.valid_from,
                actor=actor,
                reason=f"{reason}: 契約内容変更による月額費用（{format_date(period.valid_from)}から）",
            )
        )
    return written


def ledger_reverse(*, original: LedgerEntry, actor, reason: str, application: Application | None = None) -> LedgerEntry:
    """Append the reversal of a locked, unreversed row (the services that correct call this inside theirs).

    A reversal made by a 訂正申込 names that application; a manual one keeps the original's.
    """
    reversal = reversal_row(original, arisen_at=clock.now(), actor=actor, reason=reason)
    if application is not None:
        reversal.application_id = application.pk
    save_with_history(reversal, actor=actor, reason=f"支払義務 #{original.pk} の取消: {reason}")
    return reversal


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
    if original.kind not in REVERSIBLE_KINDS:
        raise DomainError(
            f"支払義務 #{original.pk}（{original.get_kind_display()}）は取消では訂正できません。"
            "課金開始日・解約日・数量・見積額の誤りは、オプション契約の画面から訂正申込で訂正してください"
            "（承諾されると取消行と訂正後の行が記帳され、締め済みの月は次の締めで調整されます）。",
            code="reverse_needs_correction",
        )
    if original.application_id is not None and original.application.decided_by_id == actor.pk:
        raise DomainError(
            f"支払義務 #{original.pk} の申込を承諾した職員は、その支払義務を取り消せません。"
            "別の承認者が取り消してください。",
            code="four_eyes",
        )
    if original.created_by_id == actor.pk:
        raise DomainError(
            f"支払義務 #{original.pk} を記帳した職員は、その支払義務を取り消せません。別の承認者が取り消してください。",
            code="four_eyes",
        )
    if original.application_id is not None:
        staff_assert_independent(original.application.decided_by, actor, what="申込の承認者と取消を行う職員")
    staff_assert_independent(original.created_by, actor, what="支払義務を記帳した職員と取消を行う職員")
    done = LedgerEntry.objects.filter(reverses=original).first()
    if done is not None:
        raise DomainError(
            f"支払義務 #{original.pk} は取消済みです"
            f"（取消行 #{done.pk}、{format_date(clock.jst_date(done.arisen_at))}）。",
            code="already_reversed",
        )
    return ledger_reverse(original=original, actor=actor, reason=reason)
