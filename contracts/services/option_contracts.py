"""Option contracts (オプション契約) after approval: billing start, end, and contracts from before the system."""

import datetime as dt

from django.db import transaction

from contracts.billing.timeline import timeline_set
from contracts.choices import OPTION_CONTRACT_TRANSITIONS, OptionContractStatus, TermsEvent
from contracts.models import BaseServiceContract, CarrierLineContract, OptionContract, Subscriber
from contracts.selectors import EligibilityMode, GivenBasis, option_held_refusal
from core import clock
from core.errors import DomainError
from core.history_write import save_with_history
from core.limits import date_assert_in_bounds
from core.transactions import durable_service
from core.wareki import format_date
from options.models import Option, OptionVariant
from options.selectors import option_retired_refusal
from security.accounts import staff_assert_independent

from .audit import require_permission, require_reason
from .eligibility import eligibility_assert
from .ledger import ledger_append_monthly, ledger_append_monthly_for_later_periods, ledger_price_monthly
from .locks import lock_option_contract, lock_subscriber
from .terms import terms_assert_quantity, terms_assert_quote


def option_contract_assert_transition(contract: OptionContract, to: str) -> None:
    """Refuse a status change the one map (OPTION_CONTRACT_TRANSITIONS) does not allow."""
    if to not in OPTION_CONTRACT_TRANSITIONS[contract.status]:
        raise DomainError(
            f"「{contract.get_status_display()}」のオプション契約を「{OptionContractStatus(to).label}」にはできません。",
            code="contract_transition",
        )


def _lock(option_contract: OptionContract) -> OptionContract:
    lock_subscriber(option_contract.subscriber_id)
    return lock_option_contract(option_contract)


def option_contract_assert_confirmed(contract: OptionContract) -> None:
    """A migrated contract nobody has confirmed yet is not in force: nothing is done on it until it is."""
    if contract.migrated and contract.confirmed_at is None:
        raise DomainError(
            f"オプション契約 #{contract.pk} は移行データの確認待ちです。登録者とは別の職員が確認してから"
            "操作してください（確認されるまで契約条件は適用されず、課金もされません）。",
            code="migration_unconfirmed",
        )


def _approval_date(contract: OptionContract) -> dt.date:
    return clock.jst_date(contract.approved_at) if contract.approved_at else contract.contracted_on


@transaction.atomic(durable=True)
def option_contract_set_billing_start(
    *, option_contract: OptionContract, billing_start_date: dt.date, actor
) -> OptionContract:
    """Set the 課金開始日 and write the 月額費用 obligation arising on it (priced from the revision in force then).

    Not before the approval's JST date. Setting the same date again writes nothing.
    """
    require_permission(actor, "contracts.change_optioncontract", action="課金開始日を登録する")
    date_assert_in_bounds(billing_start_date, label="課金開始日")
    contract = _lock(option_contract)
    option_contract_assert_confirmed(contract)
    if contract.billing_start_date == billing_start_date:
        return contract  # a retried request: the obligation is written already
    if contract.billing_start_date is not None:
        raise DomainError(
            f"課金開始日は{format_date(contract.billing_start_date)}で登録済みです。"
            "誤りは訂正申込（課金開始日の訂正）で訂正してください。",
            code="billing_start_set",
        )
    option_contract_assert_transition(contract, OptionContractStatus.BILLING)
    billing_start_assert_valid(contract, billing_start_date)
    priced = ledger_price_monthly(option_contract=contract, on=billing_start_date)
    contract.billing_start_date = billing_start_date
    contract.status = OptionContractStatus.BILLING
    reason = f"課金開始日を{format_date(billing_start_date)}に設定（月額費用の支払義務発生）"
    save_with_history(contract, actor=actor, reason=reason)
    ledger_append_monthly(
        option_contract=contract,
        application=contract.origin_application,
        priced=priced,
        effective_from=billing_start_date,
        actor=actor,
        reason=reason,
    )
    ledger_append_monthly_for_later_periods(
        option_contract=contract, after=billing_start_date, actor=actor, reason=reason
    )
    return contract


def billing_start_assert_valid(contract: OptionContract, billing_start_date: dt.date) -> None:
    """A 課金開始日 is not before the approval's JST date, nor after the contract's last day (when it has one)."""
    earliest = _approval_date(contract)
    if billing_start_date < earliest:
        raise DomainError(
            f"課金開始日（{format_date(billing_start_date)}）は承諾日（{format_date(earliest)}）より前にできません。",
            article=contract.option.fee_article,
            code="billing_before_approval",
        )
    if contract.end_date is not None and billing_start_date > contract.end_date:
        raise DomainError(
            f"課金開始日（{format_date(billing_start_date)}）は解約日（{format_date(contract.end_date)}）より後にできません。",
            code="billing_after_end",
        )


@transaction.atomic(savepoint=False)
def option_contract_close(*, contract: OptionContract, end_date: dt.date, actor, reason: str) -> OptionContract:
    """End a locked contract on `end_date` (the last day of service); monthly charges stop there."""
    date_assert_in_bounds(end_date, label="解約日")
    option_contract_assert_transition(contract, OptionContractStatus.ENDED)
    first_day = contract.billing_start_date or contract.contracted_on
    if end_date < first_day:
        label = "課金開始日" if contract.billing_start_date else "契約成立日"
        raise DomainError(
            f"解約日（{format_date(end_date)}）は{label}（{format_date(first_day)}）より前にできません。",
            code="end_before_start",
        )
    contract.end_date = end_date
    contract.status = OptionContractStatus.ENDED
    save_with_history(contract, actor=actor, reason=reason)
    return contract


