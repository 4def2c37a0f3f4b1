import os
import stat
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from contracts.management.arguments import month_argument
from contracts.reports import export_response_chunks
from contracts.reports.exports import CONTENT_TYPES, PARTS
from core.errors import DomainError
from core.wareki import format_date


class Command(BaseCommand):
    help = (
        "月次レポートをファイルに出力します。例: monthly_report 2026-02 --format xlsx --output 2026-02.xlsx"
        "（年月は 令和8年2月 や R8.2 でも指定できます）"
    )

    # The formats this command writes; accounting's monthly_report (the one manage.py runs) adds the journals.
    formats = sorted(CONTENT_TYPES)

    def export(self, *, month, fmt, part, replacement):
        """(filename, content type, bytes iterator) of the export asked for; a DomainError refuses it."""
        return export_response_chunks(month=month, fmt=fmt, part=part, replacement=replacement)

    def add_arguments(self, parser):
        parser.add_argument("month", help="対象月（例: 2026-02、令和8年2月、R8.2）")
        parser.add_argument("--format", dest="fmt", choices=self.formats, default="csv", help="出力形式（既定: csv）")
        parser.add_argument("--part", choices=sorted(PARTS), help="CSV の内容: detail（明細、既定）/charges/summary")
        parser.add_argument("--replacement", help="cp932 で表せない文字の置き換え（csv-cp932 のみ。例: ?）")
        parser.add_argument("--output", help="出力先ファイル（既定: 推奨ファイル名でカレントディレクトリに作成）")
        parser.add_argument(
            "--progress",
            action="store_true",
            default=None,
            help="進捗を表示する（既定: 端末に出力しているときだけ表示）",
        )

    def handle(self, *args, month, fmt, part, replacement, output, progress, **options):
        first_day = month_argument(month)
        try:
            filename, _content_type, chunks = self.export(month=first_day, fmt=fmt, part=part, replacement=replacement)
        except DomainError as error:
            raise CommandError(str(error)) from error

        target = Path(output or filename)
        mode = _writable_target(target)
        show = sys.stderr.isatty() if progress is None else progress
        written = 0
        # Written to a temporary file beside the target and renamed over it only once complete: a failure half-way
        # leaves no partial file behind and the target as it was.
        try:
            fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:100]}.", suffix=".part")
        except OSError as error:
            raise CommandError(
                f"出力先のフォルダ「{target.parent}」にファイルを作れません（{error.strerror}）。"
            ) from None
        try:
            with (
                os.fdopen(fd, "wb") as out,
                tqdm(
                    desc=target.name, unit="B", unit_scale=True, disable=not show, file=self.stderr, leave=False
                ) as bar,
            ):
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            os.chmod(partial, mode)
            os.replace(partial, target)
        except DomainError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(
                f"「{target}」に書き込めませんでした（{error.strerror}）。出力先は元のままです。"
            ) from None
        finally:
            # A write that failed leaves the export suspended inside its transaction (a server-side cursor):
            # end it now, not whenever the generator is collected.
            getattr(chunks, "close", lambda: None)()
            if os.path.lexists(partial):
                os.unlink(partial)
        label = format_date(first_day, western=False).removesuffix("1日")
        self.stdout.write(
            f"{label}（{first_day:%Y-%m}）の月次レポートを {target} に出力しました（{written:,} バイト）。"
        )


def _writable_target(target: Path) -> int:
    """Refuse a target that is not a new path or a regular file in an existing folder; return the file mode to give
    the report (the replaced file's, else what the umask allows a new file).

    A device (/dev/full), a FIFO, a directory or a symbolic link is never replaced by the report.
    """
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except ValueError:
        raise CommandError("出力先のファイル名に使えない文字（NUL）が含まれています。") from None
    except OSError as error:
        raise CommandError(f"出力先「{target}」を確かめられません（{error.strerror}）。") from None
    if info is None:
        if not target.parent.is_dir():
            raise CommandError(f"出力先のフォルダ「{target.parent}」がありません。先にフォルダを作ってください。")
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
    if stat.S_ISDIR(info.st_mode):
        raise CommandError(f"出力先「{target}」はフォルダです。ファイル名を指定してください。")
    if stat.S_ISLNK(info.st_mode):
        raise CommandError(f"出力先「{target}」はシンボリックリンクです。リンク先のファイル名を指定してください。")
    if not stat.S_ISREG(info.st_mode):
        raise CommandError(
            f"出力先「{target}」は通常のファイルではありません（デバイス・FIFO など）。"
            "新しいファイル名を指定してください。"
        )
    return stat.S_IMODE(info.st_mode)
