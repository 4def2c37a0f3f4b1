"""`import_contracts` (DOMAIN §3.13): migrated contracts from CSV, all rows or none, errors by line and column."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from contracts.choices import OptionContractStatus
from contracts.models import (
    Application,
    BaseServiceContract,
    CarrierLineContract,
    LedgerEntry,
    OptionContract,
    Subscriber,
)
from core.history_write import system_user

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
MODELS = (Subscriber, BaseServiceContract, CarrierLineContract, OptionContract)


def _import(name, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_contracts", str(FIXTURES / name), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _counts():
    return [m.objects.count() for m in MODELS] + [m.history.count() for m in MODELS]


def test_import_a_good_file_registers_migrated_contracts_with_their_real_dates_and_no_obligations(regulation):
    out, _ = _import("contracts_good.csv")
    assert out.splitlines()[-1] == "4件を登録しました（登録済みのためスキップ 0件）。"
    assert Subscriber.objects.count() == 3
    hokuto = Subscriber.objects.get(code="M0001")
    assert (hokuto.name, hokuto.kana, hokuto.kind) == (
        "株式会社北斗システム",
        "カブシキガイシャホクトシステム",
        "corporate",
    )
    contract = OptionContract.objects.get(subscriber=hokuto)
    assert (contract.option.code, contract.variant.code, contract.quantity) == ("b-flets", "type-e", 2)
    assert (contract.contracted_on, contract.billing_start_date, contract.end_date, contract.status) == (
        dt.date(2010, 4, 1),
        dt.date(2010, 5, 1),
        None,
        OptionContractStatus.BILLING,
    )
    assert (contract.migrated, contract.approved_at, contract.origin_application) == (True, None, None)
    line = contract.carrier_line
    assert (line.carrier_service.code, line.line_id, line.start_date, line.migrated) == (
        "b-flets",
        "COP0001234",
        dt.date(2010, 3, 1),
        True,
    )
    yamada = Subscriber.objects.get(code="M0002")
    assert yamada.kind == "individual"
    assert sorted(yamada.option_contracts.values_list("option__code", "base_contract__service__code")) == [
        ("ipv6", "fiberaccess-f"),
        ("swp-accounts", "web-highgrade2"),
    ]
    assert yamada.base_contracts.get(service__code="web-highgrade2").start_date == dt.date(2015, 3, 1)
    ended = OptionContract.objects.get(subscriber__code="M0003")
    assert (ended.quoted_amount_yen, ended.end_date, ended.status) == (
        1200,
        dt.date(2024, 3, 31),
        OptionContractStatus.ENDED,
    )
    assert LedgerEntry.objects.count() == 0
    assert Application.objects.count() == 0


def test_import_writes_history_as_the_system_user_citing_file_and_line(regulation):
    _import("contracts_good.csv")
    entry = OptionContract.objects.get(subscriber__code="M0001").history.get()
    assert (entry.history_user, entry.history_change_reason) == (
        system_user(),
        "移行データの取込（contracts_good.csv 2行目）",
    )
    assert Subscriber.objects.get(code="M0002").history.get().history_user == system_user()


def test_import_the_same_file_again_registers_nothing_more(regulation):
    _import("contracts_good.csv")
    before = _counts()
    out, _ = _import("contracts_good.csv")
    assert out.splitlines()[-1] == "0件を登録しました（登録済みのためスキップ 4件）。"
    assert _counts() == before


def test_import_still_knows_a_contract_moved_by_a_succession(regulation):
    _import("contracts_good.csv")
    call_command("apply_successions", stdout=io.StringIO())
    before = _counts()
    _import("contracts_good.csv")
    assert _counts() == before


def test_import_a_bad_file_reports_every_error_by_line_and_column_and_writes_nothing(regulation):
    before = _counts()
    with pytest.raises(CommandError) as failed:
        _import("contracts_bad.csv")
    assert str(failed.value) == "7件のエラーがあるため、何も登録しませんでした。"
    assert _counts() == before


def test_import_error_report_names_line_and_field_in_japanese(regulation):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_contracts", str(FIXTURES / "contracts_bad.csv"), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "3行目「区分」: 「法人」または「個人」を入力してください。",
        "3行目「オプションコード」: コード「x-option」は登録されていません。",
        "4行目「契約者名」: 契約者「M0103」は未登録のため、契約者名が必要です。",
        "4行目「数量」: IIJ セキュア Web プラットフォーム追加アカウント使用料の数量は"
        "10アカウント単位で申し込んでください"
        "（25アカウントは10の倍数ではありません。例: 20または30）。（第4条）",
        "4行目「契約成立日」: 存在しない日付です（令和8年2月30日）。",
        "5行目「数量」: 整数で入力してください（「abc」）。",
        "5行目「基本サービスコード」: IPv6 接続オプション機能では基本サービスコードが必要です（第5条）。",
    ]


def test_import_a_refusal_while_writing_rolls_back_every_row(regulation):
    before = _counts()
    err = io.StringIO()
    with pytest.raises(CommandError, match="1件のエラーがあるため、何も登録しませんでした。"):
        call_command("import_contracts", str(FIXTURES / "contracts_bad_dates.csv"), stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == (
        "3行目「課金開始日」: 課金開始日（令和2年1月1日 (2020-01-01)）が契約成立日（令和2年2月1日 (2020-02-01)）"
        "より前です。\n"
    )
    assert _counts() == before  # line 2 was fine, and is not written either


def test_import_dry_run_lists_the_rows_and_writes_nothing(regulation):
    before = _counts()
    out, _ = _import("contracts_good.csv", "--dry-run")
    lines = out.splitlines()
    assert lines[0].startswith("2行目: 登録 M0001 株式会社北斗システム Bフレッツ接続オプション機能 / ")
    assert lines[-1] == "ドライラン: 4件を登録できます（登録済み 0件）。書き込んでいません。"
    assert _counts() == before


def test_import_refuses_a_file_that_is_not_utf8(regulation, tmp_path):
    path = tmp_path / "sjis.csv"
    path.write_bytes("契約者コード\n".encode("cp932"))
    with pytest.raises(CommandError, match="UTF-8 ではありません"):
        call_command("import_contracts", str(path), stdout=io.StringIO())


def test_import_refuses_unknown_and_missing_columns(regulation, tmp_path):
    path = tmp_path / "columns.csv"
    path.write_text("契約者コード,オプション,細目コード\nM1,b-flets,type-e\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_contracts", str(path), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "1行目「オプションコード」: 見出しにこの列がありません。",
        "1行目「契約成立日」: 見出しにこの列がありません。",
        "1行目「オプション」: 知らない列です。列名を確認してください。",
    ]


def test_import_refuses_a_contract_of_a_retired_option_formed_on_or_after_its_retirement(regulation, tmp_path):
    """DOMAIN §3.19: a Bフレッツ contract formed in 2015 is refused by the import, the dry run too."""
    header = (FIXTURES / "contracts_good.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    late = tmp_path / "late.csv"
    late.write_text(
        header
        + "\nM0901,株式会社遅延,チエン,法人,b-flets,type-e,1,,2015-04-01,2015-04-01,,,,,b-flets,COP09,2015-03-01\n",
        encoding="utf-8",
    )
    before = _counts()
    for args in (["--dry-run"], []):
        err = io.StringIO()
        with pytest.raises(CommandError, match="1件のエラーがあるため"):
            call_command("import_contracts", str(late), *args, stdout=io.StringIO(), stderr=err)
        assert err.getvalue().splitlines() == [
            "2行目「契約成立日」: Bフレッツ接続オプション機能は平成26年3月1日 (2014-03-01)に廃止されたため、"
            "同日以後に成立する契約はできません。（平成26年3月1日変更 附則第4項により、それ以前の契約は"
            "フレッツ光接続オプション機能として存続します）"
        ]
    assert _counts() == before


# ---- Bad input (issue 9): a Japanese error naming the line and the column, exit code 1, nothing written ----

GOOD_ROW = {
    "契約者コード": "M0901",
    "契約者名": "株式会社テスト",
    "オプションコード": "flets-hikari",
    "細目コード": "type-a",
    "数量": "1",
    "見積額": "1200",
    "契約成立日": "2016-01-01",
    "課金開始日": "2016-02-01",
    "事業者サービスコード": "flets-next-prio1",
    "回線ID": "CAF0000001",
}
HEADER = ["契約者コード", "契約者名", "オプションコード", "細目コード", "数量", "見積額", "契約成立日", "課金開始日"]
HEADER += ["事業者サービスコード", "回線ID"]


def _csv_bytes(*rows: dict, header=HEADER, newline="\n") -> bytes:
    lines = [",".join(header)] + [",".join(row.get(name, "") for name in header) for row in rows]
    return (newline.join(lines) + newline).encode("utf-8")


def _refused(path, *args) -> tuple[str, list[str]]:
    """Run the import, which must fail: return the CommandError's message and the lines on stderr."""
    err = io.StringIO()
    before = _counts() + [LedgerEntry.objects.count(), Application.objects.count()]
    with pytest.raises(CommandError) as failed:
        call_command("import_contracts", str(path), *args, stdout=io.StringIO(), stderr=err)
    assert failed.value.returncode == 1
    assert _counts() + [LedgerEntry.objects.count(), Application.objects.count()] == before
    return str(failed.value), err.getvalue().splitlines()


