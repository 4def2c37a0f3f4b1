"""Every staff list downloads as CSV (`?export=csv`) and says how many rows match: one mechanism for all of them
(core.views.TableListMixin), the report's Excel-safe cells (core.cells: BOM, neutralised text), streamed in
batches, a Japanese filename with its ASCII fallback (RFC 6266), the page's filters and the page's permission.
"""

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import resolve, reverse

from contracts.choices import SubscriberKind
from contracts.models import Subscriber
from contracts.services import subscriber_create
from core import tables
from core.cells import BOM
from core.views import TableListMixin, attachment_disposition
from tests.test_list_query_counts import TABLE_PAGES
from tests.test_urls_roles import EXPECTED, ROLE_USERS, make_user

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))


def test_every_list_page_is_a_counted_downloadable_list():
    """A new table page gets the count and the download by its base, or this fails."""
    assert TABLE_PAGES
    missing = [name for name in TABLE_PAGES if not issubclass(resolve(reverse(name)).func.view_class, TableListMixin)]
    assert missing == []


def test_the_download_filename_is_japanese_with_an_ascii_fallback_rfc_6266():
    header = attachment_disposition("支払義務台帳_20260215.csv", fallback="ledgerentry-20260215.csv")
    assert header == (
        'attachment; filename="ledgerentry-20260215.csv"; '
        "filename*=UTF-8''%E6%94%AF%E6%89%95%E7%BE%A9%E5%8B%99%E5%8F%B0%E5%B8%B3_20260215.csv"
    )
    with pytest.raises(ValueError):
        attachment_disposition("x.csv", fallback='a"b.csv')


def test_a_list_downloads_as_the_reports_csv_bom_neutralised_cells_and_its_filters(client, clerk):
    subscriber_create(actor=clerk, code="C0001", name="=1+2", kana="イコール", kind=SubscriberKind.CORPORATE)
    subscriber_create(
        actor=clerk, code="C0002", name="山田, 太郎", kana="ヤマダ タロウ", kind=SubscriberKind.INDIVIDUAL
    )
    subscriber_create(actor=clerk, code="C0003", name='"引用"商店', kana="インヨウ", kind=SubscriberKind.INDIVIDUAL)
    client.force_login(clerk)
    response = client.get(reverse("contracts:subscriber_list") + "?sort=code&export=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == attachment_disposition(
        "契約者_20260215.csv", fallback="subscriber-20260215.csv"
    )
    body = _body(response)
    assert body.startswith(BOM)
    lines = body[len(BOM) :].decode().split("\n")
    assert lines[0] == "契約者コード,契約者名,フリガナ,区分,有効,登録日時"
    assert lines[1] == "C0001,'=1+2,イコール,法人,有効,2026-02-15 10:00:00"
    assert lines[2] == 'C0002,"山田, 太郎",ヤマダ タロウ,個人,有効,2026-02-15 10:00:00'
    assert lines[3] == 'C0003,"""引用""商店",インヨウ,個人,有効,2026-02-15 10:00:00'
    assert lines[4:] == [""]
    # The page's filters: the same search as on screen, every matching row, no page.
    found = _csv_rows(client.get(reverse("contracts:subscriber_list") + "?q=やまだ&export=csv"))
    assert [row[0] for row in found[1:]] == ["C0002"]


def test_a_list_shows_how_many_rows_match_and_its_download_link_keeps_the_search(client, clerk):
    for i in range(3):
        subscriber_create(actor=clerk, code=f"K000{i}", name=f"株式会社K{i}", kana="カブシキガイシャ")
    client.force_login(clerk)
    response = client.get(reverse("contracts:subscriber_list") + "?q=K000&page=1")
    table = response.context["table"]
    assert table.matches.label == "3件" and not table.matches.capped
    assert table.export_url == "?q=K000&export=csv"
    html = response.content.decode()
    assert "該当 <strong>3件</strong>" in html
    assert 'href="?q=K000&amp;export=csv" download>CSV をダウンロード' in html


def test_a_list_past_the_cap_says_more_than_counting_with_a_limit(client, clerk, monkeypatch):
    monkeypatch.setattr(TableListMixin, "count_cap", 2)
    for i in range(3):
        subscriber_create(actor=clerk, code=f"M000{i}", name=f"株式会社M{i}", kana="カブシキガイシャ")
    client.force_login(clerk)
    response = client.get(reverse("contracts:subscriber_list"))
    assert response.context["table"].matches.label == "2件以上"
    assert "該当 <strong>2件以上</strong>（絞り込むと件数が出ます）" in response.content.decode()
    # The download is not capped: every row.
    assert len(_csv_rows(client.get(reverse("contracts:subscriber_list") + "?export=csv"))) == 1 + 3


def test_a_download_streams_its_rows_in_batches_through_an_iterator(client, clerk, monkeypatch):
    monkeypatch.setattr(tables, "EXPORT_BATCH_ROWS", 2)
    for i in range(5):
        subscriber_create(actor=clerk, code=f"B000{i}", name=f"株式会社B{i}", kana="カブシキガイシャ")
    iterated = []
    original = Subscriber.objects.none().__class__.iterator

    def spy(self, *args, **kwargs):
        iterated.append(kwargs.get("chunk_size"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Subscriber.objects.none().__class__, "iterator", spy)
    client.force_login(clerk)
    response = client.get(reverse("contracts:subscriber_list") + "?export=csv")
    chunks = list(response.streaming_content)
    assert iterated == [2]  # read in chunks, never the whole queryset at once
    assert chunks[0] == BOM and len(chunks) == 1 + 1 + 3  # BOM, header, 5 rows in batches of 2


@pytest.mark.parametrize("name", TABLE_PAGES)
def test_a_lists_download_is_open_to_exactly_the_roles_of_its_page(name, regulation):
    url = reverse(name) + "?export=csv"
    for key in ROLE_USERS:
        client = Client()
        client.force_login(make_user(key))
        response = client.get(url)
        if key in EXPECTED[name]:
            assert response.status_code == 200, (name, key)
            assert response["Content-Type"] == "text/csv; charset=utf-8", (name, key)
            assert "filename*=UTF-8''" in response["Content-Disposition"], (name, key)
            header = _csv_rows(response)[0]
            assert header and all(cell and "<" not in cell for cell in header), (name, header)
        else:
            assert response.status_code == 403, (name, key)


@pytest.mark.postgres
def test_on_postgresql_a_download_reads_its_rows_through_a_server_side_cursor(client, clerk):
    """Inside the export's transaction `.iterator()` is a named cursor: PostgreSQL sends rows as they are read,
    it does not materialise a 5,000,000-row ledger first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    subscriber_create(actor=clerk, code="P0001", name="株式会社P", kana="カブシキガイシャピー")
    client.force_login(clerk)
    with CaptureQueriesContext(connection) as captured:
        rows = _csv_rows(client.get(reverse("contracts:subscriber_list") + "?export=csv"))
    assert [row[0] for row in rows[1:]] == ["P0001"]
    assert any(q["sql"].startswith("DECLARE ") and " CURSOR " in q["sql"] for q in captured.captured_queries)
