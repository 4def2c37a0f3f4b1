from django.core.management.base import BaseCommand

from contracts.demo import load_demo


class Command(BaseCommand):
    help = "デモ用の職員アカウント（役割ごとに1名）と契約者・契約・申込を登録します。再実行しても重複しません。"

    def handle(self, *args, **options):
        for line in load_demo():
            self.stdout.write(line)
