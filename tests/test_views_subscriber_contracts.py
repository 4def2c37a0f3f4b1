"""Base-service and carrier-line contracts entered from the subscriber's page: add, confirm, end, through their
services; each button only for a role that may use it; a refusal sits by its field and writes nothing."""

import datetime as dt

import pytest
from django.urls import reverse

from contracts.models import BaseServiceContract, CarrierLineContract
from options.models import CarrierService, Service
from tests import ui_data
from tests.factories import SubscriberFactory
from tests.fuzz.test_staff_screens import counts

pytestmark = pytest.mark.django_db


def page(client, subscriber) -> str:
    return client.get(reverse("contracts:subscriber_detail", args=[subscriber.pk])).content.decode()


def add_line(client, subscriber, line_id: str):
    """The clerk (logged in on `client`) registers a carrier line from the subscriber's page; it is unconfirmed."""
    client.post(
        reverse("contracts:subscriber_carrier_line_create", args=[subscriber.pk]),
        {
            "carrier_service": CarrierService.objects.get(code="flets-next-prio1").pk,
            "line_id": line_id,
            "start_date": "2026-02-01",
        },
    )
    return CarrierLineContract.objects.get(subscriber=subscriber, line_id=line_id)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_the_clerk_adds_a_base_contract_from_the_subscriber_page_and_the_history_says_who(regulation, client, clerk):
    subscriber = SubscriberFactory()
    client.force_login(clerk)
    add_url = reverse("contracts:subscriber_base_contract_create", args=[subscriber.pk])
    assert f'href="{add_url}"' in page(client, subscriber)
    service = Service.objects.get(code="web-highgrade2")
    response = client.post(
        add_url,
        {"service": service.pk, "contract_number": "ＷＥＢ－７７７１", "start_date": "令和8年2月1日"},
        follow=True,
    )
    contract = BaseServiceContract.objects.get(subscriber=subscriber)
    assert (contract.service, contract.contract_number, contract.start_date) == (
        service,
        "WEB-7771",  # as stored (core.search.text_for_storage), judged by the field in that form
        dt.date(2026, 2, 1),
    )
    history = contract.history.get()
    assert (history.history_user, history.history_change_reason) == (clerk, "基本サービス契約の登録")
    assert response.redirect_chain[-1][0] == reverse("contracts:subscriber_detail", args=[subscriber.pk]) + (
        "#base-contracts"
    )
    assert messages_of(response) == [
        f"基本サービス契約（{service.name}、令和8年2月1日 (2026-02-01)から）を登録しました。"
    ]
    assert "WEB-7771" in response.content.decode()


def test_a_bad_start_date_and_a_bad_contract_number_are_refused_by_their_fields_and_nothing_is_written(
    regulation, client, clerk
):
    subscriber = SubscriberFactory()
    client.force_login(clerk)
    before = counts()
    response = client.post(
        reverse("contracts:subscriber_base_contract_create", args=[subscriber.pk]),
        {
            "service": Service.objects.get(code="web-highgrade2").pk,
            "contract_number": "番号 あ",
            "start_date": "令和8年2月30日",
        },
    )
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert set(errors) == {"contract_number", "start_date"}
    assert counts() == before


def test_a_line_already_registered_is_refused_by_the_line_id_field_and_nothing_is_written(regulation, client, clerk):
    subscriber = ui_data.swp_subscriber()
    client.force_login(clerk)
    url = reverse("contracts:subscriber_carrier_line_create", args=[subscriber.pk])
    data = {
        "carrier_service": CarrierService.objects.get(code="flets-next-prio1").pk,
        "line_id": "CAF12345678",
        "start_date": "2026-02-01",
    }
    assert client.post(url, data).status_code == 302
    line = CarrierLineContract.objects.get(subscriber=subscriber)
    assert line.confirmed_at is None  # unconfirmed until staff confirm it (第1条)
    before = counts()
    response = client.post(url, {**data, "line_id": "ＣＡＦ１２３４５６７８"})
    assert response.context["form"].errors["line_id"] == [
        f"{line.carrier_service.name}の回線「CAF12345678」はこの契約者に登録済みです。"
    ]
    assert counts() == before


def test_the_clerk_confirms_a_carrier_line_once_and_the_button_goes(regulation, client, clerk):
    subscriber = SubscriberFactory()
    client.force_login(clerk)
    line = add_line(client, subscriber, "CAF00000001")
    confirm_url = reverse("contracts:carrierlinecontract_confirm", args=[line.pk])
    assert f'action="{confirm_url}"' in page(client, subscriber)
    response = client.post(confirm_url, follow=True)
    line.refresh_from_db()
    assert (line.confirmed_by, line.history.order_by("-history_id").first().history_change_reason) == (
        clerk,
        "事業者回線契約の確認（第1条）",
    )
    assert any(m.endswith("を確認しました。") for m in messages_of(response))
    assert f'action="{confirm_url}"' not in response.content.decode()
    before = counts()
    again = client.post(confirm_url, follow=True)
    assert messages_of(again) == ["回線「CAF00000001」は確認済みです。"]
    assert counts() == before


