"""The ledger list searched as 電子帳簿保存法 asks (取引年月日, 取引金額, 取引先: ranges, alone and combined), its
reversal rows shown as reversals with their reason, and its totals row over every matching row.

The book: two subscribers billed from 2026-02-10, February closed on 2026-03-02 (a closed month's charges), one
row reversed on 2026-03-03, a quantity corrected back into February, and March closed on 2026-04-01 (an
adjustment). Every kind of row is then found by the three searches and is in the CSV.
"""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from contracts.choices import ApplicationKind, CorrectionTarget, LedgerKind
from contracts.models import LedgerEntry
from contracts.services import (
    application_approve,
    application_start_review,
    application_submit,
    option_contract_set_billing_start,
)
from contracts.services.month_close import month_close
from core.tables import Matches
from core.views import TableListMixin
from tests import factories

pytestmark = pytest.mark.django_db

FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)
LIST = reverse("contracts:ledger_list")


def _billing(code, name, kana, *, clerk, approver):
    subscriber = factories.swp_subscriber(actor=clerk, code=code, name=name, kana=kana)
    contract = factories.approved_swp_contract(clerk=clerk, approver=approver, quantity=30, subscriber=subscriber)
    option_contract_set_billing_start(option_contract=contract, billing_start_date=dt.date(2026, 2, 10), actor=clerk)
    contract.refresh_from_db()
    return contract


@pytest.fixture
def book(regulation, fixed_clock, clerk, approver, accounting):
    return build_book(fixed_clock, clerk=clerk, approver=approver, accounting=accounting)


def build_book(fixed_clock, *, clerk, approver, accounting):
    """The book of the module's docstring; the clock is left at 2026-04-02 10:00 JST."""
    fixed_clock.set("2026-02-10T10:00+09:00")
    yamada = _billing("L0001", "山田 太郎", "ヤマダ タロウ", clerk=clerk, approver=approver)
    sakura = _billing("L0002", "=さくら商事", "サクラショウジ", clerk=clerk, approver=approver)
    fixed_clock.set("2026-03-02T09:00+09:00")
    month_close(month=FEB, actor=accounting)
    fixed_clock.set("2026-03-03T11:00+09:00")
    monthly = LedgerEntry.objects.get(option_contract=sakura, kind=LedgerKind.MONTHLY)
    # The correction reverses the 月額費用 row (its reason is the correction's) and writes it again on 20.
    correction = application_submit(
        subscriber=sakura.subscriber,
        kind=ApplicationKind.CORRECTION,
        option_contract=sakura,
        correction_target=CorrectionTarget.TERMS,
        corrected_date=dt.date(2026, 2, 10),
        correction_reason="=HYPERLINK(申込書の数量を読み違えた)",
        quantity=20,
        actor=clerk,
    )
    application_start_review(application=correction, actor=approver)
    application_approve(application=correction, actor=approver)
    reversal = LedgerEntry.objects.get(reverses=monthly)
    fixed_clock.set("2026-04-01T09:00+09:00")
    month_close(month=MAR, actor=accounting)
    fixed_clock.set("2026-04-02T10:00+09:00")
    return {"yamada": yamada, "sakura": sakura, "monthly": monthly, "reversal": reversal}


def _rows(client, query=""):
    response = client.get(LIST + query)
    assert response.status_code == 200, response.content.decode()[:500]
    return response, set(response.context["table"].data.data.values_list("pk", flat=True))


def _pks(**filters):
    return set(LedgerEntry.objects.filter(**filters).values_list("pk", flat=True))


def test_the_ledger_is_searched_by_a_range_of_transaction_dates_in_wareki_or_western(book, client, accounting):
    client.force_login(accounting)
    march_third = _pks(
        arisen_at__gte=dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC),
        arisen_at__lt=dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC),
    )
    assert book["reversal"].pk in march_third and book["monthly"].pk not in march_third
    _, western = _rows(client, "?date_from=2026-03-03&date_to=2026-03-03")
    _, wareki = _rows(client, "?date_from=令和8年3月3日&date_to=R8.3.3")
    assert western == wareki == march_third
    _, from_only = _rows(client, "?date_from=2026-03-02")
    assert from_only == _pks(arisen_at__gte=dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC))  # JST midnight
    _, to_only = _rows(client, "?date_to=2026-02-10")
    assert to_only == _pks(arisen_at__lt=dt.datetime(2026, 2, 10, 15, 0, tzinfo=dt.UTC))
    assert book["monthly"].pk in to_only and book["reversal"].pk not in to_only


def test_the_ledger_is_searched_by_a_range_of_amounts_reversals_being_negative(book, client, accounting):
    client.force_login(accounting)
    _, negative = _rows(client, "?amount_max=-1")
    assert negative == _pks(amount_yen__lt=0)
    assert book["reversal"].pk in negative
    _, between = _rows(client, "?amount_min=１，０００&amount_max=9000円")
    assert between == _pks(amount_yen__gte=1000, amount_yen__lte=9000)
    _, exact = _rows(client, f"?amount_min={book['monthly'].amount_yen}&amount_max={book['monthly'].amount_yen}")
    assert exact == _pks(amount_yen=book["monthly"].amount_yen)


