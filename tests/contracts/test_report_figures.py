"""The report page's figures are read, never computed on a visit (issue 14): a closed month's 集計 is stored by its
close, equal to its report to the yen; an open month's 速報 is computed by a task worker on request, stored with the
watermark of the book it read, shown with when it was computed and labelled when the book changed since; one
refresh of a month at once; a refresh run twice or killed half-way and run again gives the same figures; a GET of
the report page writes nothing and runs as many queries for many rows as for few."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from contracts.choices import MonthCloseJobStatus
from contracts.models import MonthCloseSummary, ReportFigures
from contracts.reports import figures as figures_module
from contracts.reports import monthly_report
from contracts.reports.figures import charge_rows_page, report_page_figures, stored_summary
from contracts.services import report_figures as service
from contracts.services.month_close import month_close
from contracts.services.report_figures import report_figures_request, report_figures_run
from core import clock
from core.errors import DomainError
from tests.factories import contract_billed_from, jst
from tests.tasks import refresh_report_figures, run_queued_tasks
from tests.writes import data_writes

pytestmark = pytest.mark.django_db

FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def _at(*args):
    return time_machine.travel(jst(*args), tick=False)


def _book(approver, contracts=3, first=0):
    """SWP contracts of 10, 20, 30 … accounts billed from 2026-02-01, -02, -03 …"""
    for n in range(first, first + contracts):
        contract_billed_from(dt.date(2026, 2, 1 + n), code=f"C{n:06d}", quantity=10 * (n + 1), approver=approver)


def _page(client, user, month: str, **params):
    client.force_login(user)
    response = client.get(reverse("contracts:monthly_report"), {"month": month, **params})
    assert response.status_code == 200
    return response


def _same(summary, other) -> bool:
    return summary == other and summary.total_incl_yen == other.total_incl_yen


def test_the_close_stores_its_months_summary_equal_to_its_report_to_the_yen(regulation, approver, accounting):
    _book(approver)
    with _at(2026, 3, 2, 9, 0):
        close = month_close(month=FEB, actor=accounting)
    stored = MonthCloseSummary.objects.get(close=close)
    # 1 block × 3,000円 × 28/28 + 2 × 3,000円 × 27/28 + 3 × 3,000円 × 26/28, each rounded down; 10% tax on the total.
    assert (stored.total_excl_yen, stored.total_tax_yen) == (3000 + 5785 + 8357, 1714)
    assert _same(stored_summary(stored), monthly_report(month=FEB).summary)
    assert (stored.recorded_by, stored.recorded_at) == (accounting, close.closed_at)


def test_the_backfill_stores_the_summary_of_closes_made_before_the_close_stored_it_once(
    regulation, approver, accounting, capsys
):
    _book(approver)
    with _at(2026, 3, 2, 9, 0):
        close = month_close(month=FEB, actor=accounting)
    MonthCloseSummary.objects.filter(close=close).delete()  # as a close made before this change left it
    with _at(2026, 3, 3, 9, 0):
        call_command("report_figures_backfill")
        assert capsys.readouterr().out == "1か月の集計を記録しました: 令和8年2月 (2026-02)\n"
        call_command("report_figures_backfill")
        assert capsys.readouterr().out == "集計のない締め月はありません。何も記録していません。\n"
    assert MonthCloseSummary.objects.count() == 1
    assert _same(stored_summary(MonthCloseSummary.objects.get()), monthly_report(month=FEB).summary)


def test_a_closed_month_shows_its_stored_summary_and_refuses_a_refresh(regulation, approver, accounting, client):
    _book(approver)
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
        response = _page(client, accounting, "2026-02")
        with pytest.raises(DomainError, match="締め済みです"):
            report_figures_request(month=FEB, actor=accounting)
    assert _same(response.context["summary"], monthly_report(month=FEB).summary)
    assert response.context["charge_count"] == 3 and "月額料金 3件" in response.content.decode()
    assert "速報を集計" not in response.content.decode()


def test_an_open_month_shows_its_figures_once_a_worker_has_computed_them(regulation, approver, accounting, client):
    _book(approver)
    with _at(2026, 2, 20, 9, 0):
        html = _page(client, accounting, "2026-02").content.decode()
        assert "令和8年2月 (2026-02)の速報はまだ集計されていません" in html and "速報を集計する" in html
        response = client.post(reverse("contracts:report_figures_refresh"), {"month": "2026-02"}, follow=True)
        html = response.content.decode()
        assert "速報の集計を依頼しました" in html and "待機中" in html and 'http-equiv="refresh"' in html
        job = ReportFigures.objects.get()
        assert (job.status, job.requested_by, DBTaskResult.objects.get().args_kwargs["args"]) == (
            MonthCloseJobStatus.QUEUED,
            accounting,
            [job.pk],
        )
    with _at(2026, 2, 20, 9, 5):
        run_queued_tasks()
        response = _page(client, accounting, "2026-02")
    html = response.content.decode()
    job.refresh_from_db()
    assert job.status == MonthCloseJobStatus.DONE and job.computed_at == jst(2026, 2, 20, 9, 5)
    assert "令和8年2月 (2026-02)の速報は 令和8年2月20日 (2026-02-20) 09:05 時点の集計です（その後に台帳・契約は" in html
    assert 'http-equiv="refresh"' not in html and "速報を集計し直す" in html
    with _at(2026, 2, 20, 9, 6):
        assert _same(response.context["summary"], monthly_report(month=FEB).summary)
    assert response.context["charge_count"] == 3 and job.rows_written == 3


def test_figures_read_before_the_book_changed_are_labelled_as_such_never_as_current(
    regulation, approver, accounting, client
):
    _book(approver)
    with _at(2026, 2, 20, 9, 0):
        before = refresh_report_figures(month=FEB, actor=accounting)
    _book(approver, contracts=1, first=5)  # a new contract billed from 2026-02-06: the ledger grew
    with _at(2026, 2, 21, 10, 0):
        response = _page(client, accounting, "2026-02")
        html = response.content.decode()
        figures = response.context["figures"]
        assert not figures.is_current and "ledger" in figures.changed
        assert (
            "令和8年2月 (2026-02)の速報は 令和8年2月20日 (2026-02-20) 09:00 時点の集計です。その後に台帳が変わりました"
        ) in html
        assert "最新ではありません" in html and "速報を集計し直す" in html
        assert response.context["summary"].total_excl_yen == before.total_excl_yen  # the old figures, labelled
        after = refresh_report_figures(month=FEB, actor=accounting)
        fresh = _page(client, accounting, "2026-02").context["figures"]
    assert after.pk != before.pk and fresh.is_current and after.total_excl_yen > before.total_excl_yen
    assert _same(fresh.summary, monthly_report(month=FEB).summary)


def test_only_one_refresh_of_a_month_is_queued_at_once_and_a_current_one_queues_nothing(
    regulation, approver, accounting
):
    _book(approver)
    with _at(2026, 2, 20, 9, 0):
        first = report_figures_request(month=FEB, actor=accounting)
        again = report_figures_request(month=dt.date(2026, 2, 17), actor=accounting)
        assert again == first and DBTaskResult.objects.count() == 1
        with pytest.raises(IntegrityError), transaction.atomic():  # the database holds it too
            ReportFigures.objects.create(month=FEB, requested_by=accounting, requested_at=clock.now())
    with _at(2026, 2, 20, 9, 1):
        run_queued_tasks()
        current = report_figures_request(month=FEB, actor=accounting)  # nothing changed since: those figures
    assert current == first and ReportFigures.objects.count() == 1 and DBTaskResult.objects.count() == 1


def test_a_refresh_run_twice_gives_one_set_of_figures_with_the_same_yen(regulation, approver, accounting):
    _book(approver)
    with _at(2026, 2, 20, 9, 0):
        figures = refresh_report_figures(month=FEB, actor=accounting)
        result = report_figures_run(figures_id=figures.pk)  # the task delivered a second time
    assert result == {"figures": figures.pk, "status": MonthCloseJobStatus.DONE}
    stored = ReportFigures.objects.get()
    assert (stored.total_incl_yen, stored.computed_at, stored.lines) == (
        figures.total_incl_yen,
        figures.computed_at,
        figures.lines,
    )


def test_a_refresh_killed_half_way_stores_nothing_and_its_rerun_gives_the_same_figures(
    regulation, approver, accounting, monkeypatch
):
    _book(approver, contracts=5)
    with _at(2026, 2, 20, 9, 0):
        clean = monthly_report(month=FEB).summary
    monkeypatch.setattr(figures_module, "PROGRESS_EVERY", 1)
    calls = []

    def killed_after_two_rows(rows):
        calls.append(rows)
        if rows >= 2:
            raise SystemExit("worker killed")  # a BaseException, as a signal ending the worker is

    original = figures_module.month_figures
    monkeypatch.setattr(
        service, "month_figures", lambda *, month, progress=None: original(month=month, progress=killed_after_two_rows)
    )
    with _at(2026, 2, 20, 9, 0):
        job = report_figures_request(month=FEB, actor=accounting)
        run_queued_tasks()
    job.refresh_from_db()
    assert calls == [1, 2] and job.status == MonthCloseJobStatus.FAILED and "記録されていません" in job.message
    assert job.lines == [] and job.computed_at is None

    # A worker dies without a word: its refresh is left 実行中; the next request finds it abandoned.
    monkeypatch.setattr(service, "month_figures", original)
    ReportFigures.objects.filter(pk=job.pk).update(status=MonthCloseJobStatus.RUNNING, started_at=clock.now())
    with _at(2026, 2, 20, 10, 0):
        rerun = report_figures_request(month=FEB, actor=accounting)
        run_queued_tasks()
    job.refresh_from_db()
    rerun.refresh_from_db()
    assert job.status == MonthCloseJobStatus.FAILED and "中断されました" in job.message
    assert rerun.status == MonthCloseJobStatus.DONE and rerun != job
    assert _same(stored_summary(rerun), clean) and rerun.charge_rows == 5


def test_a_get_of_the_report_page_writes_nothing_open_or_closed(regulation, approver, accounting, client):
    _book(approver)
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
        refresh_report_figures(month=MAR, actor=accounting)
        client.force_login(accounting)
        for month in ("2026-02", "2026-03", "2026-04"):  # closed, open with figures, open without
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("contracts:monthly_report"), {"month": month}).status_code == 200
            assert data_writes(queries) == [], month


def _queries(client, user, month: str) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("contracts:monthly_report"), {"month": month}).status_code == 200
    return len(queries)


def test_the_report_page_runs_as_many_queries_for_many_rows_as_for_few(regulation, approver, accounting, client):
    _book(approver, contracts=1)
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
        refresh_report_figures(month=MAR, actor=accounting)
        _queries(client, accounting, "2026-02")  # warm the per-process caches (the fee schedule, permissions)
        few = {month: _queries(client, accounting, month) for month in ("2026-02", "2026-03")}
    _book(approver, contracts=12, first=1)
    with _at(2026, 4, 2, 9, 0):
        month_close(month=MAR, actor=accounting)
        refresh_report_figures(month=dt.date(2026, 4, 1), actor=accounting)
        many = {month: _queries(client, accounting, month) for month in ("2026-03", "2026-04")}
    assert (many["2026-03"], many["2026-04"]) == (few["2026-02"], few["2026-03"])


def _walk(month, size=2) -> list:
    pages, after = [], 0
    while after is not None:
        pages.append(charge_rows_page(month=month, after=after, size=size))
        after = pages[-1].next_after
    return pages


def test_the_rows_on_the_page_are_read_a_page_at_a_time_in_contract_order(regulation, approver, accounting, client):
    _book(approver, contracts=5)
    with _at(2026, 2, 20, 9, 0):
        every = sorted(monthly_report(month=FEB).charge_rows, key=lambda r: r.option_contract_id)
        open_pages = _walk(FEB)
        html = _page(client, accounting, "2026-02").content.decode()
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
        closed_pages = _walk(FEB)
        first = charge_rows_page(month=FEB, size=2)
        second = _page(client, accounting, "2026-02", after=str(first.next_after)).content.decode()
    for pages in (open_pages, closed_pages):
        assert [len(p.rows) for p in pages] == [2, 2, 1]
        assert [r[:16] for p in pages for r in p.rows] == [r[:16] for r in every]  # the same rows, same yen
    assert "月額料金の行（契約順・先頭から5件）" in html
    assert "月額料金の行（契約順・続き3件）" in second and "先頭へ" in second


def test_a_month_never_refreshed_has_no_figures_and_nothing_is_shown_as_current(regulation, approver, accounting):
    _book(approver, contracts=1)
    figures = report_page_figures(month=FEB)
    assert figures.summary is None and not figures.is_current  # nothing computed yet is never "current"
