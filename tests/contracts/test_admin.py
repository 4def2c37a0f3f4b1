"""Admin data entry for contracts: saves through the services with a reason; the ledger is read-only."""

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import escape

from contracts.models import (
    Application,
    BaseServiceContract,
    CarrierLineContract,
    LedgerEntry,
    MonthClose,
    OptionContract,
    Subscriber,
)
from contracts.services import option_contract_set_billing_start, subscriber_create, subscriber_update
from options.models import CarrierService, Service
from tests.factories import option, review_and_approve, submit_new, subscriber_with_base, variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser(username="kanri", last_name="管理")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _url(model, view, *args):
    return reverse(f"admin:contracts_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def billing(regulation, clerk, approver):
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk, code="A0001")
    review_and_approve(
        submit_new(subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk), approver=approver
    )
    contract = OptionContract.objects.get()
    option_contract_set_billing_start(option_contract=contract, billing_start_date=contract.contracted_on, actor=clerk)
    return contract


@pytest.mark.parametrize(
    "model",
    [Subscriber, BaseServiceContract, CarrierLineContract, OptionContract, Application, LedgerEntry, MonthClose],
)
def test_admin_every_contracts_list_and_history_page_answers(admin_client, billing, model):
    obj = model.objects.first()
    listed = admin_client.get(_url(model, "changelist"))
    assert listed.status_code == 200
    found = admin_client.get(_url(model, "changelist"), {"q": "A0001"})
    assert found.status_code == 200
    if obj is None:  # MonthClose: nothing closed in this book
        assert "0 " in listed.content.decode() or "ありません" in listed.content.decode()
        return
    assert _url(model, "change", obj.pk) in listed.content.decode()  # the record is listed, linked to its page
    assert _url(model, "change", obj.pk) in found.content.decode()  # found by its subscriber's code
    missed = admin_client.get(_url(model, "changelist"), {"q": "Z9999"}).content.decode()
    assert _url(model, "change", obj.pk) not in missed  # and not by a code nobody has
    history = admin_client.get(_url(model, "history", obj.pk)).content.decode()
    assert escape(str(obj)) in history  # its history, with the reason of its last change
    assert escape(obj.history.latest().history_change_reason) in history
    change = admin_client.get(_url(model, "change", obj.pk))
    assert change.status_code == 200 and escape(str(obj)) in change.content.decode()


def test_admin_ledger_is_read_only_no_add_change_or_delete(admin_client, billing):
    entry = LedgerEntry.objects.get()
    assert admin_client.get(_url(LedgerEntry, "add")).status_code == 403
    assert admin_client.post(_url(LedgerEntry, "change", entry.pk), {"amount_yen": 1}).status_code == 403
    assert admin_client.post(_url(LedgerEntry, "delete", entry.pk), {"post": "yes"}).status_code == 403
    page = admin_client.get(_url(LedgerEntry, "change", entry.pk)).content.decode()
    assert 'name="amount_yen"' not in page  # shown, not editable
    assert LedgerEntry.objects.get().amount_yen == 3000


def test_admin_applications_and_option_contracts_are_not_edited_here(admin_client, billing):
    application = Application.objects.get()
    assert admin_client.get(_url(Application, "add")).status_code == 403
    assert admin_client.post(_url(Application, "change", application.pk), {"quantity": 99}).status_code == 403
    assert admin_client.post(_url(OptionContract, "change", billing.pk), {"quantity": 99}).status_code == 403
    assert admin_client.post(_url(Subscriber, "delete", billing.subscriber.pk), {"post": "yes"}).status_code == 403
    assert Subscriber.objects.filter(pk=billing.subscriber.pk).exists()
    application.refresh_from_db()
    billing.refresh_from_db()
    assert (application.quantity, billing.quantity) == (10, 10)  # refused, and nothing written


def test_admin_subscriber_add_goes_through_the_service_with_the_reason(admin_client, admin_user):
    response = admin_client.post(
        _url(Subscriber, "add"),
        {"code": "N0001", "name": "株式会社しんき", "kind": "corporate", "change_reason": "申込書の受領"},
    )
    assert response.status_code == 302, response.content.decode()
    entry = Subscriber.objects.get(code="N0001").history.get()
    assert (entry.history_user, entry.history_change_reason) == (admin_user, "申込書の受領")


