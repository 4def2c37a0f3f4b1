"""Applications (申込) and their one workflow: 受付 → 審査中 → 承諾 / 不承諾 (reason) / 取下げ.

The allowed moves are APPLICATION_TRANSITIONS, the one map in `contracts.choices`; every decision goes
through `application_assert_transition`. Approval and rejection are allowed from 審査中 only: the review is
an explicit step, so an application is never decided by someone who never opened it.

Exactly once (DOMAIN §3.9): every decision locks subscriber → option contract → application (one order,
`locks.py`) and re-reads the status under the lock, so a second concurrent approval sees the first. Behind
that, the database holds the line: OptionContract.origin_application is one-to-one and the ledger's unique
constraints allow one row per application and fee item. A retried approval by the same approver returns
the approved application and writes nothing; anyone else is told who decided it.
"""

import datetime as dt
import hashlib

from django.db import transaction

from contracts.billing.timeline import periods_of, timeline_set
from contracts.choices import (
    APPLICATION_TRANSITIONS,
    OPEN_APPLICATION_STATUSES,
    ApplicationKind,
    ApplicationStatus,
    LedgerKind,
    OptionContractStatus,
    TermsEvent,
)
from contracts.models import Application, LedgerEntry, OptionContract, Subscriber
from contracts.selectors import EligibilityMode, application_four_eyes_refusal, basis_fields
from core import clock
from core.errors import DomainError
from core.history_read import staff_name
from core.history_write import save_with_history
from core.limits import date_assert_in_bounds
from core.text import TextKind, text_assert_clean
from core.wareki import format_date
from options.choices import FeeKind
from options.models import Option, OptionVariant
from options.selectors import option_retired_refusal, variant_is_quoted

from .audit import require_any_permission, require_permission, require_reason
from .corrections import correction_approve, correction_fields
from .eligibility import eligibility_assert, new_use_assert
from .ledger import ledger_append_monthly, ledger_append_on_approval, ledger_price_monthly
from .locks import lock_application, lock_option_contract, lock_subscriber
from .option_contracts import (
    option_contract_assert_confirmed,
    option_contract_assert_not_held,
    option_contract_close,
)
from .terms import terms_assert_quantity, terms_assert_quantity_in_bounds, terms_assert_quote, terms_price_all


def application_assert_transition(application: Application, to: str) -> None:
    """Refuse a move the one map (APPLICATION_TRANSITIONS) does not allow, saying what state it is in."""
    if to in APPLICATION_TRANSITIONS[application.status]:
        return
    label = ApplicationStatus(to).label
    if application.status == ApplicationStatus.RECEIVED:
        raise DomainError(
            f"申込 #{application.pk} は「受付」の状態です。審査を開始してから決裁（{label}）してください。",
            code="not_under_review",
        )
    decided = ""
    if application.decided_by_id:
        decided = f"（{staff_name(application.decided_by)}、{format_date(clock.jst_date(application.decided_at))}）"
    raise DomainError(
        f"申込 #{application.pk} は既に「{application.get_status_display()}」です{decided}。{label}にはできません。",
        code="already_decided",
    )


def _lock_tree(application: Application) -> tuple[Application, OptionContract | None]:
    """Lock subscriber → option contract → application and return the application as it is now."""
    lock_subscriber(application.subscriber_id)
    contract = lock_option_contract(application.option_contract_id) if application.option_contract_id else None
    return lock_application(application), contract


def _assert_four_eyes(application: Application, actor) -> None:
    """The approver is independent of the entrant (DOMAIN §3.8): contracts.selectors.application_four_eyes_refusal."""
    refusal = application_four_eyes_refusal(application, actor)
    if refusal is not None:
        raise refusal


# What an approver decides on: every term the detail page shows and the approval puts in force.
DECISIVE_TERMS = (
    "kind",
    "subscriber_id",
    "option_id",
    "variant_id",
    "quantity",
    "quoted_amount_yen",
    "effective_date",
    "option_contract_id",
    "base_contract_id",
    "carrier_line_id",
    "correction_target",
    "corrected_date",
    "correction_reason",
)


