"""仕訳 (journal exports) of a closed month for 弥生会計, freee and マネーフォワード クラウド会計: the mapping table,
debit = credit, integer yen, tax per rate equal to the report's, golden files, byte-identical regeneration."""

import csv
import datetime as dt
import io
import os
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from accounting.choices import TaxClass
from accounting.formats import FORMATS, FREEE, MF, YAYOI, journal_export
from accounting.journals import journal_of
from accounting.models import AccountMapping
from accounting.services import account_mapping_save
from contracts.reports import monthly_report
from contracts.services.month_close import month_close
from core.errors import DomainError
from options.models import Option
from tests.accounting.journal_checks import (
    AMOUNTS,
    TAXES,
    journal_file,
    journal_files_checked,
    journal_rows,
    map_everything,
)
from tests.factories import february_report_book, jst

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
FEB = dt.date(2026, 2, 1)


def _at(*args):
    return time_machine.travel(jst(*args), tick=False)


@pytest.fixture
def closed_february(regulation, approver, approver2, clerk, tariff_manager, accounting):
    february_report_book(clerk=clerk, approver=approver, approver2=approver2, tariff_manager=tariff_manager)
    map_everything(accounting)
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)


def _file(fmt: str) -> bytes:
    return journal_file(FEB, fmt)


def _rows(fmt: str, data: bytes) -> list[list[str]]:
    return journal_rows(fmt, data)


def test_journal_debits_equal_credits_and_tax_per_rate_equals_the_report(closed_february):
    journal_files_checked(FEB)
    journal = journal_of(month=FEB)
    report = monthly_report(month=FEB)
    assert {r.rate_percent: r.tax_yen for r in report.summary.rates} == {
        rate: sum(line.tax_yen for line in journal.lines if line.rate_percent == rate) for rate in journal.rates
    }
    assert sum(line.amount_yen for line in journal.lines) == report.summary.total_excl_yen
    assert journal.total_tax_yen == report.summary.total_tax_yen
    for fmt in FORMATS:
        rows = _rows(fmt, _file(fmt))
        assert len(rows) == len(journal.lines)
        debit_col, credit_col = AMOUNTS[fmt]
        for row in rows:
            assert row[debit_col] == row[credit_col] and row[debit_col].isdigit()  # integer yen, never negative
        assert sum(int(r[debit_col]) for r in rows) == sum(int(r[credit_col]) for r in rows)
        tax = sum(int(r[c]) for r in rows for c in TAXES[fmt] if r[c])
        assert tax == sum(abs(line.tax_yen) for line in journal.lines)


def test_a_reversed_initial_fee_is_booked_the_other_way_round(closed_february):
    # The golden month's initial fees: 5,000円 (2/3) and 5,000円 (2/2) reversed on 2/25: net 5,000円; a month
    # whose only initial fee is reversed gives a negative line, booked as sales on the debit side.
    journal = journal_of(month=FEB)
    initial = [line for line in journal.lines if line.kind == "initial"]
    assert [(line.amount_yen, line.tax_yen, line.count) for line in initial] == [(5000, 500, 3)]
    rows = _rows(YAYOI, _file(YAYOI))
    assert all(row[4] == "売掛金" and row[10] == "売上高" for row in rows)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_gives_its_golden_file_byte_for_byte_and_the_same_bytes_when_regenerated(closed_february, fmt):
    data = _file(fmt)
    golden = GOLDEN / f"2026-02-{fmt}.csv"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(data)
    assert data == golden.read_bytes()
    # A mapping changed after the close does not change the closed month's file.
    mapping = AccountMapping.objects.order_by("pk").first()
    account_mapping_save(
        option=mapping.option, kind=mapping.kind, values={"credit_account": "雑収入"}, actor=mapping.updated_by,
        reason="後日の変更",
    )  # fmt: skip
    assert _file(fmt) == data


