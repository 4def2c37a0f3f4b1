"""The staff lists' rows written in Python (core/templatetags/staff_tables.py) are django-tables2's own rows, and
the cached `signature()` (core.tables.install_signature_cache) answers what the library's own answers."""

import datetime as dt
import re
from decimal import Decimal

import django_tables2 as tables
import pytest
from django.template import Context, Template
from django_tables2 import utils

from core.tables import StaffTable, WarekiDateColumn, YenColumn

LIBRARY_ROWS = Template(
    "{% load l10n %}{% for row in table.paginated_rows %}<tr {{ row.attrs.as_html }}>"
    "{% for column, cell in row.items %}"
    '<td {{ column.attrs.td.as_html }} data-label="{{ column.header }}">{% if column.localize == None %}{{ cell }}'
    "{% else %}{% if column.localize %}{{ cell|localize }}{% else %}{{ cell|unlocalize }}{% endif %}{% endif %}</td>"
    "{% endfor %}</tr>{% endfor %}"
)
STAFF_ROWS = Template(
    "{% load staff_tables %}{% for row in table.paginated_rows %}{% staff_table_row table row %}{% endfor %}"
)


def _normalised(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


class _Mixed(StaffTable):
    """Every kind of cell the lists use: plain, escaped, linked, a render method, callable and static td attrs,
    localized and unlocalized numbers, an empty value (the default), yen and 和暦."""

    code = tables.Column("コード", linkify=lambda record: f"/subscribers/{record['id']}/")
    name = tables.Column("名前 <b>")
    amount = YenColumn("金額", attrs={"td": {"class": lambda record: "negative" if record["amount"] < 0 else "num"}})
    plain = tables.Column("数", attrs={"td": {"class": "num", "title": "件数"}}, localize=True)
    raw = tables.Column("番号", localize=False)
    on = WarekiDateColumn("日付")
    missing = tables.Column("空")
    shouted = tables.Column("大文字", accessor="name")

    class Meta(StaffTable.Meta):
        row_attrs = {"class": lambda record: "reversal" if record["amount"] < 0 else ""}

    def render_shouted(self, value, record):
        return f"{value.upper()}#{record['id']}"


ROWS = [
    {
        "id": 1,
        "code": "S0001",
        "name": "山田 <商事>",
        "amount": 1200,
        "plain": 12345,
        "raw": 98765,
        "on": dt.date(2026, 2, 1),
        "missing": None,
    },
    {
        "id": 2,
        "code": "S0002",
        "name": "o'neil & co",
        "amount": -300,
        "plain": Decimal("1234.5"),
        "raw": 5,
        "on": dt.date(2019, 5, 1),
        "missing": "",
    },
]


def test_staff_table_row_writes_the_librarys_row():
    library = LIBRARY_ROWS.render(Context({"table": _Mixed(ROWS)}))
    staff = STAFF_ROWS.render(Context({"table": _Mixed(ROWS)}))
    assert _normalised(staff) == _normalised(library)
    assert 'class="negative"' in staff and 'class="reversal odd"' in staff  # the callables did run per row
    assert "山田 &lt;商事&gt;" in staff and 'data-label="名前 &lt;b&gt;"' in staff
    assert "S0001" in staff and 'href="/subscribers/1/"' in staff


@pytest.mark.django_db
def test_staff_lists_render_their_rows_through_the_tag(admin_client, monkeypatch):
    """The template every list uses writes its rows with the tag (one row per record, each cell labelled)."""
    from core.templatetags import staff_tables
    from tests.factories import SubscriberFactory

    rows = []
    original = staff_tables._plan
    monkeypatch.setattr(staff_tables, "_plan", lambda table: rows.append(table) or original(table))
    SubscriberFactory.create_batch(3)
    html = admin_client.get("/subscribers/").content.decode()
    assert html.count('data-label="契約者コード"') == 3
    assert len(rows) == 3  # each of the three rows was written by the tag


def test_signature_cache_is_installed_and_answers_as_the_library(monkeypatch):
    import functools
    import inspect

    from core.tables import detail_link, install_signature_cache

    install_signature_cache()  # twice: wraps the library's function, not its own wrapper
    original = utils.signature.__wrapped__
    assert utils.signature is not original

    asked = []
    real = inspect.signature
    monkeypatch.setattr(inspect, "signature", lambda fn, **kw: asked.append(fn) or real(fn, **kw))
    link = detail_link("contracts:subscriber_detail")
    assert utils.signature(link) == utils.signature(link) == (("record",), None)
    assert len(asked) == 1  # the second answer came from the cache
    monkeypatch.setattr(inspect, "signature", real)

    class Methods:
        @staticmethod
        def static(value):
            return value

        @classmethod
        def klass(cls, value, record):
            return value

    def function(value, record=None, **kwargs):
        return value

    class Callable:
        def __call__(self, value, table):
            return value

    column = _Mixed.base_columns["shouted"]
    table = _Mixed(ROWS)
    for fn in (
        function,
        lambda record: record,
        table.render_shouted,
        _Mixed(ROWS).render_shouted,
        column.render,
        Callable(),
        functools.partial(function, record=None),
        Methods.static,
        Methods.klass,
        Methods().klass,
    ):
        assert utils.signature(fn) == original(fn)
        assert utils.signature(fn) == original(fn)  # from the cache the second time


def test_detail_link_gives_the_href_reverse_gives_and_no_link_without_an_id():
    from types import SimpleNamespace

    from django.urls import reverse, set_script_prefix

    from core.tables import detail_link

    link = detail_link("contracts:subscriber_detail", "option_contract__subscriber_id")
    record = SimpleNamespace(pk=7, option_contract=SimpleNamespace(subscriber_id=123))
    assert link(record) == reverse("contracts:subscriber_detail", args=[123]) == "/subscribers/123/"
    assert detail_link("contracts:ledgerentry_detail")(record) == reverse("contracts:ledgerentry_detail", args=[7])
    assert link(SimpleNamespace(pk=8, option_contract=None)) is None  # the cell is shown without a link
    try:
        set_script_prefix("/backoffice/")  # served under a prefix: the prefix is the request's, as reverse()'s
        assert link(record) == reverse("contracts:subscriber_detail", args=[123]) == "/backoffice/subscribers/123/"
    finally:
        set_script_prefix("/")
    assert link(record) == "/subscribers/123/"
