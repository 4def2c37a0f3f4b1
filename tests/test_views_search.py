"""The header's search page: one query across kinds, grouped, each group only for a role that may view it."""

import pytest
from django.urls import reverse

from contracts.services import base_contract_create, carrier_line_create, subscriber_create
from options.models import CarrierService, Service
from tests import ui_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(regulation, clerk, approver):
    contract = ui_data.billing_contract(clerk=clerk, approver=approver)
    application = contract.origin_application
    subscriber = subscriber_create(
        actor=clerk, code="D0003", name="山田 太郎", kana="やまだ たろう", phone="03-5555-0003"
    )
    base = base_contract_create(
        subscriber=subscriber,
        service=Service.objects.order_by("pk").first(),
        start_date=contract.contracted_on,
        contract_number="ＷＥＢ－７７７１",
        actor=clerk,
    )
    line = carrier_line_create(
        subscriber=subscriber,
        carrier_service=CarrierService.objects.order_by("pk").first(),
        line_id="CAF7771",
        start_date=contract.contracted_on,
        actor=clerk,
    )
    return {"contract": contract, "application": application, "subscriber": subscriber, "base": base, "line": line}


def search(client, user, q):
    client.force_login(user)
    return client.get(reverse("contracts:search"), {"q": q})


def groups(response) -> dict[str, list]:
    return {group.kind: group.rows for group in response.context["groups"] if group.rows}


def test_a_name_in_hiragana_finds_the_subscriber_group_only(client, clerk, book):
    response = search(client, clerk, "やまだ　たろう")
    assert groups(response) == {"subscriber": [book["subscriber"]]}
    assert "契約者（1件）" in response.content.decode()


def test_numbers_find_their_kinds_grouped(client, clerk, book):
    assert groups(search(client, clerk, "web-7771")) == {"base_contract": [book["base"]]}
    assert groups(search(client, clerk, "ｃａｆ７７７")) == {"carrier_line": [book["line"]]}
    assert groups(search(client, clerk, "0355550003")) == {"subscriber": [book["subscriber"]]}
    number = book["contract"].pk
    found = groups(search(client, clerk, f"#{number}"))
    assert found["option_contract"] == [book["contract"]]
    if book["application"].pk == number:
        assert found["application"] == [book["application"]]
    found = groups(search(client, clerk, str(book["application"].pk)))
    assert found["application"] == [book["application"]]


def test_nothing_found_says_so(client, clerk, book):
    response = search(client, clerk, "該当なしの語")
    assert groups(response) == {}
    assert "「該当なしの語」に一致するものはありません。" in response.content.decode()


def test_each_role_sees_only_the_groups_it_may_view(client, accounting, approver, book):
    for user in (accounting, approver):
        kinds = [group.kind for group in search(client, user, "やまだ").context["groups"]]
        assert kinds == ["subscriber", "base_contract", "carrier_line", "option_contract", "application"]


def test_the_catalogue_manager_has_no_search_box_and_no_search(client, tariff_manager, book):
    client.force_login(tariff_manager)
    home = client.get(reverse("home")).content.decode()
    assert 'role="search"' not in home
    response = client.get(reverse("contracts:search"), {"q": "やまだ"})
    assert response.status_code == 403
    assert "山田" not in response.content.decode()


def test_a_role_with_some_kinds_sees_only_those(client, clerk, book):
    from django.contrib.auth.models import Permission

    clerk.groups.clear()
    clerk.user_permissions.add(Permission.objects.get(codename="view_application"))
    response = search(client, clerk, str(book["application"].pk))
    assert [group.kind for group in response.context["groups"]] == ["application"]
    page = response.content.decode()
    assert 'role="search"' in page and "契約者（" not in page


def test_the_header_box_is_on_every_page_for_staff_who_may_search(client, clerk, book):
    client.force_login(clerk)
    page = client.get(reverse("contracts:subscriber_list")).content.decode()
    assert f'action="{reverse("contracts:search")}"' in page


def test_a_long_query_is_cut_not_refused(client, clerk, book):
    response = search(client, clerk, "やまだ" + "あ" * 500)
    assert response.status_code == 200
    assert groups(response) == {}


def test_a_name_is_not_looked_for_among_contract_numbers_and_line_ids(client, clerk, book):
    """Keys are in the code alphabet: a name cannot be in one, and a LIKE '%…%' over every base contract and line
    (1,000,000 rows at full scale) is not run for it; a number still finds its line."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = search(client, clerk, "やまだ")
    assert "山田 太郎" in response.content.decode()
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "contracts_baseservicecontract" not in tables and "contracts_carrierlinecontract" not in tables
    assert "CAF7771" in search(client, clerk, "ｃａｆ７７７").content.decode()