def test_each_format_has_its_encoding_line_endings_and_date_format(closed_february):
    yayoi, freee, mf = _file(YAYOI), _file(FREEE), _file(MF)
    assert yayoi.decode("cp932").startswith("2000,,,2026/02/28,売掛金,")  # no header, 弥生's flag and date
    assert "課税売上込10%".encode("cp932") in yayoi and b"\r\n" in yayoi and b"\n" not in yayoi.replace(b"\r\n", b"")
    assert freee.decode("utf-8").startswith("日付,伝票番号,決算整理仕訳,借方勘定科目,借方金額,")
    assert mf.decode("utf-8").startswith("取引No,取引日,借方勘定科目,借方補助科目,借方部門,")
    assert len(next(csv.reader(io.StringIO(mf.decode())))) == 27  # A…AA
    for data in (freee, mf):
        assert not data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\r\n")


def test_a_missing_mapping_refuses_the_export_naming_the_row(
    regulation, approver, approver2, clerk, tariff_manager, accounting
):
    february_report_book(clerk=clerk, approver=approver, approver2=approver2, tariff_manager=tariff_manager)
    map_everything(accounting, skip={("swp-accounts", "one_time")})
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    with pytest.raises(DomainError) as refused:
        journal_export(month=FEB, fmt=YAYOI)
    assert refused.value.code == "mapping_missing"
    assert "「一時費用」に勘定科目の対応が登録されていないため、仕訳を出力できません" in str(refused.value)
    assert Option.objects.get(code="swp-accounts").name in str(refused.value)


def test_an_open_month_has_no_journal(regulation, accounting):
    with pytest.raises(DomainError, match="締められていないため、仕訳を出力できません"):
        journal_export(month=FEB, fmt=FREEE)
    with pytest.raises(DomainError, match="journal-yayoi、journal-freee、journal-mf"):
        journal_export(month=FEB, fmt="journal-obc")


def test_monthly_report_writes_each_journal_for_batch_use(closed_february, tmp_path):
    for fmt in FORMATS:
        target = tmp_path / f"{fmt}.csv"
        call_command("monthly_report", "2026-02", "--format", fmt, "--output", str(target), stdout=io.StringIO())
        assert target.read_bytes() == _file(fmt)
    with pytest.raises(CommandError, match="--part"):
        call_command("monthly_report", "2026-02", "--format", MF, "--part", "detail", stdout=io.StringIO())


def test_mapping_names_no_journal_file_can_hold_are_refused_and_only_accounting_maps(regulation, accounting, clerk):
    option = Option.objects.get(code="ipv6")
    cases = [
        ({"credit_account": "売上高（インターネット接続サービス）"}, "半角24文字（全角12文字）以内"),
        ({"credit_account": "売上𠮷"}, "Shift_JIS"),
        ({"debit_account": ""}, "借方勘定科目を入力してください"),
        ({"department": "=SUM(A1)"}, "先頭に「=」"),
        ({"tax_class_10": TaxClass.SALES_8}, "税区分（10%）"),
    ]
    for values, message in cases:
        with pytest.raises(DomainError, match=message.replace("(", r"\(")):
            account_mapping_save(option=option, kind="monthly_charge", values=values, actor=accounting, reason="x")
    with pytest.raises(DomainError, match="権限がありません"):
        account_mapping_save(option=option, kind="monthly_charge", values={}, actor=clerk, reason="x")
    assert not AccountMapping.objects.exists() and not AccountMapping.history.exists()
    mapping = account_mapping_save(
        option=option, kind="monthly_charge", values={"tax_class_8": TaxClass.SALES_8_REDUCED}, actor=accounting,
        reason="新規",
    )  # fmt: skip
    assert (mapping.debit_account, mapping.credit_account, mapping.tax_class_8) == (
        "売掛金",
        "売上高",
        "sales_8_reduced",
    )
    assert mapping.history.get().history_change_reason == "新規"
