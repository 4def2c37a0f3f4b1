"""Exports of the monthly report: golden CSV in both encodings, cp932 refusals, formula neutralisation, XLSX."""

import datetime as dt
import io
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from contracts.models import Subscriber
from contracts.reports import export_response_chunks, monthly_report
from contracts.reports import exports as exports_module
from contracts.reports import xlsx as xlsx_module
from core.errors import DomainError
from options.choices import FeeKind
from tests.factories import (
    SWP_ACCOUNTS,
    add_fee_item,
    contract_approved,
    contract_billed_from,
    february_report_book,
    jst,
    ledger_reverse_at,
)

pytestmark = pytest.mark.django_db

FEB = dt.date(2026, 2, 1)
GOLDEN = Path(__file__).parent / "golden"
# UPDATE_GOLDEN=1 rewrites the expected files from the code; read the diff before committing it.
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"


def _export(month=FEB, **kwargs) -> tuple[str, str, bytes]:
    filename, content_type, chunks = export_response_chunks(month=month, **kwargs)
    return filename, content_type, b"".join(chunks)


def _assert_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{name} differs from the checked-in golden file"


@pytest.fixture
def golden(regulation, clerk, approver, approver2, tariff_manager):
    return february_report_book(clerk=clerk, approver=approver, approver2=approver2, tariff_manager=tariff_manager)


def _legacy_name(subscriber, name: str) -> None:
    """A name stored before the text rule (core.text) refused control characters and the like: no staff path
    writes one today, but exports must still neutralise and quote what the database may hold."""
    Subscriber.objects.filter(pk=subscriber.pk).update(name=name)


@pytest.mark.parametrize(
    ("fmt", "part", "golden_file", "filename"),
    [
        ("csv", None, "2026-02-detail.csv", "monthly-report-2026-02-detail-provisional.csv"),
        ("csv-cp932", None, "2026-02-detail-cp932.csv", "monthly-report-2026-02-detail-provisional-cp932.csv"),
        ("csv", "charges", "2026-02-charges.csv", "monthly-report-2026-02-charges-provisional.csv"),
        ("csv-cp932", "charges", "2026-02-charges-cp932.csv", "monthly-report-2026-02-charges-provisional-cp932.csv"),
        ("csv", "summary", "2026-02-summary.csv", "monthly-report-2026-02-summary-provisional.csv"),
        ("csv-cp932", "summary", "2026-02-summary-cp932.csv", "monthly-report-2026-02-summary-provisional-cp932.csv"),
    ],
)
def test_a_fixed_data_set_gives_the_checked_in_csv_byte_for_byte(golden, fmt, part, golden_file, filename):
    name, content_type, data = _export(fmt=fmt, part=part)

    assert name == filename
    assert content_type == ("text/csv; charset=utf-8" if fmt == "csv" else "text/csv; charset=Windows-31J")
    _assert_golden(golden_file, data)


def test_utf8_csv_starts_with_a_bom_and_cp932_csv_decodes_to_the_same_text(golden):
    _name, _type, utf8 = _export(fmt="csv")
    _name, _type, cp932 = _export(fmt="csv-cp932")

    assert utf8.startswith(b"\xef\xbb\xbf")
    assert utf8[3:].decode("utf-8") == cp932.decode("cp932")
    assert "髙橋商店" in cp932.decode("cp932")


def test_detail_csv_lists_obligations_and_the_reversal_with_quotes_where_copy_puts_them(golden):
    _name, _type, data = _export(fmt="csv")
    lines = data[3:].decode().split("\n")

    assert lines[0] == (
        "台帳番号,計上月,発生日時,契約者コード,契約者名,オプション,サービス・細目,種別,数量,単位数,単価（円）,"
        "金額（円）,適用開始日,改定,根拠条文,承諾者,記帳者,取消対象,理由"
    )
    # Oldest first (JST); the formula is neutralised and its quotes doubled; 0円 is written as 0.
    assert lines[1].startswith('900201,2026-02-01,2026-02-01 00:00:00,C000102,"\'=HYPERLINK(""http://example.com"",')
    assert lines[2] == (
        "900203,2026-02-01,2026-02-01 00:00:00,C000101,株式会社さくら,"
        "IIJ セキュア Web プラットフォーム アカウント追加オプション機能,"
        "IIJ セキュア Web プラットフォーム追加アカウント使用料,"
        "月額費用（課金開始）,20,2,3000,6000,2026-02-01,令和8年2月1日変更,第4条,approver,clerk,,"
    )
    reversal = "\n".join(lines[7:9])
    assert reversal == (
        "900207,2026-02-01,2026-02-25 17:30:00,C000101,株式会社さくら,"
        "IIJ セキュア Web プラットフォーム アカウント追加オプション機能,"
        "IIJ セキュア Web プラットフォーム追加アカウント使用料,"
        '初期費用,20,,5000,-5000,,令和8年2月1日変更,第4条,approver,approver2,900202,"重複計上のため取消,\n経理確認済み"'
    )
    assert len([line for line in lines if line]) == 1 + 8 + 1  # header, 8 rows, the reason's second line


