"""The report's figures stored where the page reads them (issue 14: the report page ≤ 1 s at any size of the book).

Decisions, each kept here:
- A closed month's 集計 is stored by its close, in the close's transaction (`close_figures_record`, called by
  contracts.services.month_close), from the month's report itself read at the close's snapshot: it equals the
  report to the yen because it is the report's own computation (contracts.reports.figures.month_figures). Closes
  made before that are given theirs by `close_figures_backfill` (manage.py report_figures_backfill; idempotent).
- An open month's 速報 is computed by a task worker on request (`report_figures_request` → `report_figures_task`),
  never on a visit, and stored as a ReportFigures row with the watermark of the book it read; the page shows the
  newest with when it was computed and says when the book changed since.
- One refresh of a month is queued or running at once (the partial unique constraint is the last line); asking
  again returns it. Asking while the newest figures are current queues nothing and returns them.
- A refresh reads at one snapshot (PostgreSQL: REPEATABLE READ, its watermark taken first) and stores its figures
  in one transaction at the end: a worker killed half-way stores nothing, its row left 実行中 is found out when the
  month is asked for again (PostgreSQL: no session holds the month's refresh lock; SQLite: after STALE_AFTER) and
  marked 中断, and the new refresh gives the same figures. A task delivered twice runs once (status).
- This is the one service that reads contracts.reports (an exception declared in pyproject.toml's import
  contracts): the figures it stores are the report's, so they are not computed a second way.
"""

import datetime as dt
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from django_tasks import task

from contracts.billing.charges import in_billing
from contracts.billing.watermarks import book_watermark
from contracts.choices import ACTIVE_CLOSE_JOB_STATUSES, MonthCloseJobStatus
from contracts.models import MonthClose, MonthCloseSummary, OptionContract, ReportFigures
from contracts.reports.figures import month_figures
from core import clock
from core.errors import DomainError
from core.formats import wareki_month

from .audit import require_permission
from .job_progress import JobProgressWriter
from .month_summaries import figures_assert_whole, month_summary_append

STALE_AFTER = dt.timedelta(minutes=30)
ADVISORY_CLASS = 8202  # the refresh's session lock (class, yyyymm); the close's is 8201
INTERRUPTED = "中断されました（実行中のワーカーが停止しました）。集計は記録されていません。もう一度依頼してください。"

_SUMMARY_FIELDS = ("lines", "rates", "total_excl_yen", "total_tax_yen", "total_incl_yen")


def close_figures_record(*, close: MonthClose, actor) -> MonthCloseSummary:
    """Store `close`'s 集計, read now from its month's report: called by the close in its transaction, after the
    close row is written (so the report reads the month as closed). The close checks its actor."""
    figures = month_figures(month=close.month)
    return month_summary_append(close=close, actor=actor, **{k: figures[k] for k in _SUMMARY_FIELDS})


def close_figures_backfill(*, actor) -> list[MonthClose]:
    """Store the 集計 of every close that has none (closes made before the close stored it), oldest first, each in
    a transaction of its own; return the closes given one. Running it again stores nothing."""
    require_permission(actor, "contracts.export_report", action="締め月の集計を記録する")
    done = []
    for close in MonthClose.objects.filter(summary__isnull=True).order_by("month"):
        with transaction.atomic(durable=True):
            close_figures_record(close=close, actor=actor)
        done.append(close)
    return done


def _newest(month: dt.date) -> ReportFigures | None:
    return (
        ReportFigures.objects.filter(month=month, status=MonthCloseJobStatus.DONE).order_by("-computed_at", "-pk")
    ).first()


@transaction.atomic(durable=True)
def report_figures_request(*, month: dt.date, actor) -> ReportFigures:
    """Queue a refresh of the open `month`'s 速報 figures for a worker and return it; or the refresh queued or
    running already; or, when the newest figures are current (the book unchanged since), those."""
    month = clock.month_start(month)
    require_permission(actor, "contracts.export_report", action="速報の集計を更新する")
    if MonthClose.objects.filter(month=month).exists():
        raise DomainError(
            f"{wareki_month(month)}は締め済みです。集計は締めで記録されています（更新するものはありません）。",
            code="month_closed",
        )
    active = ReportFigures.objects.select_for_update().filter(month=month, status__in=ACTIVE_CLOSE_JOB_STATUSES)
    active = active.first()
    if active is not None:
        if not _abandoned(active):
            return active
        _finish(active, MonthCloseJobStatus.FAILED, INTERRUPTED)
    newest = _newest(month)
    if newest is not None and newest.watermark == book_watermark():
        return newest
    job = ReportFigures(month=month, requested_by=actor, requested_at=clock.now())
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        return ReportFigures.objects.get(month=month, status__in=ACTIVE_CLOSE_JOB_STATUSES)
    result = report_figures_task.enqueue(job.pk)
    job.task_id = str(result.id)
    job.save(update_fields=["task_id"])
    return job


