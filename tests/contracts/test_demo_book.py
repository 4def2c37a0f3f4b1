"""The demo book closes: `load_demo` gives accounting months with real money, and each closes and exports.

Also the load itself: all or nothing (refused, with nothing written, before the fees it uses are in force or
under the production settings), and loaded again it changes nothing.
"""

import csv
import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Min
from django.test import override_settings

from contracts import roles
from contracts.models import Application, ContractTerms, LedgerEntry, MonthClose, OptionContract, Subscriber
from contracts.reports import export_response_chunks
from contracts.services.month_close import month_close
from core import clock
from options.choices import FeeKind
from options.models import FeeItem
from tests.accounting.journal_checks import journal_file, journal_files_checked
from tests.contracts.book_machine import closed_total_of_its_rows

pytestmark = pytest.mark.django_db

FEES_FROM = dt.date(2026, 2, 1)  # 令和8年2月1日: the seed's fee table (DOMAIN §3.12)
CSV_PARTS = ("detail", "charges", "summary")
SHEETS = ["明細", "月額", "集計"]
DEMO_USERS = {"uketsuke", "uketsuke2", "shonin", "keiri", "kitei", "admin"}
SWP_BLOCK_YEN = 3000  # 10アカウントあたり 3,000円


def jst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=clock.JST)


def _quiet(name: str) -> str:
    out = io.StringIO()
    call_command(name, stdout=out)
    return out.getvalue()


def _counts() -> list[int]:
    models = (Subscriber, Application, OptionContract, ContractTerms, LedgerEntry)
    return [m.objects.count() for m in models] + [m.history.count() for m in models]


def _assert_nothing_written(users_before: int) -> None:
    assert get_user_model().objects.count() == users_before
    assert not get_user_model().objects.filter(username__in=DEMO_USERS).exists()
    assert Subscriber.objects.count() == 0
    assert OptionContract.objects.count() == Application.objects.count() == LedgerEntry.objects.count() == 0


# --- the load: all or nothing, once -----------------------------------------------------------------------


def test_demo_refuses_before_its_fees_are_in_force_and_writes_nothing():
    _quiet("load_regulation")
    users_before = get_user_model().objects.count()
    with time_machine.travel(jst(2026, 1, 15, 10, 0), tick=False):
        with pytest.raises(CommandError) as caught:
            _quiet("load_demo")
    message = str(caught.value)
    assert "令和8年1月15日 (2026-01-15)" in message
    assert "令和8年2月1日 (2026-02-01)" in message  # the first day every fee the demo uses is in force
    assert "施行されていません" in message and "何も登録していません" in message
    _assert_nothing_written(users_before)


def test_demo_refuses_without_the_regulation_and_writes_nothing():
    users_before = get_user_model().objects.count()
    with time_machine.travel(jst(2026, 12, 2, 10, 0), tick=False):
        with pytest.raises(CommandError, match="load_regulation"):
            _quiet("load_demo")
    _assert_nothing_written(users_before)


@pytest.mark.parametrize(
    "overrides",
    [{"SETTINGS_MODULE": "config.settings.production"}, {"DEMO_DATA_ALLOWED": False}],
    ids=["production-settings", "flag-off"],
)
def test_demo_refuses_in_production_and_writes_nothing(overrides):
    _quiet("load_regulation")
    users_before = get_user_model().objects.count()
    with time_machine.travel(jst(2026, 12, 2, 10, 0), tick=False), override_settings(**overrides):
        with pytest.raises(CommandError, match="本番環境の設定"):
            _quiet("load_demo")
    _assert_nothing_written(users_before)


@pytest.mark.parametrize(
    "now",
    [jst(2026, 2, 1, 0, 0), jst(2026, 12, 2, 10, 0), jst(2027, 4, 15, 10, 0)],
    ids=["fees-first-day", "2026-12-02", "2027-04-15"],
)
def test_demo_loads_once_on_any_day_from_the_fees(now):
    _quiet("load_regulation")
    with time_machine.travel(now, tick=False):
        out = _quiet("load_demo")
        assert "デモ契約者を登録: D0010" in out
        assert Subscriber.objects.filter(code__startswith="D").count() == 10
        assert set(get_user_model().objects.values_list("username", flat=True)) >= DEMO_USERS
        counts = _counts()
        assert _quiet("load_demo") == "デモデータは登録済みです。\n"
        assert _counts() == counts
    book = OptionContract.objects.filter(subscriber__code__in=["D0009", "D0010"])
    assert {c.migrated for c in book} == {True}
    # Entered by 受付 uketsuke, in force because a second person (uketsuke2) confirmed them.
    assert {(c.registered_by.username, c.confirmed_by.username) for c in book} == {("uketsuke", "uketsuke2")}
    assert min(c.billing_start_date for c in book) >= FEES_FROM
    assert max(c.billing_start_date for c in book) <= clock.jst_date(now)
    assert not LedgerEntry.objects.filter(option_contract__in=book).exists()  # migrated: no obligations


