"""Base-service and carrier-line contracts: what options rest on (第1条・第3条・第5条)."""

import datetime as dt

import pytest
import time_machine

from contracts.services import (
    base_contract_create,
    base_contract_end,
    carrier_line_confirm,
    carrier_line_create,
    carrier_line_end,
    subscriber_create,
)
from core.clock import JST
from core.errors import DomainError
from options.models import CarrierService, Service
from tests.factories import review_and_approve, submit_new, subscriber_with_base

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber(regulation, clerk):
    return subscriber_create(actor=clerk, code="C1", name="株式会社あおい")


def test_base_contract_create_records_history_and_refuses_an_end_before_the_start(subscriber, clerk):
    service = Service.objects.get(code="web-highgrade2")
    with pytest.raises(DomainError, match="利用終了日（.*）が利用開始日（.*）より前です。"):
        base_contract_create(
            subscriber=subscriber,
            service=service,
            start_date=dt.date(2026, 4, 1),
            end_date=dt.date(2026, 3, 31),
            actor=clerk,
        )
    contract = base_contract_create(
        subscriber=subscriber, service=service, start_date=dt.date(2026, 4, 1), contract_number="WHG-1", actor=clerk
    )
    entry = contract.history.get()
    assert (entry.history_user, entry.history_change_reason, entry.contract_number) == (
        clerk,
        "基本サービス契約の登録",
        "WHG-1",
    )


def test_base_contract_end_is_refused_while_an_option_rests_on_it(regulation, clerk, approver):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk)
    review_and_approve(submit_new(subscriber, "ipv6", "fiberaccess-f", actor=clerk), approver=approver)
    with pytest.raises(DomainError) as refused:
        base_contract_end(
            base_contract=subscriber.base_contracts.get(), end_date=dt.date(2026, 12, 31), actor=clerk, reason="解約"
        )
    assert refused.value.message == (
        "この基本サービス契約を利用するオプション契約（IPv6 接続オプション機能）が令和8年12月31日 (2026-12-31)より後も"
        "続きます。先にオプション契約の解約申込を処理してください。"
    )


def test_base_contract_end_records_the_reason(subscriber, clerk):
    contract = base_contract_create(
        subscriber=subscriber,
        service=Service.objects.get(code="fiberaccess-f"),
        start_date=dt.date(2026, 4, 1),
        actor=clerk,
    )
    with pytest.raises(DomainError, match="変更理由を入力してください。"):
        base_contract_end(base_contract=contract, end_date=dt.date(2026, 9, 30), actor=clerk, reason="")
    base_contract_end(base_contract=contract, end_date=dt.date(2026, 9, 30), actor=clerk, reason="解約届")
    contract.refresh_from_db()
    assert contract.end_date == dt.date(2026, 9, 30)
    assert contract.history.latest().history_change_reason == "解約届"


def test_carrier_line_confirm_stamps_who_and_when_once(subscriber, clerk, clerk2):
    line = carrier_line_create(
        subscriber=subscriber,
        carrier_service=CarrierService.objects.get(code="flets-next-prio1"),
        line_id=" CAF0001 ",
        start_date=dt.date(2026, 4, 1),
        actor=clerk,
    )
    assert (line.line_id, line.confirmed_by, line.confirmed_at) == ("CAF0001", None, None)
    at = dt.datetime(2026, 4, 2, 9, 30, tzinfo=JST)
    with time_machine.travel(at, tick=False):
        carrier_line_confirm(carrier_line=line, actor=clerk2)
    carrier_line_confirm(carrier_line=line, actor=clerk)
    line.refresh_from_db()
    assert (line.confirmed_by, line.confirmed_at) == (clerk2, at)
    confirmed = line.history.filter(history_type="~").get()
    assert (confirmed.history_user, confirmed.history_change_reason) == (clerk2, "事業者回線契約の確認（第1条）")


def test_carrier_line_create_refuses_the_same_line_twice(subscriber, clerk):
    kwargs = {
        "subscriber": subscriber,
        "carrier_service": CarrierService.objects.get(code="flets-next-prio1"),
        "line_id": "CAF0001",
        "start_date": dt.date(2026, 4, 1),
        "actor": clerk,
    }
    carrier_line_create(**kwargs)
    with pytest.raises(DomainError, match="フレッツ光ネクスト プライオ1の回線「CAF0001」はこの契約者に登録済みです。"):
        carrier_line_create(**kwargs)


def test_carrier_line_end_records_the_reason(subscriber, clerk):
    line = carrier_line_create(
        subscriber=subscriber,
        carrier_service=CarrierService.objects.get(code="flets-next-prio1"),
        line_id="CAF0001",
        start_date=dt.date(2026, 4, 1),
        actor=clerk,
    )
    carrier_line_end(carrier_line=line, end_date=dt.date(2026, 10, 31), actor=clerk, reason="回線の解約")
    line.refresh_from_db()
    assert line.end_date == dt.date(2026, 10, 31)


def test_base_contract_end_needs_an_end_date_and_writes_nothing_without_one(regulation, clerk):
    holder = subscriber_with_base("fiberaccess-f", actor=clerk)
    base = holder.base_contracts.get()
    history = base.history.count()
    with pytest.raises(DomainError) as refused:
        base_contract_end(base_contract=base, end_date=None, actor=clerk, reason="解約届")
    assert (refused.value.code, refused.value.message) == ("end_date_required", "利用終了日を入力してください。")
    base.refresh_from_db()
    assert base.end_date is None and base.history.count() == history
