"""台帳の検証 on screen: each closed month's seal, and a month verified on asking (read-only), as verify_ledger does."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import MonthSeal
from tests.contracts.test_ledger_seal import LEDGER, _behind_the_apps_back, _march_charge, _two_months
from tests.writes import data_writes

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_months(regulation, approver, approver2, accounting):
    """March and April closed and sealed (tests/contracts/test_ledger_seal.py's book)."""
    return _two_months(approver, approver2, accounting)


def test_the_verify_screen_lists_each_closed_months_seal(client, two_months, accounting):
    client.force_login(accounting)
    page = client.get(reverse("contracts:ledger_verify")).content.decode()
    for close in (two_months["first"], two_months["second"]):
        assert MonthSeal.objects.get(close=close).seal_hash[:16] in page
    assert "令和8年3月 (2026-03)を検証する" in page and "令和8年4月 (2026-04)を検証する" in page


def test_verifying_an_untouched_month_on_screen_says_it_matches_and_writes_nothing(client, two_months, accounting):
    client.force_login(accounting)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("contracts:ledger_verify"), {"month": "2026-04"}).content.decode()
    assert data_writes(queries.captured_queries) == []
    assert 'class="result-ok" data-ok="1">令和8年4月 (2026-04): 一致（4行' in page


def test_a_row_changed_behind_the_apps_back_is_named_on_the_verify_screen(client, two_months, approver):
    row = _march_charge()
    _behind_the_apps_back(f"UPDATE {LEDGER} SET amount_yen = amount_yen + 1 WHERE id = %s", [row.pk])
    client.force_login(approver)  # 承認者 may look, as with the close preview
    page = client.get(reverse("contracts:ledger_verify"), {"month": "2026-03"}).content.decode()
    assert 'data-ok="0"' in page
    assert f"最初に違う行: #{row.pk}（締め後に変更されています）" in page


def test_the_verify_screen_refuses_a_month_not_closed_by_message(client, two_months, accounting):
    client.force_login(accounting)
    for month in ("2026-06", "nonsense", ""):
        page = client.get(reverse("contracts:ledger_verify"), {"month": month}).content.decode()
        assert "検証する締め済みの月を選んでください。" in page and "data-ok" not in page
