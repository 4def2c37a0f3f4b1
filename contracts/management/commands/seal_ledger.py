from django.core.management.base import BaseCommand, CommandError

from contracts.services.seals import month_seals_backfill
from core.errors import DomainError
from core.formats import wareki_month
from core.history_write import system_user


class Command(BaseCommand):
    help = (
        "台帳の封印: 封印の導入前に締めた月を、月の順に、いまの台帳のまま封印します（締め後の封印と記録）。"
        "封印済みの月には何もしません（何度実行しても同じ）。以後の締めは締めのときに封印します。"
    )

    def handle(self, *args, **options):
        try:
            seals = month_seals_backfill(actor=system_user())
        except DomainError as error:
            raise CommandError(str(error)) from error
        if not seals:
            self.stdout.write("封印のない締めはありません。何も書き込んでいません。")
            return
        for seal in seals:
            self.stdout.write(
                f"{wareki_month(seal.close.month)}を封印しました（{seal.row_count:,}行、封印 {seal.seal_hash}、"
                "封印した時点の台帳のまま）。"
            )