def application_terms_version(application: Application) -> str:
    """Return a token of the terms the approver saw; it changes when any of DECISIVE_TERMS changes."""
    text = "\x1f".join(f"{name}={getattr(application, name)!s}" for name in DECISIVE_TERMS)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def application_assert_version_seen(application: Application, seen_version: str | None) -> None:
    """Refuse a decision on terms that changed after the approver loaded the page (a quote entered meanwhile)."""
    if seen_version is None or seen_version == application_terms_version(application):
        return
    raise DomainError(
        f"申込 #{application.pk} の内容（見積額・数量・サービス・細目・日付など）は、この画面を開いた後に"
        "変更されています。画面を開き直し、最新の内容を確認してから承諾してください。",
        code="stale_version",
    )


def _new_use(subscriber: Subscriber, option, variant, *, on: dt.date) -> dict:
    """The fields of a 新規利用申込, once 利用の条件 hold and no such application or contract exists."""
    if option is None or variant is None:
        raise DomainError("オプションとサービス・細目を選択してください。", code="option_required")
    basis = new_use_assert(subscriber=subscriber, option=option, on=on).basis
    return {"option": option, "variant": variant, **basis_fields(basis)}


def _on_contract(subscriber: Subscriber, kind: str, option_contract, option, effective_date) -> OptionContract:
    """The contract a 契約内容変更申込 or 解約申込 names: the subscriber's, not ended, with nothing else pending."""
    if option_contract is None:
        raise DomainError(f"{kind.label}では対象のオプション契約を指定してください。", code="contract_required")
    contract = lock_option_contract(option_contract)
    option_contract_assert_confirmed(contract)
    if contract.subscriber_id != subscriber.pk:
        raise DomainError(f"オプション契約 #{contract.pk} はこの契約者の契約ではありません。", code="contract_mismatch")
    if contract.status == OptionContractStatus.ENDED and kind != ApplicationKind.CORRECTION:
        raise DomainError(
            f"オプション契約 #{contract.pk} は解約済みです（解約日 {format_date(contract.end_date)}）。",
            code="contract_ended",
        )
    if option is not None and option.pk != contract.option_id:
        raise DomainError("契約中のオプションとは別のオプションは指定できません。", code="option_mismatch")
    pending = contract.applications.filter(status__in=OPEN_APPLICATION_STATUSES).first()
    if pending is not None:
        raise DomainError(
            f"この契約には処理中の{pending.get_kind_display()}（#{pending.pk}）があります。",
            code="duplicate_application",
        )
    if kind == ApplicationKind.CANCEL:
        if effective_date is None:
            raise DomainError("解約申込では解約日（最終利用日）を入力してください。", code="end_date_required")
        first_day = contract.billing_start_date or contract.contracted_on
        if effective_date < first_day:
            raise DomainError(
                f"解約日（{format_date(effective_date)}）は課金開始日・契約成立日（{format_date(first_day)}）"
                "より前にできません。",
                code="end_before_start",
            )
    return contract


@transaction.atomic(durable=True)
def application_submit(*, actor, **terms) -> Application:
    """Receive an application (受付): every check of `application_check`, then the application saved.

    新規利用申込: eligibility (利用の条件) and whole blocks are checked now, and again at approval.
    契約内容変更申込・解約申込: name the option contract; variant, quantity and quote default to its own.
    解約申込 needs `effective_date`, the last day of service.
    訂正申込 names the contract, what is corrected, the corrected date (or the period) and why (DOMAIN §3.17).
    The terms are `_application_prepare`'s keyword arguments.
    """
    require_permission(actor, "contracts.add_application", action="申込を受け付ける")
    application = _application_prepare(actor=actor, **terms)
    save_with_history(application, actor=actor, reason=f"{application.get_kind_display()}の受付")
    return application


@transaction.atomic(durable=True)
def application_check(*, actor, **terms) -> Application:
    """確認 of an application: exactly the checks 申込 runs (`application_submit`), as of now, under the same
    locks; return the application 申込 would receive, unsaved (its 利用の条件 basis set). Writes nothing."""
    require_permission(actor, "contracts.add_application", action="申込を受け付ける")
    return _application_prepare(actor=actor, **terms)