def test_demo_creates_no_superuser_with_the_published_password():
    _quiet("load_regulation")
    with time_machine.travel(jst(2026, 12, 2, 10, 0), tick=False):
        _quiet("load_demo")
    staff = get_user_model().objects.filter(username__in=DEMO_USERS)
    assert staff.count() == len(DEMO_USERS)
    assert not staff.filter(is_superuser=True).exists()
    admin = staff.get(username="admin")
    assert list(admin.groups.values_list("name", flat=True)) == [roles.SYSTEM_ADMIN]
    assert admin.has_perm("auth.change_user") and not admin.user_permissions.exists()


# --- the book closes ----------------------------------------------------------------------------------------


def _export(month: dt.date, fmt: str, part: str | None) -> tuple[str, bytes]:
    filename, _, chunks = export_response_chunks(month=month, fmt=fmt, part=part)
    return filename, b"".join(chunks)


EXPORTS = [("csv", part) for part in CSV_PARTS] + [("csv-cp932", part) for part in CSV_PARTS] + [("xlsx", None)]


def _parsed(fmt: str, data: bytes):
    """The export's tables: one CSV (header + rows), or the workbook's sheets by name."""
    assert isinstance(data, bytes) and data
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        assert book.sheetnames == SHEETS
        return {name: [list(row) for row in book[name].iter_rows(values_only=True)] for name in SHEETS}
    encoding = "utf-8-sig" if fmt == "csv" else "cp932"
    if fmt == "csv":
        assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    assert rows and rows[0]
    assert all(len(row) == len(rows[0]) for row in rows)
    return rows


def _exports(month: dt.date) -> dict[tuple[str, str | None], tuple[str, bytes]]:
    exports = {key: _export(month, *key) for key in EXPORTS}
    for (fmt, _), (_, data) in exports.items():
        _parsed(fmt, data)
    return exports


def _charges(rows: list[list]) -> dict[str, dict]:
    """月額 rows by subscriber code (one contract each in the demo book), as {label: value}."""
    header, *body = rows
    by_code = {}
    for row in body:
        record = dict(zip(header, row, strict=True))
        assert record["契約者コード"] not in by_code
        by_code[record["契約者コード"]] = record
    return by_code


def _month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    months = []
    while first <= last:
        months.append(first)
        first = clock.next_month(first)
    return months


