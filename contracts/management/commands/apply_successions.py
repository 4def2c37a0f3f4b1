from django.core.management.base import BaseCommand, CommandError

from contracts.services.successions import successions_apply
from core.errors import DomainError
from core.history_write import system_user


class Command(BaseCommand):
    help = (
        "経過措置（平成26年3月1日変更 附則第2項〜第4項）を適用し、廃止されたオプションの契約を承継先のオプションへ"
        "移します。新たな申込・初期費用は発生しません。再実行しても何も変わりません。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="移す対象を表示するだけで、何も書き込みません。")

    def handle(self, *args, dry_run=False, **options):
        try:
            moves = successions_apply(actor=system_user(), dry_run=dry_run)
        except DomainError as error:
            raise CommandError(str(error)) from error
        if not moves:
            self.stdout.write("承継の対象となる契約はありません。")
            return
        label = "移す予定（ドライラン）" if dry_run else "移しました"
        for move in moves:
            self.stdout.write(f"{label}: {move}")
        if dry_run:
            self.stdout.write(f"{len(moves)}件が対象です。ドライランのため何も書き込んでいません。")
        else:
            self.stdout.write(f"{len(moves)}件を承継先のオプションへ移しました。")
