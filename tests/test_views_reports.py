"""The monthly report page: 速報 for open months, totals on screen, streamed downloads, and 月次締め."""

import datetime as dt
import io

import openpyxl
import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from contracts.models import LedgerEntry, MonthClose
from contracts.views.reports import preview_token
from core import clock
from core.formats import wareki_datetime, wareki_month
from tests import ui_data
from tests.factories import close_from_preview
from tests.tasks import refresh_report_figures, run_queued_tasks

pytestmark = pytest.mark.django_db


def last_month():
    return clock.month_start(clock.month_start(clock.today()) - dt.timedelta(days=1))


@pytest.fixture
def keiri(client, accounting):
    client.force_login(accounting)
    return client


@pytest.mark.clock("2026-03-10T10:00+09:00")  # staff log in and work on 3/10, while March is open
def test_an_open_month_is_shown_as_provisional_with_its_totals(regulation, keiri, clerk, approver, accounting):
    # 30 accounts of SWP = 3 blocks × 3,000円 = 9,000円 a month, billed from 3/10: 22 of 31 days, rounded down
    # (§3.6) = 6,387円; tax 10% rounded down = 638円; 7,025円 with tax.
    ui_data.billing_contract(clerk=clerk, approver=approver)
    refresh_report_figures(month=dt.date(2026, 3, 1), actor=accounting)
    response = keiri.get(reverse("contracts:monthly_report"), {"month": "2026-03"})
    html = response.content.decode()
    summary = response.context["summary"]
    assert response.context["report"].is_provisional
    assert "速報" in html
    assert (summary.total_excl_yen, summary.total_tax_yen, summary.total_incl_yen) == (6387, 638, 7025)
    assert "7,025円" in html
    assert reverse("contracts:close_preview") + "?month" not in html  # this month has not ended: nothing to close
    html = keiri.get(reverse("contracts:monthly_report"), {"month": "2026-02"}).content.decode()
    assert reverse("contracts:close_preview") + "?month=2026-02" in html  # 経理 closes an ended month from 仮締め


def test_the_month_may_be_entered_in_wareki(regulation, keiri):
    response = keiri.get(reverse("contracts:monthly_report"), {"month": "令和8年2月"})
    assert response.context["month"] == dt.date(2026, 2, 1)


@pytest.mark.parametrize(
    ("fmt", "part", "content_type"),
    [
        ("csv", "detail", "text/csv; charset=utf-8"),
        ("csv", "summary", "text/csv; charset=utf-8"),
        ("csv-cp932", "charges", "text/csv; charset=Windows-31J"),
        ("xlsx", "", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_downloads_stream_in_each_format(regulation, keiri, clerk, approver, fmt, part, content_type):
    ui_data.billing_contract(clerk=clerk, approver=approver)
    month = f"{clock.today():%Y-%m}"
    response = keiri.get(reverse("contracts:monthly_report_download"), {"month": month, "fmt": fmt, "part": part})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith(f'attachment; filename="monthly-report-{month}')
    body = b"".join(response.streaming_content)
    if fmt == "xlsx":
        workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        assert len(workbook.sheetnames) == 3
    else:
        text = body.decode("cp932" if fmt == "csv-cp932" else "utf-8-sig")
        header, first = text.splitlines()[:2]
        expected = {"detail": "台帳番号", "summary": "区分", "charges": "契約番号"}[part]
        assert header.split(",")[0] == expected and first  # the part's header, then its first row


def test_a_refused_download_comes_back_as_a_message(regulation, keiri):
    response = keiri.get(
        reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": "xlsx", "part": "detail"}, follow=True
    )
    assert response.status_code == 200
    assert any("XLSX" in str(m) for m in response.context["messages"])


def test_closing_an_unfinished_month_is_refused_and_last_month_closes(regulation, keiri, accounting):
    response = close_from_preview(keiri, clock.month_start(clock.today()))
    assert any("まだ終わっていないため締められません" in str(m) for m in response.context["messages"])
    assert not MonthClose.objects.exists()

    month = last_month()
    response = close_from_preview(keiri, month)
    assert any("締めを依頼しました" in str(m) for m in response.context["messages"])
    run_queued_tasks()
    assert "を締めました" in keiri.get(response.request["PATH_INFO"]).content.decode()
    close = MonthClose.objects.get()
    assert (close.month, close.closed_by) == (month, accounting)
    response = keiri.get(reverse("contracts:monthly_report"), {"month": f"{month:%Y-%m}"})
    assert response.context["report"].is_closed
    close_form = f'action="{reverse("contracts:month_close")}"'
    assert close_form not in response.content.decode()  # a closed month offers no close


def test_closing_a_closed_month_again_is_refused_saying_when_and_by_whom_and_writes_nothing(
    regulation, keiri, accounting
):
    month = last_month()
    close_from_preview(keiri, month)
    run_queued_tasks()
    keiri.get(reverse("contracts:monthly_report"))  # shows (and so uses up) the messages of the first close
    close = MonthClose.objects.get()
    ledger, history = LedgerEntry.objects.count(), MonthClose.history.count()

    # A preview confirmed before the first close ended: its token still names the month.
    token = preview_token(month, {"fingerprint": close.fingerprint, "rows": close.charge_rows, "totals": []})
    response = keiri.post(reverse("contracts:month_close"), {"month": f"{month:%Y-%m}", "preview": token}, follow=True)

    assert [(m.level_tag, str(m)) for m in response.context["messages"]] == [
        (
            "error",
            f"{wareki_month(month)}は締め済みです（締め日時 {wareki_datetime(close.closed_at)}、"
            "締め実行者 accounting）。何も記帳していません。",
        )
    ]
    assert (MonthClose.objects.count(), LedgerEntry.objects.count(), MonthClose.history.count()) == (
        1,
        ledger,
        history,
    )