def _application_prepare(
    *,
    subscriber: Subscriber,
    kind: str,
    option: Option | None = None,
    variant: OptionVariant | None = None,
    quantity: int | None = None,
    quoted_amount_yen: int | None = None,
    option_contract: OptionContract | None = None,
    effective_date: dt.date | None = None,
    note: str = "",
    correction_target: str = "",
    corrected_date: dt.date | None = None,
    correction_reason: str = "",
    actor,
) -> Application:
    """Every rule an application is received under, checked as of now; the application, not yet saved."""
    if kind not in ApplicationKind.values:
        raise DomainError("申込種別を選択してください。", code="kind_invalid")
    date_assert_in_bounds(effective_date, label="変更日・解約日")
    date_assert_in_bounds(corrected_date, label="訂正後の日付・訂正する期間の開始日")
    if quantity is not None:
        terms_assert_quantity_in_bounds(quantity)
    if quoted_amount_yen is not None:
        terms_assert_quote(quoted_amount_yen)
    note = text_assert_clean(note or "", label="申込の備考", kind=TextKind.TEXT)
    kind = ApplicationKind(kind)
    subscriber = lock_subscriber(subscriber)
    now = clock.now()
    today = clock.jst_date(now)
    quote = {"quoted_amount_yen": quoted_amount_yen, "quoted_by": actor, "quoted_at": now}
    if quoted_amount_yen is None:
        quote = {}
    if kind != ApplicationKind.CORRECTION and (correction_target or corrected_date or correction_reason):
        raise DomainError("訂正の項目・日付・理由は訂正申込でのみ指定できます。", code="correction_not_expected")
    if kind == ApplicationKind.NEW:
        if option_contract is not None or effective_date is not None:
            raise DomainError(
                "新規利用申込ではオプション契約や変更日・解約日を指定しません（課金開始日は承諾後に設定します）。",
                code="contract_not_expected",
            )
        fields = _new_use(subscriber, option, variant, on=today)
        quantity = 1 if quantity is None else quantity
    elif kind == ApplicationKind.CORRECTION:
        contract = _on_contract(subscriber, kind, option_contract, option, effective_date)
        fields = correction_fields(
            contract,
            target=correction_target,
            corrected_date=corrected_date,
            quantity=quantity,
            quoted_amount_yen=quoted_amount_yen,
            reason=correction_reason,
        )
        quantity = fields.pop("quantity")
        quote = {}
        if fields.get("quoted_amount_yen") is not None:
            quote = {"quoted_amount_yen": fields.pop("quoted_amount_yen"), "quoted_by": actor, "quoted_at": now}
        fields.pop("quoted_amount_yen", None)
        quoted_amount_yen = None  # checked by correction_fields against the period corrected
    else:
        contract = _on_contract(subscriber, kind, option_contract, option, effective_date)
        fields = {"option": contract.option, "variant": variant or contract.variant, "option_contract": contract}
        same_variant = fields["variant"].pk == contract.variant_id
        quantity = contract.quantity if quantity is None else quantity
        if not quote and same_variant:
            quote = {"quoted_amount_yen": contract.quoted_amount_yen, "quoted_by": contract.quoted_by}
        if kind == ApplicationKind.CANCEL and (not same_variant or quantity != contract.quantity):
            raise DomainError("解約申込ではサービス・細目や数量を変更できません。", code="cancel_with_change")
        same_quote = quote.get("quoted_amount_yen") == contract.quoted_amount_yen
        if kind == ApplicationKind.CHANGE and same_variant and quantity == contract.quantity and same_quote:
            raise DomainError(
                "変更内容がありません（サービス・細目、数量、見積額が現在の契約と同じです）。", code="no_change"
            )

    if kind != ApplicationKind.CORRECTION:
        terms_assert_quantity(option=fields["option"], variant=fields["variant"], quantity=quantity, on=today)
    if quoted_amount_yen is not None:
        terms_assert_quote(quoted_amount_yen)
        if not variant_is_quoted(variant=fields["variant"], on=today):
            raise DomainError(
                f"「{fields['variant'].name}」の料金は見積の対象ではありません。", code="quote_not_applicable"
            )
    application = Application(
        kind=kind,
        subscriber=subscriber,
        quantity=quantity,
        effective_date=effective_date,
        note=note,
        entered_by=actor,
        entered_at=now,
        **fields,
        **quote,
    )
    return application


