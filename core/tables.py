"""The base of every staff list: a paginator without COUNT, an ordering ending with the pk, 和暦 and yen columns."""

import django_tables2 as tables
from django.core.paginator import EmptyPage
from django.db.models import QuerySet

from core.formats import wareki, wareki_datetime, wareki_month, yen
from core.limits import PAGE_MAX


class BoundedLazyPaginator(tables.LazyPaginator):
    """LazyPaginator (no COUNT) that treats a page number past PAGE_MAX as invalid, not as a database overflow."""

    def validate_number(self, number):
        number = super().validate_number(number)
        if number > PAGE_MAX:
            raise EmptyPage("ページ番号が大きすぎます。")
        return number


PAGINATION = {"paginator_class": BoundedLazyPaginator, "per_page": 50}


class StaffTable(tables.Table):
    """Base of every list: Japanese pagination, and an ordering that always ends with the pk.

    Without the pk, rows sharing a sort value may swap places between pages (django-tables2 #361).
    """

    class Meta:
        template_name = "tables/table.html"
        attrs = {"class": "table"}
        empty_text = "該当するデータはありません。"
        default = "—"

    @property
    def order_by(self):
        return self._order_by

    @order_by.setter
    def order_by(self, value):
        tables.Table.order_by.fset(self, value)
        data = getattr(self.data, "data", None)
        if isinstance(data, QuerySet):
            ordering = list(data.query.order_by) or list(data.model._meta.ordering)
            if not ordering or ordering[-1] not in ("pk", "-pk", "id", "-id"):
                self.data.data = data.order_by(*ordering, "pk")


class WarekiDateColumn(tables.Column):
    """A date in 和暦 with the Western date beside it."""

    def render(self, value):
        return wareki(value)


class WarekiDateTimeColumn(tables.Column):
    def render(self, value):
        return wareki_datetime(value)


class WarekiMonthColumn(tables.Column):
    """A month (stored as its first day) in 和暦 with the Western month beside it."""

    def render(self, value):
        return wareki_month(value)


class YenColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return yen(value)
