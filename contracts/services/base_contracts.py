"""Base-service contracts (基本サービス契約): the company's services an option rests on (第3条・第5条)."""

import datetime as dt

from django.db.models import Q

from contracts.models import BaseServiceContract, Subscriber
from core.errors import DomainError
from core.history_write import save_with_history
from core.limits import date_assert_in_bounds
from core.search import text_for_storage
from core.text import values_assert_clean
from core.transactions import durable_service
from core.wareki import format_date
from options.models import Service

from .audit import require_permission, require_reason
from .locks import lock_subscriber


def assert_dates(start_date: dt.date, end_date: dt.date | None, *, start_label: str = "利用開始日") -> None:
    date_assert_in_bounds(start_date, label=start_label)
    date_assert_in_bounds(end_date, label="利用終了日")
    if end_date is not None and end_date < start_date:
        raise DomainError(
            f"利用終了日（{format_date(end_date)}）が{start_label}（{format_date(start_date)}）より前です。",
            code="end_before_start",
        )


def assert_subscriber_active(subscriber: Subscriber) -> None:
    if not subscriber.is_active:
        raise DomainError(f"契約者「{subscriber}」は無効化されています。", code="subscriber_inactive")


def assert_no_option_contract_after(contracts, *, end_date: dt.date, what: str) -> None:
    """Refuse to end what an option contract still rests on after `end_date`."""
    blocking = contracts.filter(Q(end_date__isnull=True) | Q(end_date__gt=end_date)).select_related("option").first()
    if blocking is not None:
        raise DomainError(
            f"この{what}を利用するオプション契約（{blocking.option.name}）が{format_date(end_date)}より後も続きます。"
            "先にオプション契約の解約申込を処理してください。",
            code="option_contract_depends",
        )


@durable_service
def base_contract_create(
    *,
    subscriber: Subscriber,
    service: Service,
    start_date: dt.date,
    end_date: dt.date | None = None,
    contract_number: str = "",
    actor,
    migrated: bool = False,
    reason: str = "",
) -> BaseServiceContract:
    """Register a subscriber's contract for one of the company's services."""
    require_permission(actor, "contracts.add_baseservicecontract", action="基本サービス契約を登録する")
    contract_number = text_for_storage(contract_number)  # as stored: ＷＥＢ－７７７１ is WEB-7771
    values_assert_clean(BaseServiceContract, {"contract_number": contract_number})
    assert_dates(start_date, end_date)
    subscriber = lock_subscriber(subscriber)
    if not migrated:
        assert_subscriber_active(subscriber)
    contract = BaseServiceContract(
        subscriber=subscriber,
        service=service,
        start_date=start_date,
        end_date=end_date,
        contract_number=contract_number,
        migrated=migrated,
    )
    default_reason = "移行データとして基本サービス契約を登録" if migrated else "基本サービス契約の登録"
    save_with_history(contract, actor=actor, reason=reason or default_reason)
    return contract


@durable_service
def base_contract_end(
    *, base_contract: BaseServiceContract, end_date: dt.date | None, actor, reason: str
) -> BaseServiceContract:
    """End a base-service contract on `end_date` (its last day); options resting on it must end first."""
    require_permission(actor, "contracts.change_baseservicecontract", action="基本サービス契約を終了する")
    reason = require_reason(reason)
    if end_date is None:
        raise DomainError("利用終了日を入力してください。", code="end_date_required")
    date_assert_in_bounds(end_date, label="利用終了日")
    lock_subscriber(base_contract.subscriber_id)
    contract = BaseServiceContract.objects.select_for_update().get(pk=base_contract.pk)
    if contract.end_date == end_date:
        return contract
    assert_dates(contract.start_date, end_date)
    assert_no_option_contract_after(contract.option_contracts.all(), end_date=end_date, what="基本サービス契約")
    contract.end_date = end_date
    save_with_history(contract, actor=actor, reason=reason)
    return contract
