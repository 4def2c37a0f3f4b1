"""訂正申込 (DOMAIN §3.17): a billing start date, an end date, a quantity or a quote entered wrongly.

A correction is an application of its own kind and goes through the one workflow (受付 → 審査中 → 承諾 /
不承諾 / 取下げ, four eyes). `correction_fields` checks it at submission; `correction_approve` applies it at
approval, in the approval's transaction: the new terms period or dates, the reversal of every 月額費用 row the
error priced, and the corrected rows. Months already closed are never rewritten: the next close books the
difference as adjustments (contracts.billing.charges.adjustment_lines), because the contract changed after it.
"""

import datetime as dt

from contracts.billing.timeline import Period, periods_of, timeline_set
from contracts.choices import CorrectionTarget, LedgerKind, TermsEvent
from contracts.models import Application, LedgerEntry, OptionContract
from core import clock
from core.errors import DomainError
from core.history_write import save_with_history
from core.wareki import format_date
from options.models import OptionVariant
from options.selectors import variant_is_quoted

from .audit import require_reason
from .ledger import ledger_append_monthly, ledger_append_monthly_for_later_periods, ledger_price_monthly, ledger_reverse
from .option_contracts import billing_start_assert_valid
from .terms import terms_assert_quantity, terms_assert_quote


def _monthly_rows(contract: OptionContract):
    """The contract's 月額費用 rows still standing (neither a reversal nor reversed), oldest first."""
    return LedgerEntry.objects.filter(
        option_contract=contract, kind=LedgerKind.MONTHLY, reverses__isnull=True, reversed_by__isnull=True
    ).order_by("effective_from", "pk")


def _period_starting(contract: OptionContract, day: dt.date | None) -> Period:
    periods = periods_of(contract)
    for period in periods:
        if period.valid_from == day:
            return period
    starts = "、".join(format_date(p.valid_from) for p in periods)
    raise DomainError(
        f"訂正する期間の開始日を選んでください（この契約の契約条件の期間の開始日: {starts}）。",
        code="correction_period_unknown",
    )


def correction_fields(
    contract: OptionContract,
    *,
    target: str,
    corrected_date: dt.date | None,
    quantity: int | None,
    quoted_amount_yen: int | None,
    reason: str,
) -> dict:
    """The fields of a 訂正申込 on `contract`, once what it asks is a correction that can be made."""
    if target not in CorrectionTarget.values:
        raise DomainError("訂正する項目を選択してください。", code="correction_target_required")
    reason = require_reason(reason, label="訂正の理由")
    if corrected_date is None:
        label = "訂正する期間の開始日" if target == CorrectionTarget.TERMS else "訂正後の日付"
        raise DomainError(f"{label}を入力してください。", code="corrected_date_required")
    fields = {
        "option": contract.option,
        "variant": contract.variant,
        "option_contract": contract,
        "correction_target": target,
        "corrected_date": corrected_date,
        "correction_reason": reason,
        "quantity": contract.quantity,
        "quoted_amount_yen": None,
    }
    if target == CorrectionTarget.BILLING_START:
        _check_billing_start(contract, corrected_date)
    elif target == CorrectionTarget.END_DATE:
        _check_end_date(contract, corrected_date)
    else:
        period = _period_starting(contract, corrected_date)
        fields["variant"] = OptionVariant.objects.select_related("option").get(pk=period.variant_id)
        fields["quantity"] = period.quantity if quantity is None else quantity
        quote = period.quoted_amount_yen if quoted_amount_yen is None else quoted_amount_yen
        _check_terms(contract, period, quantity=fields["quantity"], quoted_amount_yen=quote, variant=fields["variant"])
        fields["quoted_amount_yen"] = quote
    return fields


def _check_billing_start(contract: OptionContract, day: dt.date) -> None:
    if contract.billing_start_date is None:
        raise DomainError(
            "課金開始日が登録されていないため訂正できません。オプション契約の画面で課金開始日を登録してください。",
            code="billing_start_missing",
        )
    if day == contract.billing_start_date:
        raise DomainError(f"訂正後の課金開始日が現在の課金開始日（{format_date(day)}）と同じです。", code="no_change")
    billing_start_assert_valid(contract, day)
    later = [r.effective_from for r in _monthly_rows(contract) if r.effective_from > contract.billing_start_date]
    if later and day >= later[0]:
        raise DomainError(
            f"訂正後の課金開始日（{format_date(day)}）は、契約内容の変更による月額費用の適用開始日"
            f"（{format_date(later[0])}）より前にしてください。",
            code="billing_start_after_change",
        )


