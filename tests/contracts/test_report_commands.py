"""`monthly_report` and `close_month`: the report and the close from a terminal or a batch job."""

import datetime as dt
import errno
import io
import os
import stat
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, MonthClose
from tests.factories import contract_billed_from, february_report_book, jst

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"


def _all_rows() -> dict[str, int]:
    """Rows of every model, history tables and the ledger included."""
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()}


def _run(*args, **kwargs) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def golden(regulation, clerk, approver, approver2, tariff_manager):
    return february_report_book(clerk=clerk, approver=approver, approver2=approver2, tariff_manager=tariff_manager)


@pytest.mark.parametrize("month", ["2026-02", "令和8年2月", "R8.2", "２０２６年２月"])
def test_monthly_report_writes_the_golden_csv_for_a_month_given_in_any_form(golden, tmp_path, month):
    target = tmp_path / "report.csv"

    out, _err = _run("monthly_report", month, "--output", str(target))

    assert target.read_bytes() == (GOLDEN / "2026-02-detail.csv").read_bytes()
    assert out == f"令和8年2月 (2026-02)の月次レポートを {target} に出力しました（2,764 バイト）。\n"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(
    ("args", "golden_file"),
    [
        (["--format", "csv-cp932"], "2026-02-detail-cp932.csv"),
        (["--part", "charges"], "2026-02-charges.csv"),
        (["--format", "csv-cp932", "--part", "summary"], "2026-02-summary-cp932.csv"),
    ],
)
def test_monthly_report_writes_each_format_and_part(golden, tmp_path, args, golden_file):
    target = tmp_path / "out.csv"

    _run("monthly_report", "2026-02", *args, "--output", str(target))

    assert target.read_bytes() == (GOLDEN / golden_file).read_bytes()


def test_monthly_report_writes_xlsx_under_its_suggested_name_by_default(golden, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    _run("monthly_report", "2026-02", "--format", "xlsx")

    book = openpyxl.load_workbook(tmp_path / "monthly-report-2026-02-provisional.xlsx")
    assert book.sheetnames == ["明細", "月額", "集計"]


def test_monthly_report_shows_progress_when_asked(golden, tmp_path):
    _out, err = _run("monthly_report", "2026-02", "--output", str(tmp_path / "r.csv"), "--progress")

    assert "r.csv" in err and "B/s" in err


def test_a_cp932_refusal_is_a_command_error_in_japanese_and_writes_no_file(regulation, approver, tmp_path):
    contract_billed_from(dt.date(2026, 2, 1), code="C000123", name="𠮷野家フーズ", approver=approver)
    target = tmp_path / "r.csv"

    with pytest.raises(CommandError) as caught:
        _run("monthly_report", "2026-02", "--format", "csv-cp932", "--output", str(target))

    assert str(caught.value).startswith("契約者 C000123 の名称に cp932 で表せない文字「𠮷」(U+20BB7) があります。")
    assert caught.value.returncode == 1
    assert list(tmp_path.iterdir()) == []

    _run("monthly_report", "2026-02", "--format", "csv-cp932", "--replacement", "?", "--output", str(target))
    assert "?野家フーズ" in target.read_bytes().decode("cp932")


def test_a_failure_half_way_leaves_no_file(golden, tmp_path, monkeypatch):
    from contracts.reports import exports

    def broken(*args, **kwargs):
        yield b"\xef\xbb\xbf"
        raise exports.DomainError("途中で失敗しました。")

    monkeypatch.setattr(exports, "_csv", broken)

    with pytest.raises(CommandError, match="途中で失敗しました。"):
        _run("monthly_report", "2026-02", "--output", str(tmp_path / "r.csv"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2026-13"], "存在しない月です（2026-13）。"),
        (["二月"], "年月の形式が正しくありません。例: 令和8年2月、R8.2、2026-02"),
        (["2026-02", "--format", "xlsx", "--part", "detail"], "XLSX は明細・月額・集計の3シートをまとめて出力します"),
    ],
)
def test_monthly_report_refuses_bad_input_in_japanese(regulation, tmp_path, args, message):
    with pytest.raises(CommandError) as caught:
        _run("monthly_report", *args, "--output", str(tmp_path / "r"))
    assert str(caught.value).startswith(message)
    assert list(tmp_path.iterdir()) == []


def test_close_month_closes_as_the_system_user_and_a_second_run_is_refused_writing_nothing(regulation, approver):
    contract_billed_from(dt.date(2026, 2, 15), code="C000001", approver=approver)

    with time_machine.travel(jst(2026, 3, 2, 9, 0), tick=False):
        out, _err = _run("close_month", "令和8年2月")
        before = _all_rows()
        with pytest.raises(CommandError) as again:
            _run("close_month", "2026-02")

    assert out == (
        "令和8年2月 (2026-02)を締めました（月額料金 1 行、調整 0 行）"
        "（締め日時 令和8年3月2日 (2026-03-02) 09:00、締め実行者 system）。\n"
    )
    assert str(again.value) == (
        "令和8年2月 (2026-02)は締め済みです（締め日時 令和8年3月2日 (2026-03-02) 09:00、締め実行者 system）。"
        "何も記帳していません。"
    )
    assert again.value.returncode == 1
    assert _all_rows() == before
    assert list(LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE).values_list("amount_yen", flat=True)) == [
        1500
    ]
    assert MonthClose.objects.get().closed_by.username == "system"