@transaction.atomic(durable=True)
def application_start_review(*, application: Application, actor) -> Application:
    """受付 → 審査中. Starting the review of an application already under review writes nothing."""
    require_permission(actor, "contracts.decide_application", action="申込の審査を開始する")
    application, _ = _lock_tree(application)
    if application.status == ApplicationStatus.UNDER_REVIEW:
        return application
    application_assert_transition(application, ApplicationStatus.UNDER_REVIEW)
    application.status = ApplicationStatus.UNDER_REVIEW
    application.review_started_at = clock.now()
    save_with_history(application, actor=actor, reason="審査開始")
    return application


@transaction.atomic(durable=True)
def application_set_quote(*, application: Application, amount_yen: int, actor) -> Application:
    """Record the individually quoted amount (当社が別途契約者に示す金額) and who quoted it (DOMAIN §3.5)."""
    require_any_permission(
        actor, "contracts.change_application", "contracts.decide_application", action="見積額を入力する"
    )
    amount_yen = terms_assert_quote(amount_yen)
    application, _ = _lock_tree(application)
    if application.status not in OPEN_APPLICATION_STATUSES:
        raise DomainError(
            f"申込 #{application.pk} は「{application.get_status_display()}」のため、見積額を変更できません。",
            code="already_decided",
        )
    if not variant_is_quoted(variant=application.variant, on=clock.today()):
        raise DomainError(
            f"「{application.variant.name}」の料金は見積の対象ではありません。", code="quote_not_applicable"
        )
    if application.quoted_amount_yen == amount_yen and application.quoted_at is not None:
        return application
    before = application.quoted_amount_yen
    application.quoted_amount_yen = amount_yen
    application.quoted_by = actor
    application.quoted_at = clock.now()
    was = "未入力" if before is None else f"{before:,}円"
    save_with_history(application, actor=actor, reason=f"見積額の入力（{was} → {amount_yen:,}円）")
    return application


@transaction.atomic(durable=True)
def application_approve(*, application: Application, actor, seen_version: str | None = None) -> Application:
    """承諾: re-check the rules as of now and apply the application, with its obligations, exactly once.

    `seen_version` (application_terms_version of the page the approver decided on; the view always passes it):
    when the terms changed since, the approval is refused and nothing is written.

    新規利用申込: the option contract (approved at this instant, contracted on its JST date) and one 初期費用
    row per initial fee item in force. 契約内容変更申込: the change, its 一時費用 rows and, when billing, a new
    月額費用 row from the change's effective date. 解約申込: the contract ends on its end date.
    """
    require_permission(actor, "contracts.decide_application", action="申込を承諾する")
    application, contract = _lock_tree(application)
    if application.status == ApplicationStatus.APPROVED and application.decided_by_id == actor.pk:
        return application  # a retried request (double click, resent POST): done once already
    application_assert_transition(application, ApplicationStatus.APPROVED)
    _assert_four_eyes(application, actor)
    application_assert_version_seen(application, seen_version)
    now = clock.now()
    if application.kind == ApplicationKind.NEW:
        _approve_new(application, actor=actor, now=now)
    elif application.kind == ApplicationKind.CHANGE:
        _approve_change(application, contract, actor=actor, now=now)
    elif application.kind == ApplicationKind.CORRECTION:
        correction_approve(application, contract, actor=actor, now=now)
        _decide(application, ApplicationStatus.APPROVED, actor=actor, now=now, reason=_approval_reason(application))
    else:
        _approve_cancel(application, contract, actor=actor, now=now)
    return application


def _approval_reason(application: Application) -> str:
    return f"申込 #{application.pk}（{application.get_kind_display()}）の承諾"


def _decide(application: Application, status: str, *, actor, now: dt.datetime, reason: str) -> None:
    application.status = status
    application.decided_by = actor
    application.decided_at = now
    save_with_history(application, actor=actor, reason=reason)