def test_admin_subscriber_save_without_a_reason_is_refused_and_writes_nothing(admin_client):
    response = admin_client.post(
        _url(Subscriber, "add"), {"code": "N0001", "name": "株式会社しんき", "kind": "corporate"}
    )
    assert response.status_code == 200
    assert "変更理由を入力してください。" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_admin_subscriber_change_and_deactivate_record_the_reason(admin_client, admin_user, clerk):
    subscriber = subscriber_create(actor=clerk, code="N0001", name="株式会社しんき")
    data = {"name": "株式会社しんき", "kind": "corporate", "phone": "03-1111-2222", "change_reason": "電話番号の変更届"}
    assert admin_client.post(_url(Subscriber, "change", subscriber.pk), data).status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.phone == "03-1111-2222"
    assert subscriber.history.latest().history_change_reason == "電話番号の変更届"
    data.update(deactivate="on", change_reason="退会届")
    assert admin_client.post(_url(Subscriber, "change", subscriber.pk), data).status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.is_active is False
    assert (subscriber.history.latest().history_user, subscriber.history.latest().history_change_reason) == (
        admin_user,
        "退会届",
    )


def test_admin_a_service_refusal_is_a_message_and_nothing_is_saved(admin_client, billing):
    base = BaseServiceContract.objects.get()
    response = admin_client.post(
        _url(BaseServiceContract, "change", base.pk),
        {"end_date": "令和8年12月31日", "change_reason": "解約"},
        follow=True,
    )
    assert "先にオプション契約の解約申込を処理してください。" in response.content.decode()
    base.refresh_from_db()
    assert base.end_date is None


def test_admin_base_contract_add_and_end_accept_wareki_dates(admin_client, admin_user, regulation, clerk):
    subscriber = subscriber_create(actor=clerk, code="N0001", name="株式会社しんき")
    response = admin_client.post(
        _url(BaseServiceContract, "add"),
        {
            "subscriber": subscriber.pk,
            "service": Service.objects.get(code="fiberaccess-f").pk,
            "contract_number": "FAF-1",
            "start_date": "令和8年4月1日",
            "change_reason": "申込書の受領",
        },
    )
    assert response.status_code == 302, response.content.decode()
    base = BaseServiceContract.objects.get()
    assert (base.start_date, base.history.get().history_user) == (dt.date(2026, 4, 1), admin_user)
    admin_client.post(
        _url(BaseServiceContract, "change", base.pk), {"end_date": "2027-03-31", "change_reason": "解約届"}
    )
    base.refresh_from_db()
    assert base.end_date == dt.date(2027, 3, 31)
    assert base.history.latest().history_change_reason == "解約届"


def _add_confirmed_line(client, subscriber, line_id):
    """POST the admin's add form of a carrier line, confirmed on the same save."""
    return client.post(
        _url(CarrierLineContract, "add"),
        {
            "subscriber": subscriber.pk,
            "carrier_service": CarrierService.objects.get(code="flets-next-prio1").pk,
            "line_id": line_id,
            "start_date": "2026-04-01",
            "confirm": "on",
            "change_reason": "回線契約書の写しを受領",
        },
    )


def test_admin_carrier_line_add_with_confirmation_stamps_the_confirmer(admin_client, admin_user, regulation, clerk):
    subscriber = subscriber_create(actor=clerk, code="N0001", name="株式会社しんき")
    response = _add_confirmed_line(admin_client, subscriber, "CAF0000001")
    assert response.status_code == 302, response.content.decode()
    line = CarrierLineContract.objects.get()
    assert line.confirmed_by == admin_user
    assert line.confirmed_at is not None


