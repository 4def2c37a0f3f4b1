"""The base of every staff list: a paginator without COUNT, an ordering ending with the pk, 和暦 and yen columns,
how many rows match (a capped count), and the list's rows as CSV (the report's Excel-safe cells)."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import django_tables2 as tables
from django.core.paginator import EmptyPage
from django.db.models import Count, QuerySet
from django.urls import get_script_prefix, reverse
from django.utils.encoding import force_str
from django_tables2.rows import BoundRow

from core.cells import csv_text
from core.clock import jst_wall_time
from core.downloads import count_rows
from core.formats import wareki, wareki_datetime, wareki_month, yen
from core.limits import PAGE_MAX

# A list counts at most this many matching rows: a COUNT(*) of 5,000,000 ledger rows takes a quarter of a second,
# and nobody pages past the first thousands; past it the list says 「10,000件以上」 and staff narrow it.
COUNT_CAP = 10_000
EXPORT_BATCH_ROWS = 2000


@dataclass(frozen=True)
class Matches:
    """How many rows a list matches (`count` stops at `cap` + 1), and its totals while the count is exact."""

    count: int
    cap: int = COUNT_CAP
    totals: dict = field(default_factory=dict)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def label(self) -> str:
        return f"{self.cap:,}件以上" if self.capped else f"{self.count:,}件"


def capped_count(queryset: QuerySet, *, cap: int = COUNT_CAP) -> int:
    """Count the rows of `queryset`, stopping at `cap` + 1: one bounded query however big the table."""
    return queryset.select_related(None).order_by()[: cap + 1].count()


def count_matches(data, *, cap: int = COUNT_CAP, **totals) -> Matches:
    """Return how many rows `data` holds, capped (`capped_count`), and `totals` (aggregates, e.g. a Sum) over the
    same rows in the same bounded query; past the cap the totals would be of an arbitrary subset, so none."""
    if not isinstance(data, QuerySet):
        return Matches(count=len(data), cap=max(cap, len(data)))
    if not totals:
        return Matches(count=capped_count(data, cap=cap), cap=cap)
    bounded = data.select_related(None).order_by()[: cap + 1]
    # COUNT(*), so the inner query selects only what the totals read: an index holding them answers alone.
    result = bounded.aggregate(matched_rows=Count("*"), **totals)
    count = result.pop("matched_rows")
    return Matches(count=count, cap=cap, totals={} if count > cap else result)


# A list matching at most this many rows reads its page among them by id (few_rows_by_id).
FEW_ROWS = 500


def few_rows_by_id(queryset, matches: Matches):
    """The list's rows, read by id when the (exact) count says there are few: none at all when nothing matches.

    A list's page is its ordering's index walked until a page is filled (the ledger: `ledger_booked_idx`); when a
    filter no index of that ordering holds matches few rows (a 取引金額 range), the walk goes through the whole
    table to find them: 1.7 s at 5M ledger rows, 4–12 s at 20M for a range that matches nothing
    (bench/ledger_bench.py). The capped count has just read them through the filter's own index, so the ids are one
    more bounded read of the same index, and the page is those rows sorted.
    """
    if not isinstance(queryset, QuerySet) or matches.capped or matches.count > FEW_ROWS:
        return queryset
    query = queryset.query
    if query.distinct_fields or query.group_by or query.combinator:
        return queryset  # DISTINCT ON, an aggregate or a UNION: its ids are not one read of an index
    if matches.count == 0:
        return queryset.none()
    ids = list(queryset.select_related(None).order_by().values_list("pk", flat=True)[: FEW_ROWS + 1])
    if len(ids) > FEW_ROWS:  # rows were added since the count: the page reads as it always did
        return queryset
    return queryset.filter(pk__in=ids)


class BoundedLazyPaginator(tables.LazyPaginator):
    """LazyPaginator (no COUNT) that treats a page number past PAGE_MAX as invalid, not as a database overflow."""

    def validate_number(self, number):
        number = super().validate_number(number)
        if number > PAGE_MAX:
            raise EmptyPage("ページ番号が大きすぎます。")
        return number


PAGINATION = {"paginator_class": BoundedLazyPaginator, "per_page": 50}


def detail_link(viewname: str, accessor: str = "pk"):
    """A column's `linkify` to the detail page `viewname` of the integer id the record holds at `accessor`.

    django-tables2's `linkify=(viewname, [A(...)])` calls `reverse()` for every cell: three links a row were a third
    of the ledger list's rendering (bench/pages.py). The URL differs between rows only by the id, so it is reversed
    once (per script prefix) with a marker and the id put in its place; the same href as `reverse()` gives. A plain
    function, so django-tables2's signature() of it is cached (install_signature_cache).
    """
    path = tables.A(accessor)
    templates: dict[str, tuple[str, str]] = {}

    def link(record) -> str | None:
        value = path.resolve(record)  # None when a relation on the way is empty
        if value is None:
            return None  # no link, as django-tables2 leaves a cell whose href is None
        prefix = get_script_prefix()
        template = templates.get(prefix)
        if template is None:
            head, _, tail = reverse(viewname, args=[_LINK_MARKER]).partition(str(_LINK_MARKER))
            template = templates[prefix] = (head, tail)
        return f"{template[0]}{int(value)}{template[1]}"

    return link


_LINK_MARKER = 987654321987


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


# In a CSV a cell is what the monthly report writes (docs/monthly_report.md): dates as YYYY-MM-DD, times in JST
# as YYYY-MM-DD HH:MM:SS, amounts as whole numbers, so a spreadsheet sorts and sums them.


class WarekiDateColumn(tables.Column):
    """A date in 和暦 with the Western date beside it."""

    def render(self, value):
        return wareki(value)

    def value(self, value):
        return value.isoformat()


class WarekiDateTimeColumn(tables.Column):
    def render(self, value):
        return wareki_datetime(value)

    def value(self, value):
        return jst_wall_time(value).strftime("%Y-%m-%d %H:%M:%S")


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

    def value(self, value):
        return value


class YesNoColumn(tables.BooleanColumn):
    """A yes/no shown and exported as its two words (`yesno="有効,無効"`), not as a mark or True/False."""

    def value(self, record, value, bound_column):
        return self.yesno[0] if self._get_bool_value(record, value, bound_column) else self.yesno[1]


def csv_field(value) -> str:
    """One CSV field from a cell's export value: numbers as they are, text neutralised (core.cells)."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return csv_text(force_str(value))