def _approve_new(application: Application, *, actor, now: dt.datetime) -> None:
    today = clock.jst_date(now)
    subscriber, option = application.subscriber, application.option
    basis = eligibility_assert(subscriber=subscriber, option=option, on=today, mode=EligibilityMode.APPROVAL).basis
    option_contract_assert_not_held(subscriber, option, **basis_fields(basis))
    priced = terms_price_all(
        option=option,
        variant=application.variant,
        quantity=application.quantity,
        quoted_amount_yen=application.quoted_amount_yen,
        on=today,
    )
    contract = OptionContract(
        subscriber=subscriber,
        option=option,
        variant=application.variant,
        quantity=application.quantity,
        quoted_amount_yen=application.quoted_amount_yen,
        quoted_by=application.quoted_by,
        status=OptionContractStatus.APPROVED,
        origin_application=application,
        contracted_on=today,
        approved_at=now,
        approved_by=actor,
        **basis_fields(basis),
    )
    reason = f"申込 #{application.pk}（新規利用申込）の承諾"
    save_with_history(contract, actor=actor, reason=f"{reason}により契約成立（初期費用の支払義務発生）")
    timeline_set(
        contract=contract,
        valid_from=today,
        option=option,
        variant=application.variant,
        quantity=application.quantity,
        quoted_amount_yen=application.quoted_amount_yen,
        event=TermsEvent.APPROVAL,
        application=application,
        actor=actor,
        reason=reason,
    )
    application.option_contract = contract
    for name, value in basis_fields(basis).items():
        setattr(application, name, value)
    _decide(application, ApplicationStatus.APPROVED, actor=actor, now=now, reason=reason)
    ledger_append_on_approval(
        fee_kind=FeeKind.INITIAL,
        option_contract=contract,
        application=application,
        priced=priced,
        approved_at=now,
        actor=actor,
        reason=f"{reason}による初期費用",
    )


def _latest_monthly(contract: OptionContract) -> LedgerEntry | None:
    return (
        contract.ledger_entries.filter(kind=LedgerKind.MONTHLY, reverses__isnull=True, reversed_by__isnull=True)
        .order_by("-effective_from", "-pk")
        .first()
    )


