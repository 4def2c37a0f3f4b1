from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.db_router import REPLICA
from security.dbroles import DbRoleError, grant_app_role


class Command(BaseCommand):
    help = (
        "アプリ用のデータベースロールに必要な権限だけを付与します。所有者ロールで migrate の後に毎回実行します"
        "（再実行しても同じ結果です）。台帳・月次締め・変更履歴・認証ログには参照と追加だけを許します。"
        "例: db_grant_app_role --role backoffice_app"
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="アプリが接続するロール名（例: backoffice_app）")
        parser.add_argument("--database", default="default", help="対象のデータベース設定名（既定: default）")

    def handle(self, *args, role, database, **options):
        if database == REPLICA:
            raise CommandError(
                "レプリカは読み取り専用です。権限は主データベース（default）で付与してください（レプリカへは複製されます）。"
            )
        if database not in settings.DATABASES:
            known = "、".join(alias for alias in settings.DATABASES if alias != REPLICA)
            raise CommandError(f"データベース設定「{database[:40]}」はありません（設定済み: {known}）。")
        # PostgreSQL names are at most 63 bytes and never hold NUL: anything else is no role of the server.
        if not role or "\x00" in role or len(role.encode()) > 63:
            raise CommandError("ロール名は1〜63バイトで、NUL を含まない名前を指定してください。")
        try:
            result = grant_app_role(role=role, using=database)
        except DbRoleError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"ロール「{result.role}」に権限を付与しました（テーブル {result.tables} 個のうち、"
            f"追記のみ {len(result.append_only)} 個は参照と追加だけ）。"
        )
