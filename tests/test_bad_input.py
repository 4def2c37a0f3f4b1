"""Bad input gets a clear answer and writes nothing: never a 500 (the audit's list, DOMAIN bounds in
core.limits). Every list parameter below once answered 500 (an overflow or a NUL reaching the database)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from contracts.models import Subscriber
from core.fields import WarekiDateField, WarekiMonthField
from core.limits import DATE_MAX, DATE_MIN
from tests import ui_data

pytestmark = pytest.mark.django_db

HUGE = "1" + "0" * 30

PROBES = [
    f"/subscribers/?page={HUGE}",
    f"/ledger/?page={HUGE}",
    "/applications/?page=-1",
    "/reports/monthly/?month=9999-12",
    "/reports/monthly/?month=0001-01",
    "/ledger/?month=9999-12",
    "/reports/monthly/download/?month=9999-12&fmt=csv",
    f"/admin/contracts/application/?entered_at__year={HUGE}",
    "/admin/contracts/application/?entered_at__month=13",
    f"/admin/contracts/ledgerentry/?p={HUGE}",
    "/admin/contracts/subscriber/1/history/abc/",
    "/subscribers/?q=%00abc",
    "/admin/contracts/subscriber/?q=%00",
    "/admin/autocomplete/?app_label=contracts&model_name=optioncontract&field_name=subscriber&term=%00",
]


@pytest.fixture
def book(regulation, clerk, approver):
    return ui_data.billing_contract(clerk=clerk, approver=approver)


@pytest.mark.parametrize("url", PROBES)
def test_hostile_list_parameters_answer_without_a_server_error(book, sysadmin, accounting, url):
    for user in (sysadmin, accounting):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        response = client.get(url)
        assert response.status_code in (200, 302, 400, 403, 404), (user, url, response.status_code)


def test_a_nul_character_is_refused_with_a_japanese_page_and_writes_nothing(book, clerk):
    client = Client(raise_request_exception=False)
    client.force_login(clerk)
    before = Subscriber.objects.count()
    response = client.post(reverse("contracts:subscriber_create"), {"code": "X\x00", "name": "名\x00前"})
    assert response.status_code == 400
    assert "「契約者コード」に入力に使えない文字（NUL）が含まれています。" in response.content.decode()
    assert Subscriber.objects.count() == before


def test_a_nul_character_in_an_admin_form_is_refused_naming_the_models_field(sysadmin):
    client = Client(raise_request_exception=False)
    client.force_login(sysadmin)
    response = client.post(reverse("admin:contracts_subscriber_add"), {"name": "名\x00前"})
    assert response.status_code == 400
    assert "「契約者名」に入力に使えない文字（NUL）が含まれています。" in response.content.decode()


@pytest.mark.parametrize("field_class", [WarekiDateField, WarekiMonthField])
@pytest.mark.parametrize("text", ["9999-12-31", "1900-01-01", "2100-01-01"])
def test_dates_outside_the_declared_bounds_are_refused_by_every_date_field(field_class, text):
    from django.core.exceptions import ValidationError

    if field_class is WarekiMonthField:
        text = text[:7]
    with pytest.raises(ValidationError) as refused:
        field_class().clean(text)
    assert refused.value.messages == [
        "平成元年1月8日 (1989-01-08)から令和81年12月31日 (2099-12-31)までの日付を入力してください。"
    ]
    assert WarekiDateField().clean(DATE_MIN.isoformat()) == DATE_MIN
    assert WarekiDateField().clean(DATE_MAX.isoformat()) == DATE_MAX
    assert WarekiMonthField().clean("2026-02") == dt.date(2026, 2, 1)


def test_a_refused_action_names_its_field_above_the_page_even_when_the_form_is_not_shown(book, clerk):
    """The contract's billing has started, so the page no longer shows the 課金開始日 form: the field's error is
    said at the top of the page, by its label (it once answered a silent 200)."""
    client = Client(raise_request_exception=False)
    client.force_login(clerk)
    response = client.post(reverse("contracts:optioncontract_billing_start", args=[book.pk]), {})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="billing-start-form"' not in body
    said = '<ul class="errorlist nonfield" id="action-errors"><li>課金開始日: このフィールドは必須です。</li></ul>'
    assert said in body


def test_an_empty_login_says_which_field_is_missing(clerk):
    response = Client().post(reverse("login"), {})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("このフィールドは必須です。") == 2
