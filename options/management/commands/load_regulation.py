from django.core.management.base import BaseCommand

from core.history_write import system_user
from options.services import regulation_load


class Command(BaseCommand):
    help = "個別規程 有料オプション（令和8年2月1日現在）をカタログに読み込みます。再実行しても何も変わりません。"

    def handle(self, *args, **options):
        result = regulation_load(actor=system_user())
        if not result.changed:
            self.stdout.write("規程は読込済みです。変更はありません。")
            return
        for label, bucket in (("作成", result.created), ("更新", result.updated)):
            for name, count in bucket.items():
                self.stdout.write(f"{label}: {name} {count}件")
