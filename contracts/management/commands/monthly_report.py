import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contracts.management.arguments import month_argument
from contracts.management.output import write_file_atomically
from contracts.reports import export_response_chunks
from contracts.reports.exports import CONTENT_TYPES, PARTS
from core.errors import DomainError
from core.formats import wareki_month


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
        show = sys.stderr.isatty() if progress is None else progress
        written = write_file_atomically(target, chunks, progress=self.stderr if show else None)
        self.stdout.write(f"{wareki_month(first_day)}の月次レポートを {target} に出力しました（{written:,} バイト）。")
