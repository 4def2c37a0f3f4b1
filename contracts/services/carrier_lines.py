"""Carrier-line contracts (事業者回線契約): the carrier's specific service a 特定接続オプション needs (第1条)."""

import datetime as dt

from contracts.models import CarrierLineContract, Subscriber
from core import clock
from core.errors import DomainError
from core.history_write import save_with_history
from core.limits import date_assert_in_bounds
from core.search import text_for_storage
from core.text import values_assert_clean
from core.transactions import durable_service
from options.models import CarrierService

from .audit import require_permission, require_reason
from .base_contracts import assert_dates, assert_no_option_contract_after, assert_subscriber_active
from .locks import lock_subscriber


def _lock(carrier_line: CarrierLineContract) -> CarrierLineContract:
    lock_subscriber(carrier_line.subscriber_id)
    return (
        CarrierLineContract.objects.select_for_update(of=("self",))
        .select_related("carrier_service")
        .get(pk=carrier_line.pk)
    )


@durable_service
def carrier_line_create(
    *,
    subscriber: Subscriber,
    carrier_service: CarrierService,
    line_id: str,
    start_date: dt.date,
    actor,
    migrated: bool = False,
    end_date: dt.date | None = None,
    reason: str = "",
) -> CarrierLineContract:
    """Register the subscriber's contract with a carrier (unconfirmed until staff confirm it)."""
    require_permission(actor, "contracts.add_carrierlinecontract", action="事業者回線契約を登録する")
    line_id = text_for_storage(line_id)
    if not line_id:
        raise DomainError("回線ID・お客様IDを入力してください。", code="line_id_required")
    values_assert_clean(CarrierLineContract, {"line_id": line_id})
    assert_dates(start_date, end_date)
    subscriber = lock_subscriber(subscriber)
    if not migrated:
        assert_subscriber_active(subscriber)
    if subscriber.carrier_lines.filter(carrier_service=carrier_service, line_id=line_id).exists():
        raise DomainError(
            f"{carrier_service.name}の回線「{line_id}」はこの契約者に登録済みです。", code="carrier_line_exists"
        )
    line = CarrierLineContract(
        subscriber=subscriber,
        carrier_service=carrier_service,
        line_id=line_id,
        start_date=start_date,
        end_date=end_date,
        migrated=migrated,
    )
    default_reason = "移行データとして事業者回線契約を登録" if migrated else "事業者回線契約の登録"
    save_with_history(line, actor=actor, reason=reason or default_reason)
    return line


@durable_service
def carrier_line_confirm(*, carrier_line: CarrierLineContract, actor) -> CarrierLineContract:
    """Record that staff confirmed the carrier contract was concluded by the subscriber (第1条); once."""
    require_permission(actor, "contracts.change_carrierlinecontract", action="事業者回線契約を確認する")
    line = _lock(carrier_line)
    if line.confirmed_at is not None:
        return line
    line.confirmed_by = actor
    line.confirmed_at = clock.now()
    save_with_history(line, actor=actor, reason="事業者回線契約の確認（第1条）")
    return line


@durable_service
def carrier_line_end(
    *, carrier_line: CarrierLineContract, end_date: dt.date, actor, reason: str
) -> CarrierLineContract:
    """End a carrier-line contract on `end_date` (its last day); options resting on it must end first."""
    require_permission(actor, "contracts.change_carrierlinecontract", action="事業者回線契約を終了する")
    reason = require_reason(reason)
    date_assert_in_bounds(end_date, label="利用終了日")
    line = _lock(carrier_line)
    if line.end_date == end_date:
        return line
    assert_dates(line.start_date, end_date)
    assert_no_option_contract_after(line.option_contracts.all(), end_date=end_date, what="事業者回線契約")
    line.end_date = end_date
    save_with_history(line, actor=actor, reason=reason)
    return line