def test_totals_equal_the_hand_computation(golden):
    report = monthly_report(month=FEB)
    summary = report.summary

    # Charges: 3,000 × 14/28 = 1,500; quoted 1,200 × 3 = 3,600 (whole month); IPv6 0円;
    # 20 accounts to 2/20: 6,000 × 20/28 = 4,285.7 → 4,285.
    assert [(r.option_contract_id, r.days_billed, r.amount_yen) for r in report.charge_rows] == [
        (900102, 20, 4285),
        (900103, 14, 1500),
        (900101, 28, 3600),
        (900104, 19, 0),
    ]
    # Billed obligations: initial 5,000 + 5,000 − 5,000 (reversed) + one-time 2,000 = 7,000.
    assert [(line.option_name, line.kind_label, line.count, line.amount_yen) for line in summary.lines] == [
        ("フレッツ光接続オプション機能", "月額料金（月次）", 1, 3600),
        ("IIJ セキュア Web プラットフォーム アカウント追加オプション機能", "初期費用", 3, 5000),
        ("IIJ セキュア Web プラットフォーム アカウント追加オプション機能", "一時費用", 1, 2000),
        ("IIJ セキュア Web プラットフォーム アカウント追加オプション機能", "月額料金（月次）", 2, 5785),
        ("IPv6 接続オプション機能", "月額料金（月次）", 1, 0),
    ]
    total = 1500 + 4285 + 3600 + 0 + 7000
    assert (summary.total_excl_yen, summary.total_tax_yen, summary.total_incl_yen) == (16385, 1638, 18023)
    assert total == 16385 and 16385 * 10 // 100 == 1638
    assert [(r.rate_percent, r.amount_yen, r.tax_yen) for r in summary.rates] == [(10, 16385, 1638)]
    assert report.is_provisional and not report.is_closed


def _old_initial_fee(amount_yen: int, tariff_manager):
    """An initial fee of a test revision in force from 2019-09-01, before the 10% rate."""
    add_fee_item(
        *SWP_ACCOUNTS,
        FeeKind.INITIAL,
        amount_yen,
        revision_on=dt.date(2019, 9, 1),
        actor=tariff_manager,
        name="旧初期費用",
    )


def test_tax_is_taken_per_rate_in_force_on_the_charged_date_and_rounded_down_per_rate(
    regulation, approver, tariff_manager
):
    _old_initial_fee(1999, tariff_manager)
    for n, approved_at in enumerate((jst(2019, 9, 29, 23, 0), jst(2019, 9, 30, 23, 0), jst(2019, 9, 30, 23, 59))):
        contract_approved(code=f"C{n:06d}", approver=approver, approved_at=approved_at)

    summary = monthly_report(month=dt.date(2019, 9, 1)).summary

    # 3 × 1,999 = 5,997 at 8% (all before 2019-10-01 JST; 9/30 23:59 JST is still September) → 479.76 → 479.
    assert [(r.rate_percent, r.amount_yen, r.tax_yen) for r in summary.rates] == [(8, 5997, 479)]


def test_tax_on_a_reversed_initial_fee_is_refunded_at_the_rate_it_was_charged(
    regulation, approver, approver2, tariff_manager
):
    _old_initial_fee(1000, tariff_manager)
    oc = contract_approved(code="C000001", approver=approver, approved_at=jst(2019, 9, 20, 10, 0))
    initial = oc.ledger_entries.get(kind="initial")
    ledger_reverse_at(initial, actor=approver2, at_instant=jst(2019, 10, 3, 10, 0), reason="請求誤り")

    summary = monthly_report(month=dt.date(2019, 10, 1)).summary

    # Charged on 9/20 at 8% (80円 of tax); reversed in October, the refund gives back those 80円, not 10%.
    assert [(r.rate_percent, r.amount_yen, r.tax_yen) for r in summary.rates] == [(8, -1000, -80)]