def test_the_ledger_is_searched_by_counterparty_code_name_or_kana_as_typed(book, client, accounting):
    client.force_login(accounting)
    yamada = _pks(option_contract__subscriber__code="L0001")
    for typed in ("L0001", "ｌ０００１", "山田太郎", "やまだ　たろう", "ﾔﾏﾀﾞ"):
        _, found = _rows(client, "?subscriber=" + typed)
        assert found == yamada, typed
    _, both = _rows(client, "?subscriber=L000")
    assert both == _pks()


def test_the_three_searches_combine(book, client, accounting):
    """A closed month's charges arise on the month's first day; a correction's adjustment is booked with them."""
    client.force_login(accounting)
    query = "?subscriber=さくら&date_from=令和8年3月1日&date_to=2026-03-01"
    _, found = _rows(client, query)
    assert found == _pks(
        option_contract__subscriber__code="L0002",
        booked_month=MAR,
        arisen_at__lt=dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC),
    )
    kinds = set(LedgerEntry.objects.filter(pk__in=found).values_list("kind", flat=True))
    assert kinds == {LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT}
    _, credits = _rows(client, query + "&amount_max=-1")
    assert credits == _pks(kind=LedgerKind.ADJUSTMENT) and len(credits) == 1


def test_closed_months_rows_reversals_and_adjustments_are_all_reachable_by_the_search_and_exported(
    book, client, accounting
):
    client.force_login(accounting)
    _, everything = _rows(client, "?date_from=2026-02-01&date_to=2026-04-30&amount_min=-2000000000")
    assert everything == _pks()
    kinds = {LedgerKind.MONTHLY, LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT}
    assert set(LedgerEntry.objects.values_list("kind", flat=True)) == kinds
    assert LedgerEntry.objects.filter(booked_month=FEB, kind=LedgerKind.MONTHLY_CHARGE).exists()  # closed month
    response = client.get(LIST + "?date_from=2026-02-01&date_to=2026-04-30&export=csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, body = lines[0], lines[1:]
    numbers = {int(row[header.index("番号")]) for row in body}
    assert numbers == _pks()
    reversal = next(row for row in body if int(row[header.index("番号")]) == book["reversal"].pk)
    assert reversal[header.index("取消対象の番号")] == str(book["monthly"].pk)
    assert reversal[header.index("種別")].startswith("取消")
    assert reversal[header.index("理由")] == book["reversal"].reason
    assert reversal[header.index("契約者名")] == "'=さくら商事"  # neutralised against formulas (core.cells)
    assert reversal[header.index("金額")] == str(-book["monthly"].amount_yen)


def test_a_reversal_row_shows_the_badge_the_reversed_row_linked_and_its_reason(book, client, accounting):
    client.force_login(accounting)
    response, _ = _rows(client, "?subscriber=L0002")
    html = response.content.decode()
    monthly, reversal = book["monthly"], book["reversal"]
    assert '<tr class="reversal' in html
    assert '<span class="badge reversal">取消</span>' in html
    detail = reverse("contracts:ledgerentry_detail", args=[monthly.pk])
    assert f'<a href="{detail}">#{monthly.pk}</a> の取消' in html
    assert f"理由: {reversal.reason}" in html
    # The reversed row says by which row, linked.
    reversed_by = reverse("contracts:ledgerentry_detail", args=[reversal.pk])
    assert f'<span class="badge reversed">取消済み</span> <a href="{reversed_by}">#{reversal.pk}</a>' in html


def test_the_totals_row_sums_every_matching_row_not_only_the_page(book, client, accounting):
    client.force_login(accounting)
    response, found = _rows(client, "?subscriber=L0002")
    matches = response.context["table"].matches
    expected = sum(LedgerEntry.objects.filter(pk__in=found).values_list("amount_yen", flat=True))
    assert matches == Matches(count=len(found), totals={"amount_yen": expected})
    html = response.content.decode()
    assert f"合計 {len(found)}件" in html
    assert f"{expected:,}円" in html.split("<tfoot")[1]
    assert f"該当 <strong>{len(found)}件</strong>" in html


def test_the_totals_row_past_the_cap_says_more_than_and_shows_no_partial_sum(book, client, accounting, monkeypatch):
    monkeypatch.setattr(TableListMixin, "count_cap", 2)
    client.force_login(accounting)
    response, _ = _rows(client)
    assert response.context["table"].matches.capped
    html = response.content.decode()
    assert "合計 2件以上" in html
    assert "件数が多いため合計は絞り込むと出ます" in html
    assert "該当 <strong>2件以上</strong>（絞り込むと件数が出ます）" in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?date_from=2026-03-04&date_to=2026-03-03", "date_to", "「から」と同じか後の日付"),
        ("?amount_min=100&amount_max=99", "amount_max", "「以上」と同じか大きい金額"),
        ("?amount_min=abc", "amount_min", "整数"),
        ("?amount_max=3000000000", "amount_max", "2000000000"),
        ("?date_from=令和99年1月1日", "date_from", ""),
    ],
)
def test_a_bad_range_is_refused_by_its_field_and_shows_no_rows(book, client, accounting, query, field, message):
    client.force_login(accounting)
    response = client.get(LIST + query)
    assert response.status_code == 200
    errors = response.context["filter"].form.errors
    assert field in errors and message in " ".join(errors[field])
    assert list(response.context["table"].data.data) == []
    # Asked for as a CSV, a bad search is the page with its errors, not an empty file.
    assert client.get(LIST + query + "&export=csv")["Content-Type"].startswith("text/html")


