"""The month close as a background task (django-tasks, database backend): asked for on the staff screen, run by a
worker (`manage.py db_worker`), its progress and result kept on a MonthCloseJob the page reads.

Decisions, each kept here:
- Asking returns at once: the job and its task row are written in one transaction (a worker sees both or
  neither). A second request for a month whose close is queued or running returns that job (a double click is
  not an error); the partial unique constraint month_close_job_one_active_per_month is the last line behind it.
- The close itself is `month_close_run`: one transaction, so a worker killed half-way leaves nothing written, and
  running the close again gives the same result. A job left "running" by a dead worker is found out when the
  month is asked for again (PostgreSQL: no session holds the month's close lock; SQLite: after STALE_AFTER) and
  marked 中断; the new job closes the month.
- Progress (contracts done / contracts in billing, rows written) is written after each batch through a
  connection of its own (PostgreSQL), because the close's transaction is not visible until it commits. SQLite
  has one writer at a time, so there the job shows its start and its end only.
"""

import datetime as dt
import logging

from django.db import IntegrityError, connection, transaction
from django_tasks import task

from contracts.choices import ACTIVE_CLOSE_JOB_STATUSES, MonthCloseJobStatus
from contracts.models import MonthClose, MonthCloseJob
from core import clock
from core.errors import DomainError
from core.formats import wareki_datetime

from .audit import require_permission
from .job_progress import JobProgressWriter
from .month_close import (
    close_is_running,
    month_close_assert_closable,
    month_close_run,
    month_closed_already_message,
    month_label,
)

logger = logging.getLogger(__name__)

# SQLite has no session lock to tell a dead worker by: a job running longer than this is taken as abandoned.
STALE_AFTER = dt.timedelta(minutes=30)
INTERRUPTED = "中断されました（実行中のワーカーが停止しました）。記帳は取り消されています。もう一度締めてください。"


@transaction.atomic(durable=True)
def month_close_enqueue(*, month: dt.date, actor, preview: dict | None = None) -> MonthCloseJob:
    """Queue the close of `month` for a worker and return its job (the queued or running one, if there is one).

    `preview` is the digest of the preview (仮締め) the close is confirmed on: the run refuses to close when the
    rows it streams differ from it (contracts.services.month_close)."""
    month = clock.month_start(month)
    require_permission(actor, "contracts.close_month", action="月次締めの")
    # Refused at once, in the request, when no pricing is needed to know; an unpriced contract is found by the run.
    closed = MonthClose.objects.filter(month=month).select_related("closed_by").first()
    if closed is not None:
        raise DomainError(month_closed_already_message(closed), code="month_closed")
    month_close_assert_closable(month)
    active = MonthCloseJob.objects.select_for_update().filter(month=month, status__in=ACTIVE_CLOSE_JOB_STATUSES).first()
    if active is not None:
        if not _abandoned(active):
            return active
        _finish(active, MonthCloseJobStatus.FAILED, INTERRUPTED)
    job = MonthCloseJob(month=month, requested_by=actor, requested_at=clock.now(), preview=preview)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # Another request queued it between our read and our write: theirs is the job.
        return MonthCloseJob.objects.get(month=month, status__in=ACTIVE_CLOSE_JOB_STATUSES)
    result = month_close_task.enqueue(job.pk)
    job.task_id = str(result.id)
    job.save(update_fields=["task_id"])
    return job


def _abandoned(job: MonthCloseJob) -> bool:
    if job.status != MonthCloseJobStatus.RUNNING:
        return False  # queued: a worker will take it
    if connection.vendor == "postgresql":
        return not close_is_running(job.month)
    return job.started_at is not None and clock.now() - job.started_at > STALE_AFTER


def _finish(job: MonthCloseJob, status: str, message: str, close=None) -> None:
    job.status, job.message, job.finished_at = status, message, clock.now()
    fields = ["status", "message", "finished_at"]
    if close is not None:
        job.close = close
        job.contracts_done = job.contracts_total
        job.rows_written = close.charge_rows + close.adjustment_rows
        fields += ["close", "contracts_done", "rows_written"]
    job.save(update_fields=fields)


@task()
def month_close_task(job_id: int) -> dict:
    """The worker's entry: run the job's close (see month_close_job_run)."""
    return month_close_job_run(job_id=job_id)


def month_close_job_run(*, job_id: int) -> dict:
    """Run a queued job's close as the staff member who asked for it, keeping its progress and result."""
    job = MonthCloseJob.objects.select_related("requested_by").get(pk=job_id)
    if job.status != MonthCloseJobStatus.QUEUED:
        return {"job": job.pk, "status": job.status}  # run already (a task delivered twice), or abandoned
    job.status, job.started_at = MonthCloseJobStatus.RUNNING, clock.now()
    job.save(update_fields=["status", "started_at"])
    progress = JobProgressWriter(job)
    try:
        result = month_close_run(month=job.month, actor=job.requested_by, progress=progress, expected=job.preview)
    except DomainError as error:
        _finish(job, MonthCloseJobStatus.FAILED, str(error))
        return {"job": job.pk, "status": job.status, "code": error.code}
    except BaseException:
        _finish(job, MonthCloseJobStatus.FAILED, "締めの途中でエラーが発生しました。記帳は取り消されています。")
        raise
    finally:
        progress.close()
    close = result.close
    label = month_label(job.month)
    if result.created:
        message = f"{label}を締めました（月額料金 {close.charge_rows}行・調整 {close.adjustment_rows}行を記帳）。"
    else:
        message = f"{label}は{wareki_datetime(close.closed_at)}に締め済みです。何も記帳していません。"
    _finish(job, MonthCloseJobStatus.DONE, message, close=close)
    return {"job": job.pk, "status": job.status, "close": close.pk, "created": result.created}