def test_ending_a_base_contract_an_option_rests_on_is_refused_by_the_end_date_and_nothing_is_written(
    regulation, client, clerk, approver
):
    contract = ui_data.billing_contract(clerk=clerk, approver=approver)
    base = contract.subscriber.base_contracts.get()
    client.force_login(clerk)
    url = reverse("contracts:baseservicecontract_end", args=[base.pk])
    assert f'href="{url}"' in page(client, contract.subscriber)
    before = counts()
    response = client.post(url, {"end_date": "令和8年3月31日", "reason": "解約の申出"})
    [error] = response.context["form"].errors["end_date"]
    assert "を利用するオプション契約" in error and "先にオプション契約の解約申込を処理してください" in error
    assert counts() == before
    base.refresh_from_db()
    assert base.end_date is None


def test_the_clerk_ends_a_base_contract_with_a_reason_the_history_keeps(regulation, client, clerk):
    subscriber = ui_data.swp_subscriber()
    base = subscriber.base_contracts.get()
    client.force_login(clerk)
    url = reverse("contracts:baseservicecontract_end", args=[base.pk])
    response = client.post(url, {"end_date": "令和8年3月31日", "reason": ""})
    assert list(response.context["form"].errors) == ["reason"]
    response = client.post(url, {"end_date": "令和8年3月31日", "reason": "解約の申出"}, follow=True)
    base.refresh_from_db()
    assert base.end_date == dt.date(2026, 3, 31)
    assert base.history.order_by("-history_id").first().history_change_reason == "解約の申出"
    assert "利用終了日を令和8年3月31日 (2026-03-31)にしました。" in messages_of(response)[0]


def test_the_clerk_ends_a_carrier_line(regulation, client, clerk):
    subscriber = SubscriberFactory()
    client.force_login(clerk)
    line = add_line(client, subscriber, "CAF00000002")
    response = client.post(
        reverse("contracts:carrierlinecontract_end", args=[line.pk]),
        {"end_date": "2026-01-31", "reason": "回線の解約"},
    )
    # Before its start: refused by the end date, in the service's words.
    assert "利用終了日" in response.context["form"].errors["end_date"][0]
    client.post(
        reverse("contracts:carrierlinecontract_end", args=[line.pk]), {"end_date": "2026-02-28", "reason": "回線の解約"}
    )
    line.refresh_from_db()
    assert line.end_date == dt.date(2026, 2, 28)


@pytest.mark.parametrize("who", ["approver", "accounting"])
def test_roles_that_may_not_enter_contracts_see_no_button_and_a_post_is_403(
    regulation, client, clerk, approver, accounting, who
):
    subscriber = ui_data.swp_subscriber()
    client.force_login(clerk)
    line = add_line(client, subscriber, "CAF00000003")
    base = subscriber.base_contracts.get()
    client.force_login({"approver": approver, "accounting": accounting}[who])
    html = page(client, subscriber)
    urls = [
        reverse("contracts:subscriber_base_contract_create", args=[subscriber.pk]),
        reverse("contracts:subscriber_carrier_line_create", args=[subscriber.pk]),
        reverse("contracts:baseservicecontract_end", args=[base.pk]),
        reverse("contracts:carrierlinecontract_confirm", args=[line.pk]),
        reverse("contracts:carrierlinecontract_end", args=[line.pk]),
    ]
    assert [url for url in urls if url in html] == []
    before = counts()
    assert [client.post(url, {"end_date": "2026-03-31", "reason": "x"}).status_code for url in urls] == [403] * 5
    assert counts() == before


def test_a_deactivated_subscriber_offers_no_new_contract(regulation, client, clerk):
    subscriber = SubscriberFactory(is_active=False)
    client.force_login(clerk)
    html = page(client, subscriber)
    assert reverse("contracts:subscriber_base_contract_create", args=[subscriber.pk]) not in html
    before = counts()
    response = client.post(
        reverse("contracts:subscriber_base_contract_create", args=[subscriber.pk]),
        {"service": Service.objects.get(code="web-highgrade2").pk, "start_date": "2026-02-01"},
    )
    assert response.context["form"].non_field_errors() == [f"契約者「{subscriber}」は無効化されています。"]
    assert counts() == before
