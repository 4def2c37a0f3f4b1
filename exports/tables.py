"""The export log as a staff list (and its CSV, through core.views.TableListMixin)."""

import django_tables2 as tables

from core.tables import StaffTable, WarekiDateTimeColumn

from .models import ExportLog


class ExportLogTable(StaffTable):
    at = WarekiDateTimeColumn("日時", order_by=("at", "pk"))
    user = tables.Column("職員", accessor="user__username", order_by=("user__username", "at", "pk"))
    kind = tables.Column("種類")
    filename = tables.Column("ファイル名")
    params = tables.Column("条件", orderable=False)
    rows = tables.Column("行数", attrs={"td": {"class": "num"}})
    size = tables.Column("バイト数", attrs={"td": {"class": "num"}})
    outcome = tables.Column("結果")
    sha256 = tables.Column("SHA-256", orderable=False, attrs={"td": {"class": "mono"}})
    job = tables.Column("作成依頼", accessor="job_id", orderable=False)

    def render_params(self, value):
        return "、".join(f"{key}={item}" for key, item in value.items()) or "—"

    def value_params(self, value):
        return self.render_params(value)

    class Meta(StaffTable.Meta):
        model = ExportLog
        fields = ()
        sequence = ("at", "user", "kind", "filename", "params", "rows", "size", "outcome", "sha256", "job")