def test_cp932_export_names_the_record_and_the_character_it_cannot_hold(regulation, approver):
    contract_billed_from(FEB, code="C000123", name="𠮷野家フーズ", approver=approver)

    for part in (None, "charges"):
        with pytest.raises(DomainError) as caught:
            export_response_chunks(month=FEB, fmt="csv-cp932", part=part)
        assert caught.value.message == (
            "契約者 C000123 の名称に cp932 で表せない文字「𠮷」(U+20BB7) があります。"
            "UTF-8 の CSV か XLSX で出力するか、置き換える文字を指定してください。"
        )


def test_cp932_export_names_a_reversal_reason_it_cannot_hold(regulation, approver, approver2, tariff_manager):
    add_fee_item(*SWP_ACCOUNTS, FeeKind.INITIAL, 5000, revision_on=FEB, actor=tariff_manager, name="初期費用")
    oc = contract_billed_from(FEB, code="C000123", approver=approver)
    reversal = ledger_reverse_at(
        oc.ledger_entries.get(kind="initial"),
        actor=approver2,
        at_instant=jst(2026, 2, 3, 9, 0),
        reason="開始日の誤り — 再登録",
    )

    with pytest.raises(DomainError) as caught:
        export_response_chunks(month=FEB, fmt="csv-cp932")

    assert caught.value.message.startswith(
        f"台帳番号 {reversal.pk} の理由に cp932 で表せない文字「—」(U+2014) があります。"
    )


def test_cp932_export_with_a_chosen_replacement_writes_it_instead(regulation, approver):
    contract_billed_from(FEB, code="C000123", name="𠮷野家フーズ", approver=approver)

    _name, _type, data = _export(fmt="csv-cp932", replacement="?")

    assert ",C000123,?野家フーズ," in data.decode("cp932")


@pytest.mark.parametrize("replacement", ["=", "-", "a,b", '"', "\n", "𠮷", "12345"])
def test_a_replacement_that_would_break_the_csv_or_start_a_formula_is_refused(regulation, replacement):
    with pytest.raises(DomainError):
        export_response_chunks(month=FEB, fmt="csv-cp932", replacement=replacement)


def test_a_replacement_is_only_for_cp932(regulation):
    with pytest.raises(DomainError) as caught:
        export_response_chunks(month=FEB, fmt="csv", replacement="?")
    assert caught.value.message == "置き換える文字は cp932 の CSV でのみ指定できます。"


@pytest.mark.parametrize(
    ("fmt", "part", "message"),
    [
        ("pdf", None, "出力形式は csv、csv-cp932、xlsx のいずれかを指定してください。"),
        ("csv", "everything", "CSV の出力内容は detail（明細）、charges（月額）、summary（集計）のいずれかです。"),
        ("xlsx", "detail", "XLSX は明細・月額・集計の3シートをまとめて出力します（部分の指定はできません）。"),
    ],
)
def test_unknown_formats_and_parts_are_refused_in_japanese(regulation, fmt, part, message):
    with pytest.raises(DomainError) as caught:
        export_response_chunks(month=FEB, fmt=fmt, part=part)
    assert caught.value.message == message


FORMULA_NAMES = ["=1+2", "+81-3-1234", "-5", "@SUM(A1)", "\tタブ", "\r復帰"]


@pytest.fixture
def formula_names(regulation, approver):
    for n, name in enumerate(FORMULA_NAMES):
        oc = contract_billed_from(FEB, code=f"C{n:06d}", approver=approver)
        _legacy_name(oc.subscriber, name)  # a tab or a carriage return: refused by the text rule today


@pytest.mark.parametrize("part", [None, "charges"])
def test_csv_neutralises_text_that_starts_with_a_formula_character(formula_names, part):
    _name, _type, data = _export(fmt="csv", part=part)
    text = data[3:].decode()

    for n, name in enumerate(FORMULA_NAMES):
        field = f"'{name}"
        if "\r" in field:
            field = f'"{field}"'
        assert f",C{n:06d},{field}," in text
    assert ",-3000," not in text and ",3000," in text  # numbers are numbers, never neutralised