def _approve_change(application: Application, contract: OptionContract, *, actor, now: dt.datetime) -> None:
    """Put the change in force from its effective date, in the terms timeline, with its fees.

    The change takes effect on its own date, before billing starts as well as after (DOMAIN §3.16): days before
    it bill on the terms before it. It must come after the start of the latest period (an earlier date would
    rewrite what was agreed: that is a correction), and not before the 課金開始日 once one is set. While billing
    has a start date, the 月額費用 owed from the change's date is written now.
    """
    today = clock.jst_date(now)
    if contract.status == OptionContractStatus.ENDED:
        raise DomainError(
            f"オプション契約 #{contract.pk} は解約が承諾済みのため、変更できません"
            f"（解約日 {format_date(contract.end_date)}）。",
            code="contract_ended",
        )
    effective = application.effective_date or today
    refusal = option_retired_refusal(option=contract.option, on=effective)
    if refusal is not None:  # DOMAIN §3.19: a retired option's contract continues only as its successor
        raise refusal
    if effective < contract.contracted_on:
        raise DomainError(
            f"変更日（{format_date(effective)}）が契約成立日（{format_date(contract.contracted_on)}）より前です。",
            code="change_before_contract",
        )
    latest = periods_of(contract)[-1]
    if effective < latest.valid_from:
        raise DomainError(
            f"変更日（{format_date(effective)}）は、現在の契約条件の適用開始日"
            f"（{format_date(latest.valid_from)}）より前にできません（過去の条件の誤りは訂正申込で訂正します）。",
            code="change_before_terms",
        )
    billing = contract.billing_start_date is not None
    if billing:
        if effective < contract.billing_start_date:
            raise DomainError(
                f"変更日（{format_date(effective)}）は課金開始日（{format_date(contract.billing_start_date)}）"
                "より前にできません。",
                code="change_before_billing",
            )
        monthly = _latest_monthly(contract)
        if monthly is not None and effective <= monthly.effective_from:
            raise DomainError(
                f"変更日（{format_date(effective)}）は、現在の月額費用の適用開始日"
                f"（{format_date(monthly.effective_from)}）より後の日付にしてください。",
                code="change_before_monthly",
            )
    priced = terms_price_all(
        option=contract.option,
        variant=application.variant,
        quantity=application.quantity,
        quoted_amount_yen=application.quoted_amount_yen,
        on=today,
    )

    changes = []
    if application.variant_id != contract.variant_id:
        changes.append(f"サービス・細目 {contract.variant.name} → {application.variant.name}")
    if application.quantity != contract.quantity:
        changes.append(f"数量 {contract.quantity} → {application.quantity}")
    if application.quoted_amount_yen != contract.quoted_amount_yen:
        changes.append("見積額の変更")
    contract.variant = application.variant
    contract.quantity = application.quantity
    contract.quoted_amount_yen = application.quoted_amount_yen
    contract.quoted_by = application.quoted_by

    reason = _approval_reason(application)
    save_with_history(contract, actor=actor, reason=f"{reason}: {'、'.join(changes)}（{format_date(effective)}から）")
    timeline_set(
        contract=contract,
        valid_from=effective,
        option=contract.option,
        variant=application.variant,
        quantity=application.quantity,
        quoted_amount_yen=application.quoted_amount_yen,
        event=TermsEvent.CHANGE,
        application=application,
        actor=actor,
        reason=reason,
    )
    monthly = ledger_price_monthly(option_contract=contract, on=effective) if billing else None
    _decide(application, ApplicationStatus.APPROVED, actor=actor, now=now, reason=reason)
    ledger_append_on_approval(
        fee_kind=FeeKind.ONE_TIME,
        option_contract=contract,
        application=application,
        priced=priced,
        approved_at=now,
        actor=actor,
        reason=f"{reason}による一時費用",
    )
    if monthly is not None:
        ledger_append_monthly(
            option_contract=contract,
            application=application,
            priced=monthly,
            effective_from=effective,
            actor=actor,
            reason=f"{reason}による月額費用の変更（{format_date(effective)}から）",
        )


def _approve_cancel(application: Application, contract: OptionContract, *, actor, now: dt.datetime) -> None:
    reason = f"申込 #{application.pk}（解約申込）の承諾"
    option_contract_close(
        contract=contract,
        end_date=application.effective_date,
        actor=actor,
        reason=f"{reason}により解約（最終利用日 {format_date(application.effective_date)}）",
    )
    _decide(application, ApplicationStatus.APPROVED, actor=actor, now=now, reason=reason)


@transaction.atomic(durable=True)
def application_reject(*, application: Application, reason: str, actor) -> Application:
    """不承諾, with the reason the subscriber is told; the approver is never the entrant."""
    require_permission(actor, "contracts.decide_application", action="申込を不承諾とする")
    reason = require_reason(reason, label="不承諾の理由")
    application, _ = _lock_tree(application)
    if (
        application.status == ApplicationStatus.REJECTED
        and application.decided_by_id == actor.pk
        and application.rejection_reason == reason
    ):
        return application
    application_assert_transition(application, ApplicationStatus.REJECTED)
    _assert_four_eyes(application, actor)
    application.rejection_reason = reason
    _decide(application, ApplicationStatus.REJECTED, actor=actor, now=clock.now(), reason=f"不承諾: {reason}")
    return application


@transaction.atomic(durable=True)
def application_withdraw(*, application: Application, reason: str, actor) -> Application:
    """取下げ at the subscriber's request, before a decision."""
    require_permission(actor, "contracts.change_application", action="申込を取り下げる")
    reason = require_reason(reason, label="取下げの理由")
    application, _ = _lock_tree(application)
    if application.status == ApplicationStatus.WITHDRAWN:
        return application
    application_assert_transition(application, ApplicationStatus.WITHDRAWN)
    application.status = ApplicationStatus.WITHDRAWN
    application.withdrawn_at = clock.now()
    application.withdrawal_reason = reason
    save_with_history(application, actor=actor, reason=f"取下げ: {reason}")
    return application
