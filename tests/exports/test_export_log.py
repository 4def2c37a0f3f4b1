"""The export log (電子帳簿保存法): every download, streamed or not, direct or a job's file, is recorded once by the
one middleware with user, time, parameters, kind, rows and the SHA-256 of what left; a download cut short is 中断
with the bytes sent so far; the log is append-only and システム管理者 reads (and downloads) it."""

import csv
import hashlib
import io

import pytest
from django.db import connection
from django.db.utils import DatabaseError
from django.urls import reverse

from core import clock
from exports.choices import DownloadOutcome, ExportKind
from exports.models import ExportLog
from exports.services import export_job_request
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.django_db


def _read(response) -> bytes:
    # The test client closes the response itself once its stream is read (as a WSGI server does).
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_streamed_report_download_is_logged_when_its_stream_ends(client, closed_february, accounting):
    client.force_login(accounting)
    response = client.get(reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": "csv"})
    assert not ExportLog.objects.exists()  # nothing is known until the last byte left
    body = _read(response)
    log = ExportLog.objects.get()
    lines = body.decode("utf-8-sig").splitlines()
    assert (log.user, log.kind, log.outcome) == (accounting, ExportKind.REPORT, DownloadOutcome.DONE)
    assert (log.size, log.sha256) == (len(body), hashlib.sha256(body).hexdigest())
    assert log.rows == len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) - 1 and log.rows > 0
    assert lines and log.params == {"month": "2026-02", "fmt": "csv"} and log.query == "month=2026-02&fmt=csv"
    assert log.filename == "月次レポート_令和8年2月 (2026-02)_明細.csv" and log.at == clock.now()
    assert log.view == "contracts:monthly_report_download" and log.job is None


def test_a_download_the_client_leaves_is_logged_as_interrupted_with_the_bytes_sent(client, closed_february, accounting):
    client.force_login(accounting)
    response = client.get(reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": "xlsx"})
    stream = iter(response.streaming_content)
    first = next(stream)
    # The client goes away: the server stops reading and closes the response (the test client's wrapper of the
    # stream does, when the stream is closed).
    response._iterator.close()
    log = ExportLog.objects.get()
    assert log.outcome == DownloadOutcome.ABORTED
    assert (log.size, log.sha256) == (len(first), hashlib.sha256(first).hexdigest())


def test_a_journal_a_list_and_an_impact_file_are_logged_with_their_rows(
    client, closed_february, accounting, tariff_manager
):
    client.force_login(accounting)
    journal = _read(client.get(reverse("accounting:journal_download"), {"month": "2026-02", "fmt": "journal-freee"}))
    ledger = _read(client.get(reverse("contracts:ledger_list"), {"month": "令和8年2月", "export": "csv"}))
    client.force_login(tariff_manager)
    impact = _read(client.get(reverse("contracts:revision_impact_download", args=[closed_february.pk]), {"fmt": "csv"}))
    journal_log, ledger_log, impact_log = ExportLog.objects.order_by("pk")
    assert journal_log.kind == ExportKind.JOURNAL and journal_log.sha256 == hashlib.sha256(journal).hexdigest()
    assert journal_log.rows == len(journal.decode().splitlines()) - 1  # freee's file has a header line
    assert ledger_log.kind == ExportKind.LIST and ledger_log.params == {"month": "令和8年2月", "export": "csv"}
    assert ledger_log.rows == len(list(csv.reader(io.StringIO(ledger.decode("utf-8-sig"))))) - 1 > 0
    assert impact_log.kind == ExportKind.IMPACT and impact_log.user == tariff_manager
    assert (
        impact_log.size == len(impact)
        and impact_log.rows == len(list(csv.reader(io.StringIO(impact.decode("utf-8-sig"))))) - 1
    )


def test_a_job_s_file_is_logged_with_the_job_its_parameters_and_rows(client, closed_february, accounting):
    job = export_job_request(kind="report", data={"month": "2026-02", "fmt": "xlsx"}, actor=accounting)
    run_queued_tasks()
    assert not ExportLog.objects.exists()  # writing the file is not a download
    client.force_login(accounting)
    job.refresh_from_db()
    body = _read(client.get(reverse("exports:exportjob_download", args=[job.pk])))
    log = ExportLog.objects.get()
    assert (log.job, log.kind, log.params, log.rows) == (job, ExportKind.REPORT, job.params, job.row_count)
    assert log.sha256 == job.sha256 == hashlib.sha256(body).hexdigest()
    # The rows a job counts are the rows the direct download counts.
    _read(client.get(reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": "xlsx"}))
    assert ExportLog.objects.order_by("-pk").first().rows == job.row_count


def test_a_refused_download_is_not_a_download(client, closed_february, accounting):
    client.force_login(accounting)
    client.get(reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": "pdf"})
    assert not ExportLog.objects.exists()


def test_the_log_is_append_only(client, closed_february, accounting):
    client.force_login(accounting)
    _read(client.get(reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": "csv"}))
    log = ExportLog.objects.get()
    log.rows = 0
    with pytest.raises(TypeError, match="追記のみ"):
        log.save()
    with pytest.raises(TypeError, match="追記のみ"):
        ExportLog.objects.all().delete()
    with pytest.raises(TypeError, match="追記のみ"):
        ExportLog.objects.update(rows=0)


@pytest.mark.postgres
def test_postgresql_refuses_changing_the_log_behind_the_app_s_back(client, closed_february, accounting):
    client.force_login(accounting)
    _read(client.get(reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": "csv"}))
    for statement in ("UPDATE exports_exportlog SET rows = 0", "DELETE FROM exports_exportlog"):
        with pytest.raises(DatabaseError, match="出力記録は追記のみです"), connection.cursor() as cursor:
            from django.db import transaction

            with transaction.atomic():
                cursor.execute(statement)


def test_the_system_administrator_reads_filters_and_downloads_the_log(client, closed_february, accounting, sysadmin):
    client.force_login(accounting)
    _read(client.get(reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": "csv"}))
    _read(client.get(reverse("accounting:journal_download"), {"month": "2026-02", "fmt": "journal-mf"}))
    assert client.get(reverse("exports:exportlog_list")).status_code == 403  # 経理 downloads; it does not audit
    client.force_login(sysadmin)
    html = client.get(reverse("exports:exportlog_list")).content.decode()
    assert (
        "出力記録" in html and "月次レポート_令和8年2月 (2026-02)_明細.csv" in html and "journal-mf-2026-02.csv" in html
    )
    only_journals = client.get(reverse("exports:exportlog_list"), {"kind": "journal"}).content.decode()
    assert "journal-mf-2026-02.csv" in only_journals and "_明細.csv" not in only_journals
    body = _read(client.get(reverse("exports:exportlog_list"), {"kind": "journal", "export": "csv"}))
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert "SHA-256" in header and len(rows) == 1 and "journal-mf-2026-02.csv" in rows[0]
    assert ExportLog.objects.order_by("-pk").first().kind == ExportKind.LIST  # the log's own download is logged
    bad = client.get(reverse("exports:exportlog_list"), {"date_from": "令和99年13月1日"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
