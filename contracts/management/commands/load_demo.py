from django.core.management.base import BaseCommand, CommandError

from contracts.demo import DemoRefused, load_demo
from core.errors import DomainError


class Command(BaseCommand):
    help = (
        "デモ用の職員アカウント（役割ごとに1名）と契約者・契約・申込を登録します。再実行しても重複しません。"
        "本番環境の設定や、デモが使う料金が施行される前の日付では、何も登録せずに終了します。"
    )

    def handle(self, *args, **options):
        try:
            lines = load_demo()
        except DemoRefused as error:
            raise CommandError(str(error)) from error
        except DomainError as error:
            raise CommandError(
                f"デモデータの登録が途中で止まりました: {error}"
                "（登録済みの契約者はそのまま残ります。原因を直して再実行すると、未登録の契約者だけを登録します。）"
            ) from error
        for line in lines:
            self.stdout.write(line)