def table_csv_lines(table: tables.Table) -> Iterator[str]:
    """Yield the CSV text of every row of `table` (its filters and ordering; no page), in batches, the header first.

    The columns are the table's own (`exclude_from_export` leaves one out, an invisible one is exported); each cell
    is the column's export value (`value_<name>` on the table, or the column's `value`). A queryset is read in
    chunks (a server-side cursor inside a transaction on PostgreSQL), so memory stays flat at any size.
    """
    columns = [c for c in table.columns.iterall() if not c.column.exclude_from_export]
    yield ",".join(csv_text(force_str(c.header)) for c in columns) + "\n"
    data = table.data.data
    records = data.iterator(chunk_size=EXPORT_BATCH_ROWS) if isinstance(data, QuerySet) else iter(data)
    batch = []
    for record in records:
        row = BoundRow(record, table=table)
        batch.append(",".join(csv_field(row.get_cell_value(c.name)) for c in columns) + "\n")
        if len(batch) >= EXPORT_BATCH_ROWS:
            count_rows(len(batch))
            yield "".join(batch)
            batch = []
    if batch:
        count_rows(len(batch))
        yield "".join(batch)


def install_signature_cache() -> None:
    """Cache django-tables2's `signature()` per function (called from CoreConfig.ready).

    django-tables2 3.0.1 calls `inspect.signature` on a column's `render`/`value` for every cell it renders (in
    `call_with_appropriate`): on a list of 50 rows × 9 columns that was a third of the page's rendering
    (bench/pages.py). A function's parameters do not change, so the answer is kept per function (for a bound
    method, per its function: binding only drops `self`, the same for every instance). Other callables (objects
    with `__call__`, partials) are asked every time, as before.
    """
    import functools
    import types

    from django_tables2 import utils

    original = getattr(utils.signature, "__wrapped__", utils.signature)

    @functools.lru_cache(maxsize=2048)
    def cached(function, bound: bool):
        if bound:
            return original(types.MethodType(function, object()))
        return original(function)

    @functools.wraps(original)
    def signature(fn):
        if isinstance(fn, types.MethodType) and isinstance(fn.__func__, types.FunctionType):
            return cached(fn.__func__, True)
        if isinstance(fn, types.FunctionType):
            return cached(fn, False)
        return original(fn)

    utils.signature = signature