def _check_end_date(contract: OptionContract, day: dt.date) -> None:
    if contract.end_date is None:
        raise DomainError(
            "解約日が登録されていないため訂正できません。解約は解約申込で受け付けてください。",
            code="end_date_missing",
        )
    if day == contract.end_date:
        raise DomainError(f"訂正後の解約日が現在の解約日（{format_date(day)}）と同じです。", code="no_change")
    first_day = contract.billing_start_date or contract.contracted_on
    if day < first_day:
        raise DomainError(
            f"解約日（{format_date(day)}）は課金開始日・契約成立日（{format_date(first_day)}）より前にできません。",
            code="end_before_start",
        )


def _check_terms(contract, period: Period, *, quantity, quoted_amount_yen, variant) -> None:
    terms_assert_quantity(option=contract.option, variant=variant, quantity=quantity, on=period.valid_from)
    if quoted_amount_yen is not None and quoted_amount_yen != period.quoted_amount_yen:
        terms_assert_quote(quoted_amount_yen)
        # A period may start before any fee item was entered (a migrated contract): today's tariff says then.
        quoted_then = variant_is_quoted(variant=variant, on=period.valid_from)
        if not quoted_then and not variant_is_quoted(variant=variant, on=clock.today()):
            raise DomainError(f"「{variant.name}」の料金は見積の対象ではありません。", code="quote_not_applicable")
    if (quantity, quoted_amount_yen) == (period.quantity, period.quoted_amount_yen):
        raise DomainError(
            f"訂正内容がありません（{format_date(period.valid_from)}からの期間の数量・見積額と同じです）。",
            code="no_change",
        )


def correction_approve(application: Application, contract: OptionContract, *, actor, now: dt.datetime) -> None:
    """Apply an approved correction to a locked contract (re-checked as of now); the caller records the decision."""
    target = application.correction_target
    day = application.corrected_date
    reason = f"申込 #{application.pk}（訂正申込）の承諾: {application.correction_reason}"
    if target == CorrectionTarget.BILLING_START:
        _check_billing_start(contract, day)
        _correct_billing_start(application, contract, day, actor=actor, reason=reason)
    elif target == CorrectionTarget.END_DATE:
        _check_end_date(contract, day)
        before = contract.end_date
        contract.end_date = day
        save_with_history(
            contract, actor=actor, reason=f"{reason}（解約日 {format_date(before)} → {format_date(day)}）"
        )
    else:
        period = _period_starting(contract, day)
        _check_terms(
            contract,
            period,
            quantity=application.quantity,
            quoted_amount_yen=application.quoted_amount_yen,
            variant=application.variant,
        )
        _correct_terms(application, contract, period, actor=actor, reason=reason)


def _correct_billing_start(application, contract, day: dt.date, *, actor, reason: str) -> None:
    before = contract.billing_start_date
    wrong = list(_monthly_rows(contract).filter(effective_from=before))
    for row in wrong:
        ledger_reverse(original=row, actor=actor, reason=reason, application=application)
    contract.billing_start_date = day
    save_with_history(
        contract, actor=actor, reason=f"{reason}（課金開始日 {format_date(before)} → {format_date(day)}）"
    )
    if contract.migrated and not wrong:
        return  # a migrated contract's billing start was registered without an obligation row (DOMAIN §3.13)
    priced = ledger_price_monthly(option_contract=contract, on=day)
    ledger_append_monthly(
        option_contract=contract,
        application=application,
        priced=priced,
        effective_from=day,
        actor=actor,
        reason=f"{reason}（訂正後の月額費用、{format_date(day)}から）",
    )
    # Moved back before a change approved while billing had not started: that change is owed from its date.
    ledger_append_monthly_for_later_periods(
        option_contract=contract, after=day, actor=actor, reason=reason, application=application
    )


def _correct_terms(application, contract, period: Period, *, actor, reason: str) -> None:
    timeline_set(
        contract=contract,
        valid_from=period.valid_from,
        option=contract.option,
        variant=application.variant,
        quantity=application.quantity,
        quoted_amount_yen=application.quoted_amount_yen,
        event=TermsEvent.CORRECTION,
        application=application,
        actor=actor,
        reason=reason,
        replace=True,
    )
    if period.valid_until is None:  # the period in force now: the contract row shows it
        contract.quantity = application.quantity
        contract.quoted_amount_yen = application.quoted_amount_yen
        save_with_history(contract, actor=actor, reason=reason)
    rows = _monthly_rows(contract).filter(effective_from__gte=period.valid_from)
    if period.valid_until is not None:
        rows = rows.filter(effective_from__lte=period.valid_until)
    for row in list(rows):
        ledger_reverse(original=row, actor=actor, reason=reason, application=application)
        ledger_append_monthly(
            option_contract=contract,
            application=application,
            priced=ledger_price_monthly(option_contract=contract, on=row.effective_from),
            effective_from=row.effective_from,
            actor=actor,
            reason=f"{reason}（訂正後の月額費用、{format_date(row.effective_from)}から）",
        )