def test_xlsx_neutralises_text_that_starts_with_a_formula_character(formula_names):
    book = openpyxl.load_workbook(io.BytesIO(_export(fmt="xlsx")[2]))

    for sheet, column in (("明細", 5), ("月額", 3)):
        names = [row[column - 1] for row in book[sheet].iter_rows(min_row=2, values_only=True)]
        assert sorted(names) == sorted(f"'{name}" for name in FORMULA_NAMES)
    assert all(cell.data_type == "s" for cell in book["明細"]["E"][1:])


def test_xlsx_has_three_sheets_typed_cells_and_a_frozen_header(golden):
    filename, content_type, data = _export(fmt="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))

    assert filename == "monthly-report-2026-02-provisional.xlsx"
    assert content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert book.sheetnames == ["明細", "月額", "集計"]
    detail, charges, summary = book["明細"], book["月額"], book["集計"]
    assert [ws.freeze_panes for ws in (detail, charges, summary)] == ["A2", "A2", "A2"]
    assert [c.value for c in detail[1]][:4] == ["台帳番号", "計上月", "発生日時", "契約者コード"]
    assert detail.max_row == 9 and charges.max_row == 5

    first = detail[2]
    assert first[0].value == 900201 and first[0].data_type == "n"
    assert first[1].value == dt.datetime(2026, 2, 1) and first[1].is_date and first[1].number_format == "yyyy-mm-dd"
    assert first[2].value == dt.datetime(2026, 2, 1, 0, 0) and first[2].number_format == "yyyy-mm-dd hh:mm:ss"
    assert first[4].value == '\'=HYPERLINK("http://example.com","詳細")'
    assert (first[11].value, first[11].number_format) == (3600, '#,##0"円"')
    assert first[9].value is None  # no blocks for a per-account fee

    one_time = detail[9]
    assert one_time[2].value == dt.datetime(2026, 2, 27, 14, 5, 9)  # JST wall time, to the second
    reversal = detail[8]
    assert (reversal[11].value, reversal[17].value, reversal[18].value) == (
        -5000,
        900202,
        "重複計上のため取消,\n経理確認済み",
    )

    assert [c.value for c in charges[2]] == [
        900102,
        "C000101",
        "株式会社さくら",
        "IIJ セキュア Web プラットフォーム アカウント追加オプション機能",
        "IIJ セキュア Web プラットフォーム追加アカウント使用料",
        "月額料金（月次）",
        dt.datetime(2026, 2, 1),
        20,
        2,
        6000,
        20,
        28,
        4285,
        "令和8年2月1日変更",
        "第4条",
        None,
    ]
    rows = list(summary.iter_rows(values_only=True))
    assert rows[-4:] == [
        ("税抜合計", None, None, None, None, 16385),
        ("消費税合計", None, None, None, None, 1638),
        ("税込合計", None, None, None, None, 18023),
        ("状態", "速報（締め前の見込み）", None, None, None, None),
    ]
    assert summary["F2"].number_format == '#,##0"円"'


def test_xlsx_continues_a_sheet_past_the_row_limit_on_numbered_sheets(golden, monkeypatch):
    monkeypatch.setattr(xlsx_module, "MAX_ROWS_PER_SHEET", 4)  # a header and 3 rows per sheet

    book = openpyxl.load_workbook(io.BytesIO(_export(fmt="xlsx")[2]))

    assert book.sheetnames == ["明細", "明細(2)", "明細(3)", "月額", "月額(2)", "集計", "集計(2)", "集計(3)", "集計(4)"]
    ledger_numbers = [
        row[0] for name in ("明細", "明細(2)", "明細(3)") for row in book[name].iter_rows(min_row=2, values_only=True)
    ]
    assert ledger_numbers == [900201, 900203, 900202, 900204, 900206, 900205, 900207, 900208]
    assert all(
        book[name].max_row <= 4 and book[name]["A1"].value == "台帳番号" for name in ("明細", "明細(2)", "明細(3)")
    )


def test_xlsx_of_an_empty_month_still_has_its_three_sheets(regulation):
    book = openpyxl.load_workbook(io.BytesIO(_export(month=dt.date(2026, 5, 1), fmt="xlsx")[2]))

    assert book.sheetnames == ["明細", "月額", "集計"]
    assert book["明細"].max_row == 1


def test_xml_special_characters_survive_into_xlsx(regulation, approver):
    name = "A&B <株式会社> _x0041_ \x07ベル"
    oc = contract_billed_from(FEB, code="C000001", approver=approver)
    _legacy_name(oc.subscriber, name)  # the bell (a control character) is refused by the text rule today

    book = openpyxl.load_workbook(io.BytesIO(_export(fmt="xlsx")[2]))

    # openpyxl does not decode Excel's _xHHHH_ escapes; Excel and LibreOffice read back the original text.
    assert book["明細"]["E2"].value == "A&B <株式会社> _x005F_x0041_ _x0007_ベル"


@pytest.mark.postgres
def test_postgresql_copy_and_the_python_path_write_the_same_bytes(golden):
    def both(encode):
        by_copy = b"".join(exports_module._csv(FEB, "detail", encode, bom=True, by_copy=True))
        in_python = b"".join(exports_module._csv(FEB, "detail", encode, bom=True, by_copy=False))
        return by_copy, in_python

    by_copy, in_python = both(exports_module._encoder("csv", None))
    assert by_copy == in_python == (GOLDEN / "2026-02-detail.csv").read_bytes()
    by_copy, in_python = both(exports_module._encoder("csv-cp932", None))
    assert by_copy == in_python


@pytest.mark.postgres
def test_postgresql_copy_and_the_python_path_agree_on_awkward_texts(regulation, approver, tariff_manager):
    names = ["=1+2", "\r復帰", 'a"b', "a,b", "x\ny", " 前後の空白 ", "\\.", "NULL", ""]
    add_fee_item(*SWP_ACCOUNTS, FeeKind.INITIAL, 5000, revision_on=FEB, actor=tariff_manager, name="初期費用")
    for n, name in enumerate(names):
        # Approved at 23:59:59.999999 JST: microseconds are cut, never rounded, so its 初期費用 stays on 2/3.
        oc = contract_billed_from(
            dt.date(2026, 2, 4), code=f"C{n:06d}", approver=approver, approved_at=jst(2026, 2, 3, 23, 59, 59, 999999)
        )
        _legacy_name(oc.subscriber, name)  # names from before the text rule: line breaks, edge spaces, empty
    encode = exports_module._encoder("csv", None)

    by_copy = b"".join(exports_module._csv(FEB, "detail", encode, bom=True, by_copy=True))
    in_python = b"".join(exports_module._csv(FEB, "detail", encode, bom=True, by_copy=False))

    assert by_copy == in_python
    assert b",2026-02-03 23:59:59," in by_copy


LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.skipif(
    LIBREOFFICE is None, reason="libreoffice が見つかりません（docs/monthly_report.md の手動確認を参照）"
)
def test_libreoffice_opens_the_xlsx_and_the_csv_with_japanese_text_intact(golden, tmp_path):
    (tmp_path / "report.xlsx").write_bytes(_export(fmt="xlsx")[2])
    (tmp_path / "report.csv").write_bytes(_export(fmt="csv")[2])
    (tmp_path / "report-cp932.csv").write_bytes(_export(fmt="csv-cp932")[2])
    utf8_out = "csv:Text - txt - csv (StarCalc):44,34,76"  # comma, double quote, UTF-8

    converted = {}
    for source, infilter in (
        ("report.xlsx", None),
        ("report.csv", "CSV:44,34,76"),
        ("report-cp932.csv", "CSV:44,34,64"),
    ):
        out = tmp_path / f"out-{source}"
        command = [LIBREOFFICE, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless"]
        if infilter:
            command.append(f"--infilter={infilter}")  # 76 = UTF-8, 64 = Japanese (Windows-932)
        command += ["--convert-to", utf8_out, "--outdir", str(out), str(tmp_path / source)]
        subprocess.run(command, check=True, capture_output=True, timeout=180)
        converted[source] = next(out.glob("*.csv")).read_text(encoding="utf-8")

    for text in converted.values():
        assert "株式会社さくら" in text
        assert "髙橋商店, 本店" in text
        assert "IIJ セキュア Web プラットフォーム追加アカウント使用料" in text
        assert "'=HYPERLINK" in text
    assert converted["report.csv"] == converted["report-cp932.csv"]
    assert "2026-02-27 14:05:09" in converted["report.xlsx"]  # a typed date-time, shown with its format