def test_close_month_as_a_named_user(regulation, accounting):
    with time_machine.travel(jst(2026, 3, 2, 9, 0), tick=False):
        _run("close_month", "2026-02", "--user", "accounting")

    assert MonthClose.objects.get().closed_by == accounting


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2026-03"], "令和8年3月 (2026-03)はまだ終わっていないため締められません（締めは翌月1日以降に行います）。"),
        (["2026-02", "--user", "nobody"], "ユーザー名「nobody」の職員が見つかりません。"),
        (["2026-02", "--user", "clerk"], "月次締めの権限がありません。"),
        (["R8.13"], "存在しない月です（令和8年13月）。"),
    ],
)
def test_close_month_refusals_are_command_errors_in_japanese_and_write_nothing(regulation, clerk, args, message):
    with time_machine.travel(jst(2026, 3, 2, 9, 0), tick=False), pytest.raises(CommandError) as caught:
        _run("close_month", *args)

    assert str(caught.value) == message
    assert caught.value.returncode == 1
    assert not MonthClose.objects.exists()


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("9999-12", "平成元年1月8日 (1989-01-08)から令和81年12月31日 (2099-12-31)までの日付を入力してください。"),
        ("2100-01", "平成元年1月8日 (1989-01-08)から令和81年12月31日 (2099-12-31)までの日付を入力してください。"),
        ("1900-01", "平成元年1月8日 (1989-01-08)から令和81年12月31日 (2099-12-31)までの日付を入力してください。"),
        ("0001-01", "0001-01は対応している最も古い月（明治6年1月）より前です。"),
        ("2026-13", "存在しない月です（2026-13）。"),
        ("2026-00", "存在しない月です（2026-00）。"),
        ("garbage", "年月の形式が正しくありません。例: 令和8年2月、R8.2、2026-02"),
        ("2026\x00-02", "年月の形式が正しくありません。例: 令和8年2月、R8.2、2026-02"),
        ("9" * 10_000, "年月の形式が正しくありません。例: 令和8年2月、R8.2、2026-02"),
        ("", "年月を入力してください。"),
    ],
)
@pytest.mark.parametrize("command", ["close_month", "monthly_report"])
def test_every_command_taking_a_month_refuses_one_out_of_bounds_or_malformed(
    regulation, tmp_path, monkeypatch, command, month, message
):
    monkeypatch.chdir(tmp_path)
    before = _all_rows()
    with time_machine.travel(jst(2026, 3, 2, 9, 0), tick=False), pytest.raises(CommandError) as caught:
        _run(command, month)
    assert (str(caught.value), caught.value.returncode) == (message, 1)
    assert _all_rows() == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("no\x00body", "ユーザー名に使えない文字（NUL）が含まれています。"),
        ("x" * 151, "ユーザー名が長すぎます（150文字まで）。"),
    ],
)
def test_close_month_refuses_a_user_name_no_account_can_have(regulation, user, message):
    with time_machine.travel(jst(2026, 3, 2, 9, 0), tick=False), pytest.raises(CommandError) as caught:
        _run("close_month", "2026-02", "--user", user)
    assert str(caught.value) == message
    assert not MonthClose.objects.exists()


