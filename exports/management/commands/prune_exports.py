"""Delete the files of export jobs older than EXPORT_FILE_DAYS (the jobs and the export log stay)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from core.history_write import system_user
from exports.services import export_files_prune

MAX_DAYS = 36_500  # a century: beyond it a date cannot be reached (and timedelta overflows)


class Command(BaseCommand):
    help = "保存期間（EXPORT_FILE_DAYS、既定7日）を過ぎた作成依頼のファイルを削除します（依頼と出力記録は残ります）。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="これより古いファイルを削除する（日数）")

    def handle(self, *args, days=None, **options):
        if days is not None and not 0 <= days <= MAX_DAYS:
            raise CommandError(f"--days には0から{MAX_DAYS}までの日数を指定してください。")
        older_than = dt.timedelta(days=days) if days is not None else None
        try:
            count = export_files_prune(actor=system_user(), older_than=older_than)
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{count}件のファイルを削除しました。")
