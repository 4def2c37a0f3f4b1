from django.core.management.base import BaseCommand, CommandError

from contracts.management.arguments import user_argument
from contracts.services.report_figures import close_figures_backfill
from core.errors import DomainError
from core.formats import wareki_month
from core.history_write import system_user


class Command(BaseCommand):
    help = (
        "締めた月の集計を記録します（集計を記録する前の締めの分だけ。締めは自分で記録します）。"
        "何度実行しても、記録済みの月には何もしません。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="記録する職員のユーザー名（既定: システムユーザー）")

    def handle(self, *args, user=None, **options):
        actor = system_user() if user is None else user_argument(user)
        try:
            closes = close_figures_backfill(actor=actor)
        except DomainError as error:
            raise CommandError(str(error)) from error
        if not closes:
            self.stdout.write("集計のない締め月はありません。何も記録していません。")
            return
        months = "、".join(wareki_month(close.month) for close in closes)
        self.stdout.write(f"{len(closes)}か月の集計を記録しました: {months}")