def test_monthly_report_refuses_an_output_in_a_missing_folder(regulation, tmp_path):
    target = tmp_path / "missing" / "r.csv"
    with pytest.raises(CommandError) as caught:
        _run("monthly_report", "2026-02", "--output", str(target))
    assert str(caught.value) == f"出力先のフォルダ「{target.parent}」がありません。先にフォルダを作ってください。"
    assert list(tmp_path.iterdir()) == []


def test_monthly_report_refuses_a_target_that_is_not_a_regular_file(regulation, tmp_path):
    """Never a device: the audit's --output /dev/full replaced the device. A FIFO stands in for one here (the
    tests run as root; no test points at /dev)."""
    fifo, folder, link = tmp_path / "pipe", tmp_path / "folder", tmp_path / "link.csv"
    os.mkfifo(fifo)
    folder.mkdir()
    (tmp_path / "real.csv").write_bytes(b"old")
    link.symlink_to(tmp_path / "real.csv")
    for target, message in (
        (
            fifo,
            f"出力先「{fifo}」は通常のファイルではありません（デバイス・FIFO など）。"
            "新しいファイル名を指定してください。",
        ),
        (folder, f"出力先「{folder}」はフォルダです。ファイル名を指定してください。"),
        (link, f"出力先「{link}」はシンボリックリンクです。リンク先のファイル名を指定してください。"),
        ("r\x00.csv", "出力先のファイル名に使えない文字（NUL）が含まれています。"),
    ):
        with pytest.raises(CommandError) as caught:
            _run("monthly_report", "2026-02", "--output", str(target))
        assert (str(caught.value), caught.value.returncode) == (message, 1)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and folder.is_dir() and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "link.csv", "pipe", "real.csv"]
    assert (tmp_path / "real.csv").read_bytes() == b"old"


class _FullDisk(io.RawIOBase):
    """A file whose disk fills after the first `room` bytes, as /dev/full or a full file system would."""

    def __init__(self, real, room: int):
        self.real, self.room = real, room

    def write(self, data):
        if self.room < len(data):
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.real.write(data)

    def fileno(self):
        return self.real.fileno()

    def close(self):
        self.real.close()
        super().close()


def test_monthly_report_a_failed_write_leaves_no_partial_file_and_the_old_target_as_it_was(
    golden, tmp_path, monkeypatch
):
    target = tmp_path / "r.csv"
    target.write_bytes(b"last month's report")
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: _FullDisk(real_fdopen(fd, mode), room=100))

    with pytest.raises(CommandError) as caught:
        _run("monthly_report", "2026-02", "--output", str(target))

    assert str(caught.value) == f"「{target}」に書き込めませんでした（No space left on device）。出力先は元のままです。"
    assert list(tmp_path.iterdir()) == [target]
    assert target.read_bytes() == b"last month's report"


def test_monthly_report_replaces_an_existing_report_keeping_its_file_mode(golden, tmp_path):
    target = tmp_path / "r.csv"
    target.write_bytes(b"old")
    target.chmod(0o640)

    _run("monthly_report", "2026-02", "--output", str(target))

    assert target.read_bytes() == (GOLDEN / "2026-02-detail.csv").read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert list(tmp_path.iterdir()) == [target]


def test_close_month_preview_writes_nothing_and_a_close_on_a_stale_fingerprint_is_refused(regulation, approver):
    contract_billed_from(dt.date(2026, 2, 15), code="C000001", approver=approver)

    with time_machine.travel(jst(2026, 3, 2, 9, 0), tick=False):
        before = _all_rows()
        out, _err = _run("close_month", "2026-02", "--preview")
        assert _all_rows() == before
        assert "令和8年2月 (2026-02)の仮締め（何も記帳していません）: 1行" in out
        assert "月額料金（月次）・税率10%: 1件 1,500円" in out
        fingerprint = out.rsplit("フィンガープリント: ", 1)[1].strip()
        with pytest.raises(CommandError, match="64桁の16進数"):
            _run("close_month", "2026-02", "--fingerprint", "xyz")
        with pytest.raises(CommandError) as stale:
            _run("close_month", "2026-02", "--fingerprint", "0" * 64)
        assert "締めませんでした（何も記帳していません）" in str(stale.value) and stale.value.returncode == 1
        assert _all_rows() == before
        _out, err = _run("close_month", "2026-02", "--fingerprint", fingerprint, "--progress")

    assert MonthClose.objects.get().fingerprint == fingerprint
    assert "令和8年2月 (2026-02)の締め" in err  # the progress bar, on stderr
