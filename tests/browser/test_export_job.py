"""経理 in a real browser asks for the month's workbook as a background job, watches the job page, and downloads
the file the worker stored in the database; システム管理者 then finds that download in the export log."""

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from contracts.services.month_close import month_close
from exports.models import ExportJob, ExportLog
from tests.browser.test_application_story import log_in
from tests.factories import contract_billed_from
from tests.tasks import run_queued_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.clock("2026-03-02T10:00+09:00")
def test_accounting_asks_for_the_xlsx_waits_and_downloads_it(
    live_server, browser, page, shot, regulation, approver, accounting, sysadmin
):
    for n, (start, quantity) in enumerate(((dt.date(2026, 2, 15), 10), (dt.date(2026, 2, 1), 30))):
        contract_billed_from(start, code=f"X{n:06d}", name=f"株式会社エクセル{n}", quantity=quantity, approver=approver)
    month_close(month=dt.date(2026, 2, 1), actor=accounting)
    log_in(page, live_server, accounting)
    page.goto(live_server.url + reverse("contracts:monthly_report") + "?month=2026-02")
    shot(page, "export_job_00_report_downloads")
    page.click("#xlsx-request button[type=submit]")
    page.wait_for_selector("#export-job")
    assert page.locator("#export-job-status").inner_text() == "待機中"
    shot(page, "export_job_01_queued")

    run_queued_tasks()  # the worker (`manage.py db_worker`, started by `make run`)
    page.wait_for_selector("#export-job-download", timeout=10_000)  # the page refreshes itself every 2 seconds
    assert page.locator("#export-job-status").inner_text() == "完了"
    shot(page, "export_job_02_done")
    with page.expect_download() as download_info:
        page.click("#export-job-download")
    download = download_info.value
    assert download.suggested_filename == "月次レポート_令和8年2月 (2026-02).xlsx"
    data = open(download.path(), "rb").read()
    job = ExportJob.objects.get()
    assert len(data) == job.size
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert workbook.sheetnames == ["明細", "月額", "集計"]
    assert ExportLog.objects.get().job == job

    page.context.clear_cookies()
    log_in(page, live_server, sysadmin)
    page.click("nav a:has-text('出力記録')")
    page.wait_for_selector("table")
    assert "月次レポート_令和8年2月 (2026-02).xlsx" in page.locator("table").inner_text()
    shot(page, "export_job_03_export_log")
