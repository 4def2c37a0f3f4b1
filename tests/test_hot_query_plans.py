"""The hot pages' queries can be answered from an index, in index order, on PostgreSQL: no full scan and no sort
of a big table (at 5,000,000 ledger rows a sort of one user's rows took 5 s on 経理's home page).

Deterministic on a small book: the planner is told that sequential scans and sorts are as dear as they are at full
scale (`enable_seqscan`, `enable_sort` off); a query that still scans or sorts a big table has no index to use.
The queries are the pages' own, captured from the requests, so the test follows the code.
"""

import datetime as dt
import json
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import Application, LedgerEntry, OptionContract, Subscriber
from contracts.services.month_close import month_close
from core.clock import JST
from tests import ui_data

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BIG_TABLES = {model._meta.db_table for model in (Subscriber, OptionContract, Application, LedgerEntry)}


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _big_tables_under(plan) -> set[str]:
    return {node["Relation Name"] for node in _nodes(plan) if node.get("Relation Name") in BIG_TABLES}


def plan_problems(sql: str, params) -> list[str]:
    """What in the plan of `sql` would grow with the book: a sequential scan or a sort of a big table."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (document,) = cursor.fetchone()
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_sort")
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    problems = []
    # A COUNT of a list's rows must be capped; an aggregate grouped over the rows an index selects (one open
    # month's obligations on 経理's home) is bounded by what it selects, and its plan is checked like any other.
    if "COUNT(" in sql and " LIMIT " not in sql and " GROUP BY " not in sql:
        problems.append("a COUNT of a big table without a cap")
    for node in _nodes(plan):
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
            problems.append(f"Seq Scan on {node['Relation Name']}")
        if node["Node Type"] == "Sort" and _big_tables_under(node):
            problems.append(f"Sort of {sorted(_big_tables_under(node))} by {node.get('Sort Key')}")
    return problems


@pytest.fixture
def book(regulation, clerk, approver, accounting):
    """Three contracts in billing since March, an application waiting, March closed by 経理 (its home lists
    the rows it wrote); the pages are read on 2026-04-02."""
    with time_machine.travel(dt.datetime(2026, 3, 10, 10, 0, tzinfo=JST), tick=False) as traveller:
        for _ in range(3):
            ui_data.billing_contract(clerk=clerk, approver=approver)
        ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk)
        traveller.move_to(dt.datetime(2026, 4, 2, 10, 0, tzinfo=JST))
        month_close(month=dt.date(2026, 3, 1), actor=accounting)
        yield


_SERVER_SIDE_CURSOR = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR (WITH HOLD |WITHOUT HOLD )?FOR ')


def _page_queries(user, url):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:  # a download reads its rows as it is sent
            b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.status_code)
    # The page's lists, counts and sums: the reads of a big table in an order (a page of rows), its COUNTs and its
    # aggregates (the accounting home's sums of what an open month has booked); a download's rows come through a
    # server-side cursor (DECLARE … CURSOR FOR SELECT …).
    sqls = [_SERVER_SIDE_CURSOR.sub("", q["sql"]) for q in captured.captured_queries]
    return [
        sql
        for sql in sqls
        if sql.startswith("SELECT")
        and (" ORDER BY " in sql or "COUNT(" in sql or " GROUP BY " in sql)
        and any(f'"{t}"' in sql for t in BIG_TABLES)
    ]


HOT_PAGES = [
    ("accounting", "home", ""),
    ("approver", "home", ""),
    ("clerk", "home", ""),
    ("clerk", "contracts:subscriber_list", ""),
    # The subscriber search on the normalised key (a code, a name in kana), in the list and in the header's search.
    ("clerk", "contracts:subscriber_list", "?q=S00001"),
    ("clerk", "contracts:subscriber_list", "?q=やまだ"),
    ("clerk", "contracts:search", "?q=カブシキ"),
    ("clerk", "contracts:optioncontract_list", "?sort=contracted_on"),
    ("clerk", "contracts:optioncontract_list", "?sort=-contracted_on"),
    ("accounting", "contracts:ledger_list", "?month={month}"),
    ("accounting", "contracts:ledger_list", ""),
    # 電子帳簿保存法's search: 取引年月日, 取引金額 and 取引先, alone and combined (with its count and totals).
    ("accounting", "contracts:ledger_list", "?date_from=2026-03-01&date_to=令和8年3月31日"),
    ("accounting", "contracts:ledger_list", "?amount_min=1000&amount_max=9000"),
    ("accounting", "contracts:ledger_list", "?subscriber=S00001"),
    ("accounting", "contracts:ledger_list", "?subscriber=カブシキ&date_from=2026-03-01&amount_min=1"),
    ("accounting", "contracts:ledger_list", "?date_from=2026-03-01&export=csv"),
    ("approver", "contracts:application_list", ""),
    ("approver", "contracts:queue_review", ""),
    ("approver", "contracts:queue_received", ""),
    ("clerk", "contracts:queue_billing_start", ""),
    ("clerk", "contracts:queue_migrations", ""),
    ("sysadmin", "admin:contracts_application_changelist", ""),
    ("sysadmin", "admin:contracts_application_changelist", "?entered_at__gte=2026-03-01+00:00:00%2B09:00"),
    ("sysadmin", "admin:contracts_optioncontract_changelist", ""),
    ("sysadmin", "admin:contracts_subscriber_changelist", ""),
    ("accounting", "admin:contracts_ledgerentry_changelist", ""),
    (
        "accounting",
        "admin:contracts_ledgerentry_changelist",
        "?booked_month__gte=2026-03-01&booked_month__lt=2026-04-01",
    ),
]


@pytest.mark.parametrize(("role", "name", "query"), HOT_PAGES)
def test_a_hot_page_reads_its_rows_in_index_order(book, request, role, name, query):
    user = request.getfixturevalue(role)
    url = reverse(name) + query.format(month="2026-03")
    # Re-run each captured query with its literal values (Django logs them interpolated).
    sqls = _page_queries(user, url)
    assert sqls, f"{url} read no page of a big table"
    for sql in sqls:
        problems = plan_problems(sql, None)
        assert not problems, f"{url}: {problems}\n{sql}"
