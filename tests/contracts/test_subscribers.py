"""契約者: created, edited, deactivated through services; never hard-deleted."""

import pytest

from contracts.choices import SubscriberKind
from contracts.models import Subscriber
from contracts.services import subscriber_create, subscriber_deactivate, subscriber_update
from core.errors import DomainError
from tests.factories import review_and_approve, submit_new, subscriber_with_base

pytestmark = pytest.mark.django_db


def test_subscriber_create_records_history_user_and_reason(clerk):
    subscriber = subscriber_create(
        actor=clerk,
        reason="新規契約者の登録（申込書より）",
        code="C1",
        name="株式会社あおい",
        kind=SubscriberKind.INDIVIDUAL,
    )
    entry = subscriber.history.get()
    assert (entry.history_type, entry.history_user, entry.history_change_reason) == (
        "+",
        clerk,
        "新規契約者の登録（申込書より）",
    )
    assert (entry.code, entry.name, entry.kind) == ("C1", "株式会社あおい", "individual")


def test_subscriber_create_refuses_a_code_already_taken_or_missing(clerk):
    subscriber_create(actor=clerk, code="C1", name="株式会社あおい")
    with pytest.raises(DomainError, match="契約者コード「C1」は登録済みです。"):
        subscriber_create(actor=clerk, code="C1", name="別会社")
    with pytest.raises(DomainError, match="契約者コードを入力してください。"):
        subscriber_create(actor=clerk, code=" ", name="別会社")
    with pytest.raises(DomainError, match="契約者名を入力してください。"):
        subscriber_create(actor=clerk, code="C2", name="")


def test_subscriber_update_needs_a_reason_and_records_the_diff(clerk, clerk2, fixed_clock):
    subscriber = subscriber_create(actor=clerk, code="C1", name="株式会社あおい")
    fixed_clock.advance(minutes=1)  # staff edit a minute later: history is ordered by its instant
    with pytest.raises(DomainError, match="変更理由を入力してください。"):
        subscriber_update(subscriber=subscriber, actor=clerk2, reason="", phone="03-0000-0000")
    subscriber_update(subscriber=subscriber, actor=clerk2, reason="電話番号の変更届", phone="03-0000-0000")
    latest = subscriber.history.latest()
    delta = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("phone", "", "03-0000-0000")]
    assert (latest.history_user, latest.history_change_reason) == (clerk2, "電話番号の変更届")


def test_subscriber_update_with_nothing_changed_writes_no_history(clerk):
    subscriber = subscriber_create(actor=clerk, code="C1", name="株式会社あおい")
    subscriber_update(subscriber=subscriber, actor=clerk, reason="確認", name="株式会社あおい")
    assert subscriber.history.count() == 1


def test_subscriber_update_never_changes_the_code_or_the_active_flag(clerk):
    subscriber = subscriber_create(actor=clerk, code="C1", name="株式会社あおい")
    with pytest.raises(DomainError, match="変更できない項目が指定されました: code, is_active"):
        subscriber_update(subscriber=subscriber, actor=clerk, reason="r", code="C9", is_active=False)


def test_subscriber_deactivate_keeps_the_record_and_refuses_new_applications(regulation, clerk):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk)
    subscriber_deactivate(subscriber=subscriber, actor=clerk, reason="契約者からの退会届")
    subscriber.refresh_from_db()
    assert subscriber.is_active is False
    assert subscriber.history.latest().history_change_reason == "契約者からの退会届"
    with pytest.raises(DomainError, match="無効化されているため、申込できません。"):
        submit_new(subscriber, "ipv6", "fiberaccess-f", actor=clerk)
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_subscriber_deactivate_is_refused_while_an_option_contract_continues(regulation, clerk, approver):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk)
    review_and_approve(submit_new(subscriber, "ipv6", "fiberaccess-f", actor=clerk), approver=approver)
    with pytest.raises(DomainError, match="解約されていないオプション契約があるため、契約者を無効にできません。"):
        subscriber_deactivate(subscriber=subscriber, actor=clerk, reason="退会")
