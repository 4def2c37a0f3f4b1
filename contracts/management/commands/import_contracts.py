import os
import stat
import unicodedata
from argparse import RawDescriptionHelpFormatter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contracts.services.migration_import import COLUMNS, option_contracts_import
from core.errors import DomainError
from core.history_write import system_user

# The whole file is read and checked in memory before anything is written; beyond this it is a mistake (or
# should be split into several imports).
MAX_FILE_BYTES = 64 * 1024 * 1024


def _read_file(file: str) -> bytes:
    """Return the bytes of `file`, refusing in Japanese anything that is not a readable regular file.

    Opened without blocking and checked on the open descriptor, so a FIFO or a device never hangs the command
    and a path swapped after a check cannot slip through.
    """
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise CommandError(f"ファイル「{file}」が見つかりません。") from None
    except PermissionError:
        raise CommandError(f"ファイル「{file}」を読み取る権限がありません。") from None
    except ValueError:
        raise CommandError("ファイル名に使えない文字（NUL）が含まれています。") from None
    except OSError as error:
        raise CommandError(f"ファイル「{file}」を開けません（{error.strerror}）。") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise CommandError(f"「{file}」はフォルダです。CSV ファイルを指定してください。")
        if not stat.S_ISREG(mode):
            raise CommandError(
                f"「{file}」は通常のファイルではありません（FIFO・デバイスなど）。CSV ファイルを指定してください。"
            )
    except CommandError:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise CommandError(f"ファイル「{file}」を読み取れません（{error.strerror}）。") from None
    if len(data) > MAX_FILE_BYTES:
        raise CommandError(
            f"ファイル「{file}」が大きすぎます（上限 {MAX_FILE_BYTES // (1024 * 1024)}MB）。分けて取り込んでください。"
        )
    return data


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CommandError(
            f"ファイル「{file}」は UTF-8 ではありません（{line}行目、{error.start + 1}バイト目）。"
            "UTF-8 で保存してください。"
        ) from None


def _source_name(path: Path) -> str:
    """The file's name as the history's reason cites it: printable and short, whatever the file is called."""
    name = "".join("?" if unicodedata.category(c).startswith("C") else c for c in path.name)
    return name if len(name) <= 80 else name[:79] + "…"


def _columns_help() -> str:
    return "\n".join(f"  {name}{'（必須）' if required else ''}: {what}" for name, required, what in COLUMNS)


class Command(BaseCommand):
    help = (
        "システム導入前の契約を移行データとして CSV から登録します（承諾の流れを経ず、支払義務も作りません）。\n"
        "すべての行を登録するか、1行でもエラーがあれば何も登録しません（エラーは行番号と列名で表示、終了コード1）。\n"
        "文字コードは UTF-8（BOM 付き・なしどちらも可）、1行目は見出し行。日付は和暦・西暦どちらでも入力できます。\n"
        f"列:\n{_columns_help()}\n詳しくは docs/import_contracts.md。"
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Keep the line breaks of the column list.
        return super().create_parser(prog_name, subcommand, formatter_class=RawDescriptionHelpFormatter, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV ファイルのパス")
        parser.add_argument("--dry-run", action="store_true", help="検査と登録内容の表示だけ行い、何も書き込みません。")

    def handle(self, *args, file, dry_run=False, **options):
        path = Path(file)
        text = _decode(_read_file(file), file)
        try:
            report = option_contracts_import(text=text, actor=system_user(), dry_run=dry_run, source=_source_name(path))
        except DomainError as error:
            raise CommandError(str(error)) from error
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(report.problems)}件のエラーがあるため、何も登録しませんでした。")
        for row in report.rows:
            self.stdout.write(str(row))
        registered = report.registered
        skipped = len(report.rows) - registered
        if dry_run:
            self.stdout.write(f"ドライラン: {registered}件を登録できます（登録済み {skipped}件）。書き込んでいません。")
        else:
            if registered:
                self.stdout.write(
                    "登録したオプション契約は確認待ちです。職員が画面（ホームの「移行データの確認待ち」）で"
                    "元の記録と照合して確認すると、契約条件が適用され課金の対象になります。"
                )
            self.stdout.write(f"{registered}件を登録しました（登録済みのためスキップ {skipped}件）。")