def test_admin_carrier_line_add_keeps_the_end_date_entered(admin_client, regulation, clerk):
    subscriber = subscriber_create(actor=clerk, code="N0002", name="株式会社しゅうりょう")
    response = admin_client.post(
        _url(CarrierLineContract, "add"),
        {
            "subscriber": subscriber.pk,
            "carrier_service": CarrierService.objects.get(code="flets-next-prio1").pk,
            "line_id": "CAF0000002",
            "start_date": "2020-04-01",
            "end_date": "2025-03-31",
            "migrated": "on",
            "change_reason": "旧システムからの移行（終了済みの回線）",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert CarrierLineContract.objects.get().end_date == dt.date(2025, 3, 31)


def test_admin_a_refused_deactivation_saves_no_rename_either(admin_client, billing):
    subscriber = Subscriber.objects.get()
    history = subscriber.history.count()
    data = {
        "name": "株式会社かいめい",
        "kind": subscriber.kind,
        "deactivate": "on",
        "change_reason": "社名変更と退会",
    }
    response = admin_client.post(_url(Subscriber, "change", subscriber.pk), data, follow=True)
    assert "解約されていないオプション契約があるため、契約者を無効にできません。" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.name != "株式会社かいめい" and subscriber.is_active and subscriber.history.count() == history


def test_admin_option_contract_add_registers_a_migrated_contract(admin_client, admin_user, regulation, clerk):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk, start_date=dt.date(2019, 1, 1))
    response = admin_client.post(
        _url(OptionContract, "add"),
        {
            "subscriber": subscriber.pk,
            "option": option("ipv6").pk,
            "variant": variant("ipv6", "fiberaccess-f").pk,
            "base_contract": subscriber.base_contracts.get().pk,
            "quantity": 1,
            "contracted_on": "平成31年4月1日",
            "billing_start_date": "R1.5.1",
            "change_reason": "旧システムからの移行",
        },
    )
    assert response.status_code == 302, response.content.decode()
    contract = OptionContract.objects.get()
    assert (contract.migrated, contract.contracted_on, contract.billing_start_date, contract.status) == (
        True,
        dt.date(2019, 4, 1),
        dt.date(2019, 5, 1),
        "billing",
    )
    assert (contract.history.get().history_user, LedgerEntry.objects.count()) == (admin_user, 0)


def test_admin_history_view_shows_the_diff_column(admin_client, clerk, fixed_clock):
    subscriber = subscriber_create(actor=clerk, code="N0001", name="株式会社しんき")
    fixed_clock.advance(minutes=1)  # staff edit a minute later: history is ordered by its instant
    subscriber_update(subscriber=subscriber, actor=clerk, reason="社名変更", name="株式会社あたらし")
    page = admin_client.get(_url(Subscriber, "history", subscriber.pk)).content.decode()
    assert "変更内容" in page
    assert "<strong>契約者名</strong>: 株式会社しんき → 株式会社あたらし" in page
    assert "社名変更" in page


def test_admin_a_refused_save_writes_no_row_no_history_and_no_admin_log(admin_client, regulation, clerk):
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk, start_date=dt.date(2019, 1, 1))
    history = OptionContract.history.count()
    response = admin_client.post(
        _url(OptionContract, "add"),
        {
            "subscriber": subscriber.pk,
            "option": option("ipv6").pk,
            "variant": variant("ipv6", "fiberaccess-f").pk,
            "base_contract": subscriber.base_contracts.get().pk,
            "quantity": 1,
            "contracted_on": "平成31年4月1日",
            "change_reason": "旧システムからの移行",
        },
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "IPv6 接続オプション機能の契約には IIJ FiberAccess/F サービスの基本サービス契約を指定してください（第5条）"
    ]
    assert response.redirect_chain[-1][0] == _url(OptionContract, "add")
    assert not OptionContract.objects.exists() and OptionContract.history.count() == history
    assert not LogEntry.objects.exists()


def test_admin_saves_commit_for_real_inside_djangos_transaction(transactional_db, client, regulation, clerk):
    """Outside the test's own transaction: the services' joined forms run inside the change form's transaction
    (a durable block there would raise), and a carrier line with its confirmation commits as one save."""
    admin_user = get_user_model().objects.create_superuser(username="kanri2", last_name="管理")
    client.force_login(admin_user)
    subscriber = subscriber_create(actor=clerk, code="T0001", name="株式会社とらんざくしょん")
    response = _add_confirmed_line(client, subscriber, "CAF0000009")
    assert response.status_code == 302, response.content.decode()
    line = CarrierLineContract.objects.get()
    assert (line.confirmed_by, line.history.count()) == (admin_user, 2)
    assert LogEntry.objects.get().object_id == str(line.pk)


def test_admin_a_subscriber_change_that_changes_nothing_says_so_and_writes_nothing(admin_client, clerk):
    subscriber = subscriber_create(actor=clerk, code="N0002", name="株式会社へんこうなし")
    data = {"name": "株式会社へんこうなし", "kind": "corporate", "phone": "", "change_reason": "確認のみ"}
    history, logs = subscriber.history.count(), LogEntry.objects.count()
    response = admin_client.post(_url(Subscriber, "change", subscriber.pk), data, follow=True)
    assert [str(m) for m in response.context["messages"]] == [f"契約者「{subscriber}」: 変更はありません。"]
    assert (subscriber.history.count(), LogEntry.objects.count()) == (history, logs)