def _file(tmp_path, data: bytes, name="in.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_import_a_good_row_of_the_bad_input_tests_registers(regulation, tmp_path):
    """The row the tests below spoil is itself good, so each refusal is the spoiled cell's."""
    out = io.StringIO()
    call_command("import_contracts", str(_file(tmp_path, _csv_bytes(GOOD_ROW))), "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[-1] == "ドライラン: 1件を登録できます（登録済み 0件）。書き込んでいません。"


def test_import_refuses_a_nul_character_naming_line_and_column(regulation, tmp_path):
    rows = [GOOD_ROW, {**GOOD_ROW, "契約者コード": "M09\x0002"}, {**GOOD_ROW, "オプションコード": "flets\x00-hikari"}]
    message, lines = _refused(_file(tmp_path, _csv_bytes(*rows)))
    assert lines == [
        "3行目「契約者コード」: 入力に使えない文字（NUL、U+0000）が含まれています。",
        "4行目「オプションコード」: 入力に使えない文字（NUL、U+0000）が含まれています。",
    ]
    assert message == "2件のエラーがあるため、何も登録しませんでした。"


def test_import_refuses_invisible_and_control_characters_in_a_cell(regulation, tmp_path):
    rows = [
        {**GOOD_ROW, "契約者名": "株式会社\u202eテスト"},
        {**GOOD_ROW, "回線ID": "\ufeffCAF0000001"},
        {**GOOD_ROW, "契約者コード": "M\x1b0903"},
    ]
    _message, lines = _refused(_file(tmp_path, _csv_bytes(*rows)))
    assert lines == [
        "2行目「契約者名」: 入力に使えない文字（書式制御文字（文字の向きを変える文字）、U+202E）が含まれています。",
        "3行目「回線ID」: 入力に使えない文字（見えない文字（BOM・ゼロ幅文字）、U+FEFF）が含まれています。",
        "4行目「契約者コード」: 入力に使えない文字（制御文字、U+001B）が含まれています。",
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("数量", str(2**31), "1,000,000以下の整数で入力してください。"),
        ("数量", str(10**30), "1,000,000以下の整数で入力してください。"),
        ("数量", "9" * 5000, "1,000,000以下の整数で入力してください。"),
        ("見積額", str(2**31), "2,000,000,000以下の整数で入力してください。"),
        ("見積額", f"{10**30:,}", "2,000,000,000以下の整数で入力してください。"),
        ("見積額", "-1", "0以上の整数で入力してください。"),
        ("数量", "1_000", "整数で入力してください（「1_000」）。"),
        ("数量", "1e3", "整数で入力してください（「1e3」）。"),
    ],
)
def test_import_refuses_numbers_outside_the_declared_bounds(regulation, tmp_path, column, value, message):
    _message, lines = _refused(_file(tmp_path, _csv_bytes({**GOOD_ROW, column: f'"{value}"'})))
    assert lines == [f"2行目「{column}」: {message}"]


def test_import_accepts_numbers_at_the_bounds_and_full_width_digits(regulation, tmp_path):
    from contracts.services.migration_import import _RowReader

    problems = []
    reader = _RowReader(2, {"数量": "１,０００,０００", "見積額": "2,000,000,000"}, problems)
    assert (reader.integer("数量"), reader.integer("見積額"), problems) == (1_000_000, 2_000_000_000, [])


@pytest.mark.parametrize(
    ("column", "limit"),
    [("契約者コード", 20), ("契約者名", 200), ("フリガナ", 200), ("回線ID", 60), ("オプションコード", 50)],
)
def test_import_refuses_over_long_codes_and_names_by_the_model_field_length(regulation, tmp_path, column, limit):
    header = HEADER if column in HEADER else [*HEADER, column]
    data = _csv_bytes({**GOOD_ROW, column: "あ" * (limit + 1)}, header=header)
    _message, lines = _refused(_file(tmp_path, data))
    assert lines == [f"2行目「{column}」: {limit}文字以内で入力してください（{limit + 1:,}文字あります）。"]


def test_import_refuses_dates_outside_the_declared_bounds(regulation, tmp_path):
    data = _csv_bytes({**GOOD_ROW, "契約成立日": "1988-12-31", "課金開始日": "9999-12-31"})
    _message, lines = _refused(_file(tmp_path, data))
    bounds = "平成元年1月8日 (1989-01-08)から令和81年12月31日 (2099-12-31)までの日付を入力してください。"
    assert lines == [f"2行目「契約成立日」: {bounds}", f"2行目「課金開始日」: {bounds}"]


def test_import_refuses_cr_only_line_endings(regulation, tmp_path):
    _message, lines = _refused(_file(tmp_path, _csv_bytes(GOOD_ROW, newline="\r")))
    assert lines == ["1行目: 改行コードが CR だけの行があります。改行コードを CRLF または LF にして保存してください。"]


def test_import_refuses_a_lone_cr_after_good_lines_naming_its_line(regulation, tmp_path):
    data = _csv_bytes(GOOD_ROW, GOOD_ROW, newline="\r\n") + b"M1,x\rM2,y\r\n"
    _message, lines = _refused(_file(tmp_path, data))
    assert lines[0].startswith("4行目: 改行コードが CR だけの行があります。")


def test_import_accepts_crlf_line_endings(regulation, tmp_path):
    out = io.StringIO()
    call_command("import_contracts", str(_file(tmp_path, _csv_bytes(GOOD_ROW, newline="\r\n"))), stdout=out)
    assert out.getvalue().splitlines()[-1] == "1件を登録しました（登録済みのためスキップ 0件）。"


def test_import_refuses_a_duplicate_column(regulation, tmp_path):
    data = _csv_bytes({**GOOD_ROW}, header=[*HEADER, "数量"])
    _message, lines = _refused(_file(tmp_path, data))
    assert lines == ["1行目「数量」: 同じ列名が5列目にもあります（11列目）。1つにしてください。"]


def test_import_refuses_an_empty_or_invisible_column_name(regulation, tmp_path):
    _message, lines = _refused(_file(tmp_path, _csv_bytes(GOOD_ROW, header=[*HEADER, "", "\ufeff数量"])))
    assert lines == [
        "1行目「11列目」: 見出しが空です。列名を入れるか、空の列を削除してください。",
        "1行目「12列目の見出し」: 入力に使えない文字（見えない文字（BOM・ゼロ幅文字）、U+FEFF）が含まれています。",
    ]


def test_import_refuses_a_cell_beyond_the_csv_field_limit(regulation, tmp_path):
    import csv

    data = _csv_bytes(GOOD_ROW, {**GOOD_ROW, "契約者名": "x" * (csv.field_size_limit() + 1)})
    _message, lines = _refused(_file(tmp_path, data))
    assert lines == ["3行目: 欄が長すぎます（1つの欄は131,072文字まで）。"]


def test_import_refuses_an_empty_file_and_a_header_only_file(regulation, tmp_path):
    for data, expected in (
        (b"", "1行目: 見出し行がありません。"),
        (b"\xef\xbb\xbf", "1行目: 見出し行がありません。"),
        (b"\n\n", "1行目: 見出し行がありません。"),
        (_csv_bytes(), "1行目: 取り込む行がありません。"),
        (_csv_bytes() + b",,,\n", "1行目: 取り込む行がありません。"),
    ):
        _message, lines = _refused(_file(tmp_path, data))
        assert lines == [expected], data


def test_import_refuses_a_directory_a_fifo_and_a_missing_path_as_the_file(regulation, tmp_path):
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # nobody writes to it: reading it would wait for ever
    cases = [
        (tmp_path, f"「{tmp_path}」はフォルダです。CSV ファイルを指定してください。"),
        (fifo, f"「{fifo}」は通常のファイルではありません（FIFO・デバイスなど）。CSV ファイルを指定してください。"),
        (tmp_path / "none.csv", f"ファイル「{tmp_path / 'none.csv'}」が見つかりません。"),
        ("a\x00b.csv", "ファイル名に使えない文字（NUL）が含まれています。"),
    ]
    for path, expected in cases:
        message, lines = _refused(path)
        assert (message, lines) == (expected, [])


def test_import_refuses_a_file_not_in_utf8_naming_its_line(regulation, tmp_path):
    data = _csv_bytes(GOOD_ROW) + "M0902,株式会社シフトジス\n".encode("cp932")
    message, _lines = _refused(_file(tmp_path, data))
    assert message.startswith(f"ファイル「{tmp_path / 'in.csv'}」は UTF-8 ではありません（3行目、")
    for encoding in ("utf-16", "cp932", "euc-jp"):
        message, _lines = _refused(_file(tmp_path, "契約者コード,契約者名\n".encode(encoding)))
        assert "は UTF-8 ではありません（1行目、" in message, encoding


def test_import_cites_a_file_name_with_control_characters_printably_in_the_history(regulation, tmp_path):
    path = _file(tmp_path, _csv_bytes(GOOD_ROW), name="移行\x1b[31m.csv")
    call_command("import_contracts", str(path), stdout=io.StringIO())
    entry = OptionContract.objects.get(subscriber__code="M0901").history.get()
    assert entry.history_change_reason == "移行データの取込（移行?[31m.csv 2行目）"