def _lock_key(month: dt.date) -> int:
    return month.year * 100 + month.month


def _abandoned(job: ReportFigures) -> bool:
    if job.status != MonthCloseJobStatus.RUNNING:
        return False  # queued: a worker will take it
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s"
                " AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname ="
                " current_database()))",
                [ADVISORY_CLASS, _lock_key(job.month)],
            )
            return not cursor.fetchone()[0]
    return job.started_at is not None and clock.now() - job.started_at > STALE_AFTER


@contextmanager
def _refresh_lock(month: dt.date):
    """Hold the month's refresh lock for the run (PostgreSQL; session-level, dropped by the server if the worker
    dies: that is how a request tells an abandoned refresh)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_CLASS, _lock_key(month)])
    try:
        yield
    finally:
        if connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_CLASS, _lock_key(month)])


@contextmanager
def _snapshot():
    """One snapshot for the watermark and the figures (PostgreSQL, outside a caller's transaction: REPEATABLE READ,
    read only). Elsewhere the watermark, taken first, is at worst older than the figures: they show as changed."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _finish(job: ReportFigures, status: str, message: str, figures: dict | None = None) -> None:
    job.status, job.message, job.finished_at = status, message, clock.now()
    fields = ["status", "message", "finished_at"]
    if figures is not None:
        for name, value in figures.items():
            setattr(job, name, value)
        job.contracts_done = job.contracts_total
        job.rows_written = figures["charge_rows"]
        fields += [*figures, "contracts_done", "rows_written"]
    job.save(update_fields=fields)


@task()
def report_figures_task(figures_id: int) -> dict:
    """The worker's entry: compute a queued refresh (see report_figures_run)."""
    return report_figures_run(figures_id=figures_id)


def report_figures_run(*, figures_id: int) -> dict:
    """Compute a queued refresh's figures and store them with the watermark they were read at."""
    job = ReportFigures.objects.get(pk=figures_id)
    if job.status != MonthCloseJobStatus.QUEUED:
        return {"figures": job.pk, "status": job.status}  # run already (a task delivered twice), or abandoned
    job.status, job.started_at = MonthCloseJobStatus.RUNNING, clock.now()
    job.save(update_fields=["status", "started_at"])
    progress = JobProgressWriter(job)
    try:
        with _refresh_lock(job.month):
            with _snapshot():
                if MonthClose.objects.filter(month=job.month).exists():
                    raise DomainError(
                        f"{wareki_month(job.month)}は締め済みです。集計は締めで記録されています。", code="month_closed"
                    )
                watermark = book_watermark()
                computed_at = clock.now()
                total = OptionContract.objects.filter(in_billing(job.month, clock.month_end(job.month))).count()
                progress(0, total, 0)
                figures = month_figures(month=job.month, progress=lambda rows: progress(min(rows, total), total, rows))
            figures_assert_whole(*(figures[k] for k in _SUMMARY_FIELDS))
            figures.update(watermark=watermark, computed_at=computed_at)
            with transaction.atomic():
                _finish(job, MonthCloseJobStatus.DONE, _done_message(job.month, figures), figures)
    except DomainError as error:
        _finish(job, MonthCloseJobStatus.FAILED, str(error))
        return {"figures": job.pk, "status": job.status, "code": error.code}
    except BaseException:
        _finish(job, MonthCloseJobStatus.FAILED, "集計の途中でエラーが発生しました。集計は記録されていません。")
        raise
    finally:
        progress.close()
    return {"figures": job.pk, "status": job.status, "total_incl_yen": job.total_incl_yen}


def _done_message(month: dt.date, figures: dict) -> str:
    return (
        f"{wareki_month(month)}の速報を集計しました（月額料金 {figures['charge_rows']:,}件、"
        f"税込合計 {figures['total_incl_yen']:,}円）。"
    )