def test_every_sealed_row_of_a_closed_month_is_found_by_each_search_and_in_the_export(book, client, accounting):
    """電子帳簿保存法: the rows each close sealed (its charges, the reversal, the adjustment, the 月額費用 rows) are the
    rows the three searches find, alone and combined, and the rows of the list's CSV; and they verify."""
    from contracts.billing.closed_scope import closes_for
    from contracts.billing.seal import ledger_verify, month_rows
    from contracts.models import MonthSeal
    from core import clock

    client.force_login(accounting)
    assert [(c.month, c.ok) for c in ledger_verify()] == [(FEB, True), (MAR, True)]
    kinds = set()
    for month in (FEB, MAR):
        sealed = {row[0] for row in month_rows(closes_for(month))}
        assert len(sealed) == MonthSeal.objects.get(close__month=month).row_count > 0
        rows = LedgerEntry.objects.filter(pk__in=sealed)
        kinds |= set(rows.values_list("kind", flat=True))
        days = sorted(clock.jst_date(at) for at in rows.values_list("arisen_at", flat=True))
        amounts = sorted(rows.values_list("amount_yen", flat=True))
        dates = f"date_from={days[0]}&date_to={days[-1]}"
        range_of_amounts = f"amount_min={amounts[0]}&amount_max={amounts[-1]}"
        _, by_date = _rows(client, "?" + dates)
        _, by_amount = _rows(client, "?" + range_of_amounts)
        _, combined = _rows(client, f"?{dates}&{range_of_amounts}")
        assert sealed <= by_date and sealed <= by_amount and sealed <= combined, month
        for code in set(rows.values_list("option_contract__subscriber__code", flat=True)):
            theirs = set(rows.filter(option_contract__subscriber__code=code).values_list("pk", flat=True))
            _, alone = _rows(client, f"?subscriber={code}")
            _, all_three = _rows(client, f"?subscriber={code}&{dates}&{range_of_amounts}")
            assert theirs <= alone and sealed & all_three == theirs, (month, code)
        response = client.get(f"{LIST}?{dates}&{range_of_amounts}&export=csv")
        lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        numbers = {int(row[lines[0].index("番号")]) for row in lines[1:]}
        assert sealed <= numbers, month
    assert kinds == {LedgerKind.MONTHLY, LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT}
    assert book["reversal"].pk in {row[0] for row in month_rows(closes_for(MAR))}  # the reversal, sealed in March


def _page_queries(client, query):
    """The ledger list's queries that read its page (the one with the page's LIMIT 51 of LazyPaginator)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST + query)
    assert response.status_code == 200
    ledger = connection.ops.quote_name(LedgerEntry._meta.db_table)
    pages = [q["sql"] for q in captured.captured_queries if f"FROM {ledger}" in q["sql"] and "LIMIT 51" in q["sql"]]
    return response, pages


def test_few_rows_by_id_a_search_matching_few_rows_reads_its_page_by_their_ids_and_one_matching_none_no_page(
    book, client, accounting, monkeypatch
):
    """A 取引金額 range matching no row walked the list's index over the whole ledger (1.7 s at 5M rows, 4–12 s at
    20M: bench/ledger_bench.py). The capped count is read first: none → no page is read; a few → the page is read
    among their ids, sorted as always."""
    client.force_login(accounting)
    response, pages = _page_queries(client, "?amount_min=1&amount_max=2")
    assert pages == [] and response.context["table"].matches.count == 0
    assert "該当するデータはありません。" in response.content.decode()

    response, pages = _page_queries(client, "?amount_max=-1")
    assert len(pages) == 1 and " IN (" in pages[0]
    shown = [row.record.pk for row in response.context["table"].paginated_rows]
    assert set(shown) == _pks(amount_yen__lt=0)
    by_month = [row.record.pk for row in client.get(LIST).context["table"].paginated_rows]
    assert [pk for pk in by_month if pk in set(shown)] == shown  # the list's own order, among the few

    monkeypatch.setattr("core.tables.FEW_ROWS", len(shown))
    _, pages = _page_queries(client, "")  # more rows than FEW_ROWS: read by the ordering's index, as before
    assert LedgerEntry.objects.count() > len(shown) and len(pages) == 1 and " IN (" not in pages[0]


@pytest.mark.postgres
def test_few_rows_by_id_the_page_among_few_rows_is_read_by_the_primary_key_on_postgresql(book, client, accounting):
    from django.db import connection

    client.force_login(accounting)
    _, (page,) = _page_queries(client, "?amount_max=-1")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {page}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert LedgerEntry._meta.db_table + "_pkey" in plan, plan
