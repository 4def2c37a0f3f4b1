"""A big table's admin list counts at most ADMIN_COUNT_CAP rows: past it the list says 「…件以上」 and still pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.admin import CappedCountPaginator
from tests import ui_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_of(client):
    def login(user):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client.force_login(user)
        return client

    return login


def test_a_ledger_list_past_the_cap_says_more_than_and_counts_with_a_limit(
    regulation, clerk, approver, accounting, admin_client_of, monkeypatch
):
    for _ in range(3):
        ui_data.billing_contract(clerk=clerk, approver=approver)
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    client = admin_client_of(accounting)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:contracts_ledgerentry_changelist"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "2件以上（絞り込むと件数が出ます）" in body
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and "ledgerentry" in q["sql"]]
    assert counts and all(" LIMIT 3" in sql for sql in counts), counts


def test_a_ledger_list_within_the_cap_shows_its_exact_count(regulation, clerk, approver, accounting, admin_client_of):
    for _ in range(3):
        ui_data.billing_contract(clerk=clerk, approver=approver)
    response = admin_client_of(accounting).get(reverse("admin:contracts_ledgerentry_changelist"))
    assert "3 支払義務台帳" in response.content.decode()
    assert "件以上" not in response.content.decode()