@pytest.mark.parametrize("now", [jst(2026, 12, 2, 10, 0), jst(2027, 4, 15, 10, 0)], ids=["2026-12-02", "2027-04-15"])
def test_the_demo_book_closes(now):
    with time_machine.travel(now, tick=False):
        _quiet("load_regulation")
        _quiet("load_demo")
        today = clock.today()
        keiri = get_user_model().objects.get(username="keiri")

        fees_from = FeeItem.objects.filter(kind=FeeKind.MONTHLY).aggregate(d=Min("revision__effective_on"))["d"]
        assert fees_from == FEES_FROM
        first_billing = OptionContract.objects.aggregate(d=Min("billing_start_date"))["d"]
        first_month = clock.month_start(max(first_billing, fees_from))
        this_month = clock.month_start(today)
        last_month = clock.month_start(this_month - dt.timedelta(days=1))
        months = _month_range(first_month, last_month)
        assert first_month == FEES_FROM  # D0008 bills since 2010: the book is billed from the first fees on
        assert len(months) >= 5

        closed: dict[dt.date, dict] = {}
        journals: dict[dt.date, dict] = {}
        for month in months:
            close = month_close(month=month, actor=keiri)
            assert (close.month, close.closed_by) == (month, keiri)
            closed[month] = _exports(month)
            # load_demo mapped every option × kind: each closed month exports its journals, balanced, with the
            # report's tax (tests/accounting/journal_checks.py).
            journals[month] = journal_files_checked(month)
            for key, (filename, data) in closed[month].items():
                assert "provisional" not in filename
                assert _export(month, *key) == (filename, data)  # regenerated at once: the same bytes
        assert list(MonthClose.objects.order_by("month").values_list("month", flat=True)) == months
        # Each close sealed its month; verify_ledger recomputes the chain and finds every month as sealed.
        verified = io.StringIO()
        call_command("verify_ledger", stdout=verified)
        assert f"台帳の検証: {len(months)}か月の締めがすべて封印と一致しました" in verified.getvalue()

        # Regenerated after every later month has closed: still the same bytes.
        for month, exports in closed.items():
            for key, exported in exports.items():
                assert _export(month, *key) == exported, (month, key)
            for fmt, data in journals[month].items():
                assert journal_file(month, fmt) == data, (month, fmt)

        # This month is open: 速報, in every format.
        for key, (filename, _) in _exports(this_month).items():
            assert "provisional" in filename, key
        summary = _parsed("csv", _export(this_month, "csv", "summary")[1])
        assert ["状態", "速報（締め前の見込み）", "", "", "", ""] in summary

        # Last month in figures: D0008 (0円), D0009 (20 accounts = 2 blocks × 3,000円), D0010 (30 = 9,000円).
        days = clock.days_in_month(last_month)
        charges = _charges(_parsed("csv", closed[last_month][("csv", "charges")][1]))
        assert set(charges) == {"D0008", "D0009", "D0010"}
        assert {k: charges["D0009"][k] for k in ("数量", "単位数", "月額（円）", "課金日数", "請求額（円）")} == {
            "数量": "20",
            "単位数": "2",
            "月額（円）": "6000",
            "課金日数": str(days),
            "請求額（円）": "6000",
        }
        assert charges["D0009"]["対象月"] == last_month.isoformat()
        assert (charges["D0010"]["単位数"], charges["D0010"]["請求額（円）"]) == ("3", "9000")
        assert charges["D0008"]["請求額（円）"] == "0"
        cp932 = _charges(_parsed("csv-cp932", closed[last_month][("csv-cp932", "charges")][1]))
        assert cp932 == charges
        sheet = _charges(_parsed("xlsx", closed[last_month][("xlsx", None)][1])["月額"])
        assert sheet["D0009"]["請求額（円）"] == 6000 and sheet["D0010"]["請求額（円）"] == 9000

        totals = {row[0]: row[5] for row in _parsed("csv", closed[last_month][("csv", "summary")][1])}
        assert (totals["税抜合計"], totals["消費税合計"], totals["税込合計"]) == ("15000", "1500", "16500")
        assert totals["状態"] == ""  # the 状態 row holds its label in オプション
        assert MonthClose.objects.get(month=last_month).charge_rows == 3

        # D0010's first month is prorated: 9,000円 × days from the 16th ÷ days in month, yen rounded down.
        soyokaze = OptionContract.objects.get(subscriber__code="D0010")
        start = soyokaze.billing_start_date
        assert start.day == 16
        first = _charges(_parsed("csv", closed[clock.month_start(start)][("csv", "charges")][1]))["D0010"]
        billed = clock.days_in_month(start) - 15
        assert (first["課金日数"], first["請求額（円）"]) == (
            str(billed),
            str(9000 * billed // clock.days_in_month(start)),
        )

        # D0009 bills full months from the 1st of the month 4 months ago; nothing of the book before it.
        mirai = OptionContract.objects.get(subscriber__code="D0009")
        assert mirai.billing_start_date == _month_range(mirai.billing_start_date, last_month)[0]
        assert len(_month_range(mirai.billing_start_date, last_month)) == 4
        for month in months:
            codes = set(_charges(_parsed("csv", closed[month][("csv", "charges")][1])))
            assert ("D0009" in codes) == (month >= mirai.billing_start_date)
            assert ("D0010" in codes) == (month >= clock.month_start(start))


def test_the_demo_books_months_on_the_accounting_home_equal_their_reports_to_the_yen(client):
    """The accounting home's totals are its months' reports': every closed month of the demo book, by option."""
    from django.urls import reverse

    from contracts.reports.overview import accounting_overview

    with time_machine.travel(jst(2026, 12, 2, 10, 0), tick=False):
        _quiet("load_regulation")
        _quiet("load_demo")
        keiri = get_user_model().objects.get(username="keiri")
        months = _month_range(FEES_FROM, dt.date(2026, 11, 1))
        for month in months:
            month_close(month=month, actor=keiri)
        client.force_login(keiri)
        html = client.get(reverse("home")).content.decode()
        overview = accounting_overview(today=clock.today())
        closed = [f for f in overview.months if f.state_label == "確定"]
        assert [f.month for f in closed] == months
        for figures in closed:
            report = export_report_summary(figures.month)
            assert (figures.total_excl_yen, figures.total_tax_yen, figures.total_incl_yen) == report[:3]
            assert sorted((line.option_name, line.amount_yen) for line in figures.lines) == report[3]
            assert f'data-month="{figures.month:%Y-%m}"' in html
        # 集計 adds up the month's scope part by part; its total is the sum of the rows the report holds (the OR).
        for close in MonthClose.objects.all():
            total, listed = closed_total_of_its_rows(close)
            assert total == listed, (close.month, total, listed)
        november = overview.last_month
        assert (november.total_excl_yen, november.total_tax_yen, november.total_incl_yen) == (15000, 1500, 16500)
        assert "16,500円" in html[html.index('id="month-card-2026-11"') :]
        assert overview.this_month.state_label == "速報"


def export_report_summary(month: dt.date):
    """The month's 集計 as the report's CSV gives it: totals, and (option, yen) per line."""
    rows = _parsed("csv", _export(month, "csv", "summary")[1])
    totals = {row[0]: row[5] for row in rows}
    lines = sorted((row[1], int(row[5])) for row in rows if row[0] == "内訳")
    return int(totals["税抜合計"]), int(totals["消費税合計"]), int(totals["税込合計"]), lines
