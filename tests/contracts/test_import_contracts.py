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
            "2行目「契約成立日」: Bフレッツ接続オプション機能は平成26年3月1日に廃止されたため、同日以後に成立する"
            "契約はできません。（平成26年3月1日変更 附則第4項により、それ以前の契約は"
            "フレッツ光接続オプション機能として存続します）"
        ]
    assert _counts() == before
