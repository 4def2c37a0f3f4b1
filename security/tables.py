import django_tables2 as tables

from core.tables import StaffTable, WarekiDateTimeColumn

from .models import AuthEvent


class AuthEventTable(StaffTable):
    at = WarekiDateTimeColumn("日時")
    kind = tables.Column("種別")
    username = tables.Column("ユーザー名")
    ip_address = tables.Column("送信元アドレス")
    path = tables.Column("画面")
    target = tables.Column("対象")
    detail = tables.Column("内容")

    class Meta(StaffTable.Meta):
        model = AuthEvent
        fields = ()
        order_by = ("-at",)