@transaction.atomic(durable=True)
def option_contract_end(*, option_contract: OptionContract, end_date: dt.date, actor, reason: str) -> OptionContract:
    """End an option contract on `end_date` (its last day). Ending it again on the same date writes nothing.

    It ends the contract without a 解約申込, so it takes the permission of one who decides applications.
    """
    require_permission(actor, "contracts.decide_application", action="オプション契約を解約する")
    reason = require_reason(reason)
    date_assert_in_bounds(end_date, label="解約日")
    contract = _lock(option_contract)
    option_contract_assert_confirmed(contract)
    if contract.status == OptionContractStatus.ENDED and contract.end_date == end_date:
        return contract
    return option_contract_close(contract=contract, end_date=end_date, actor=actor, reason=reason)


def option_contract_assert_not_held(
    subscriber: Subscriber,
    option,
    *,
    base_contract: BaseServiceContract | None,
    carrier_line: CarrierLineContract | None,
) -> None:
    """Refuse a second open contract of `option` on the same basis (selectors.option_held_refusal)."""
    refusal = option_held_refusal(subscriber, option, base_contract=base_contract, carrier_line=carrier_line)
    if refusal is not None:
        raise DomainError(refusal.message, code=refusal.code)


@durable_service
def option_contract_register_migrated(
    *,
    subscriber: Subscriber,
    option: Option,
    variant: OptionVariant,
    contracted_on: dt.date,
    quantity: int = 1,
    quoted_amount_yen: int | None = None,
    billing_start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    base_contract: BaseServiceContract | None = None,
    carrier_line: CarrierLineContract | None = None,
    actor,
    reason: str = "",
) -> OptionContract:
    """Register a contract made before the system (DOMAIN §3.13): real dates, no approval flow, no obligations.

    It waits for confirmation: its terms enter the timeline (and billing) when another person confirms it
    (option_contract_confirm_migrated).
    """
    require_permission(actor, "contracts.add_optioncontract", action="移行データを登録する")
    date_assert_in_bounds(contracted_on, label="契約成立日")
    date_assert_in_bounds(billing_start_date, label="課金開始日")
    date_assert_in_bounds(end_date, label="解約日")
    subscriber = lock_subscriber(subscriber)
    refusal = option_retired_refusal(option=option, on=contracted_on)
    if refusal is not None:
        raise refusal
    # Blocks are checked against today's tariff: the fees of the contract's own dates may not be entered yet.
    terms_assert_quantity(option=option, variant=variant, quantity=quantity, on=clock.today())
    if quoted_amount_yen is not None:
        terms_assert_quote(quoted_amount_yen)
    if billing_start_date is not None and billing_start_date < contracted_on:
        raise DomainError(
            f"課金開始日（{format_date(billing_start_date)}）が契約成立日（{format_date(contracted_on)}）より前です。",
            code="billing_before_contract",
        )
    first_day = billing_start_date or contracted_on
    if end_date is not None and end_date < first_day:
        raise DomainError(
            f"解約日（{format_date(end_date)}）が課金開始日・契約成立日（{format_date(first_day)}）より前です。",
            code="end_before_start",
        )
    eligibility_assert(
        subscriber=subscriber,
        option=option,
        on=contracted_on,
        mode=EligibilityMode.MIGRATED,
        given=GivenBasis(base_contract=base_contract, carrier_line=carrier_line),
    )
    if end_date is None:
        option_contract_assert_not_held(subscriber, option, base_contract=base_contract, carrier_line=carrier_line)
    if end_date is not None:
        status = OptionContractStatus.ENDED
    elif billing_start_date is not None:
        status = OptionContractStatus.BILLING
    else:
        status = OptionContractStatus.APPROVED
    contract = OptionContract(
        subscriber=subscriber,
        option=option,
        variant=variant,
        base_contract=base_contract,
        carrier_line=carrier_line,
        quantity=quantity,
        quoted_amount_yen=quoted_amount_yen,
        status=status,
        contracted_on=contracted_on,
        billing_start_date=billing_start_date,
        end_date=end_date,
        migrated=True,
        registered_by=actor,
    )
    reason = reason or "システム導入前の契約を移行データとして登録"
    save_with_history(contract, actor=actor, reason=reason)
    return contract


@transaction.atomic(durable=True)
def option_contract_confirm_migrated(*, option_contract: OptionContract, actor, reason: str = "") -> OptionContract:
    """Confirm a migrated contract against its source: its terms take effect from its 契約成立日; once.

    The confirmer is independent of the one who registered it (not the same person, and neither created the
    other's account). A contract registered by a management command (the system user) is confirmed by a person.
    """
    require_permission(actor, "contracts.change_optioncontract", action="移行データを確認する")
    contract = _lock(option_contract)
    if not contract.migrated:
        raise DomainError(f"オプション契約 #{contract.pk} は移行データではありません。", code="not_migrated")
    if contract.confirmed_at is not None:
        return contract
    registrant = contract.registered_by
    if registrant is not None and registrant.pk == actor.pk:
        raise DomainError(
            f"移行データ（オプション契約 #{contract.pk}）を登録した職員は、同じ移行データを確認できません。"
            "登録者とは別の職員が確認してください。",
            code="four_eyes",
        )
    staff_assert_independent(registrant, actor, what="移行データの登録者と確認者")
    contract.confirmed_by = actor
    contract.confirmed_at = clock.now()
    reason = reason or f"移行データの確認（{format_date(contract.contracted_on)}から契約条件を適用）"
    save_with_history(contract, actor=actor, reason=reason)
    timeline_set(
        contract=contract,
        valid_from=contract.contracted_on,
        option=contract.option,
        variant=contract.variant,
        quantity=contract.quantity,
        quoted_amount_yen=contract.quoted_amount_yen,
        event=TermsEvent.MIGRATION,
        actor=actor,
        reason=reason,
    )
    return contract
