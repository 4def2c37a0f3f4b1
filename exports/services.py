"""Every write of the exports app: asking for a file, the job's one transition function, the task that writes the
file into the database, asking again after a failure, pruning old files, and the export log.

Decisions, each kept here:
- Asking returns at once: the job and its task row are written in one transaction (a worker sees both or
  neither). Asking again for the same file (same requester, kind and parameters) while it is queued or running
  returns that job (a double click is not an error); the partial unique constraint export_job_one_active_per_request
  is the last line behind it.
- The file is written in one transaction (REPEATABLE READ on PostgreSQL, so the sheets of a workbook agree), its
  chunks inserted as they are produced (memory stays at about one chunk), committed at the end; the job is marked
  完了 in a transaction of its own just after. A worker killed before the commit leaves no chunk; one killed
  between the commit and 完了 leaves chunks that the next run deletes first. So a rerun writes the file once,
  from the start, with the same bytes; (job, seq) is unique in the database besides.
- A job left 作成中 by a dead worker is told by the lock its worker holds (PostgreSQL: a session advisory lock,
  released when the worker's connection dies; SQLite: after STALE_AFTER) and marked 中断 when someone asks again;
  then it is queued once more.
- Progress (rows and bytes written) is written after each chunk through a connection of its own (PostgreSQL),
  because the writing transaction is not visible until it commits; on SQLite the page shows start and end.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Mapping

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django_tasks import task

from core import clock
from core.downloads import counting_rows
from core.errors import DomainError
from core.permissions import is_system_user, require_permission

from .choices import ACTIVE_JOB_STATUSES, JOB_TRANSITIONS, ExportJobStatus
from .kinds import kind_of
from .models import CHUNK_BYTES, ExportFileChunk, ExportJob, ExportLog

# The session-level advisory lock (class, job id) a worker holds while it writes a job's file.
ADVISORY_CLASS = 8202
STALE_AFTER = dt.timedelta(minutes=30)
INTERRUPTED = "中断されました（作成中のワーカーが停止しました）。もう一度作成を依頼してください。"
CRASHED = "作成の途中でエラーが発生しました。ファイルは保存されていません。もう一度作成を依頼してください。"
DOWNLOAD_ANY = "exports.download_any_exportjob"


def params_key(params: dict) -> str:
    return json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@transaction.atomic(durable=True)
def export_job_request(*, kind: str, data: Mapping, actor) -> ExportJob:
    """Queue the file `kind` with the parameters in `data` (the direct download's query names) for a worker and
    return its job (the queued or running one of the same request, if there is one)."""
    spec = kind_of(kind)
    require_permission(actor, spec.permission, action=f"{spec.label}を出力する")
    params = spec.clean(data)
    key = params_key(params)
    active = (
        ExportJob.objects.select_for_update()
        .filter(requested_by=actor, kind=spec.key, params_key=key, status__in=ACTIVE_JOB_STATUSES)
        .first()
    )
    if active is not None:
        if not export_job_abandoned(active):
            return active
        export_job_transition(active, ExportJobStatus.ABORTED, message=INTERRUPTED, finished_at=clock.now())
    job = ExportJob(kind=spec.key, params=params, params_key=key, requested_by=actor, requested_at=clock.now())
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # Another request queued it between our read and our write: theirs is the job.
        return ExportJob.objects.get(requested_by=actor, kind=spec.key, params_key=key, status__in=ACTIVE_JOB_STATUSES)
    _enqueue(job)
    return job


@transaction.atomic(durable=True)
def export_job_retry(*, job: ExportJob, actor) -> ExportJob:
    """Queue a failed or interrupted job (or one whose worker died) once more; its file is written from the start."""
    job = ExportJob.objects.select_for_update().get(pk=job.pk)
    require_job_access(job, actor)
    if job.status == ExportJobStatus.RUNNING and export_job_abandoned(job):
        export_job_transition(job, ExportJobStatus.ABORTED, message=INTERRUPTED, finished_at=clock.now())
    if job.status not in (ExportJobStatus.FAILED, ExportJobStatus.ABORTED):
        raise DomainError(f"この依頼は{job.get_status_display()}のため、やり直せません。", code="job_not_retryable")
    try:
        with transaction.atomic():
            export_job_transition(job, ExportJobStatus.QUEUED, message="", finished_at=None)
    except IntegrityError:
        message = "同じ条件の依頼が待機中か作成中です。そちらの結果をお待ちください。"
        raise DomainError(message, code="job_active") from None
    _enqueue(job)
    return job


def export_job_transition(job: ExportJob, status: str, **fields) -> ExportJob:
    """The one way a job changes state (JOB_TRANSITIONS), with the fields that change with it."""
    if status not in JOB_TRANSITIONS[job.status]:
        raise DomainError(
            f"作成依頼を「{job.get_status_display()}」から「{ExportJobStatus(status).label}」にはできません。",
            code="job_transition",
        )
    job.status = status
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["status", *fields])
    return job


def require_job_access(job: ExportJob, actor) -> None:
    """Only the requester (or whoever may download any job's file: システム管理者), with the kind's permission."""
    spec = kind_of(job.kind)
    require_permission(actor, spec.permission, action=f"{spec.label}を出力する")
    if job.requested_by_id != actor.pk and not is_system_user(actor) and not actor.has_perm(DOWNLOAD_ANY):
        raise DomainError("この作成依頼は依頼した職員（とシステム管理者）だけが扱えます。", code="not_requester")


def _enqueue(job: ExportJob) -> None:
    result = export_job_task.enqueue(job.pk)
    job.task_id = str(result.id)
    job.save(update_fields=["task_id"])


def export_job_abandoned(job: ExportJob) -> bool:
    """Whether a running job's worker is gone (PostgreSQL: nobody holds its lock; SQLite: after STALE_AFTER)."""
    if job.status != ExportJobStatus.RUNNING:
        return False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s"
                " AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname ="
                " current_database()))",
                [ADVISORY_CLASS, job.pk],
            )
            return not cursor.fetchone()[0]
    return job.started_at is None or clock.now() - job.started_at > STALE_AFTER


# --- the task ----------------------------------------------------------------------------------------------


@task()
def export_job_task(job_id: int) -> dict:
    """The worker's entry: write the job's file (see export_job_run)."""
    return export_job_run(job_id=job_id)


def export_job_run(*, job_id: int) -> dict:
    """Write a queued job's file into the database, keeping its progress and result."""
    with transaction.atomic(durable=True):
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ExportJobStatus.QUEUED:
            return {"job": job.pk, "status": job.status}  # run already (a task delivered twice), or interrupted
        now = clock.now()
        export_job_transition(
            job, ExportJobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=job.attempts + 1,
            rows_done=0, bytes_done=0,
        )  # fmt: skip
    _lock(job, take=True)
    try:
        written = _write_file(job)
    except DomainError as error:
        _finish(job, ExportJobStatus.FAILED, message=str(error))
        return {"job": job.pk, "status": ExportJobStatus.FAILED, "code": error.code}
    except BaseException:
        _finish(job, ExportJobStatus.FAILED, message=CRASHED)
        raise
    finally:
        _lock(job, take=False)
    rows = written["row_count"]
    message = f"{written['filename']} を作成しました（{rows:,}行・{written['size']:,}バイト）。"
    _finish(job, ExportJobStatus.DONE, message=message, rows_done=rows, bytes_done=written["size"], **written)
    return {"job": job.pk, "status": ExportJobStatus.DONE, "sha256": written["sha256"]}


def _lock(job: ExportJob, *, take: bool) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        function = "pg_advisory_lock" if take else "pg_advisory_unlock"
        cursor.execute(f"SELECT {function}(%s, %s)", [ADVISORY_CLASS, job.pk])


@transaction.atomic(durable=True)
def _finish(job: ExportJob, status: str, **fields) -> None:
    current = ExportJob.objects.select_for_update().get(pk=job.pk)
    export_job_transition(current, status, finished_at=clock.now(), **fields)
    job.refresh_from_db()


def _write_file(job: ExportJob) -> dict:
    spec = kind_of(job.kind)
    # As the staff member who asked: a role changed since is refused here, with the service's message.
    require_job_access(job, job.requested_by)
    progress = _Progress(job)
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic(), counting_rows() as tally:
            if outermost and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            ExportFileChunk.objects.filter(job=job).delete()  # what a worker killed after its commit left
            name, content_type, chunks = spec.produce(job.params)
            writer = _ChunkWriter(job)
            # Closed whatever happens: a producer holds its own transaction open until its generator ends.
            stream = iter(chunks)
            try:
                for chunk in stream:
                    if writer.write(chunk):
                        progress(tally.rows, writer.size)
            finally:
                getattr(stream, "close", lambda: None)()
            writer.flush()
    finally:
        progress.close()
    return {
        "filename": getattr(name, "japanese", str(name)),
        "filename_ascii": str(name),
        "content_type": content_type,
        "size": writer.size,
        "sha256": writer.sha.hexdigest(),
        "row_count": tally.rows,
    }


class _ChunkWriter:
    """Insert the file as rows of about CHUNK_BYTES, in order; hash and measure it on the way."""

    def __init__(self, job: ExportJob):
        self.job, self.seq, self.size = job, 0, 0
        self.sha = hashlib.sha256()
        self.pending: list[bytes] = []
        self.pending_size = 0

    def write(self, chunk: bytes) -> bool:
        chunk = bytes(chunk)
        self.sha.update(chunk)
        self.size += len(chunk)
        self.pending.append(chunk)
        self.pending_size += len(chunk)
        if self.pending_size < CHUNK_BYTES:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        if not self.pending:
            return
        ExportFileChunk.objects.create(job=self.job, seq=self.seq, data=b"".join(self.pending))
        self.seq += 1
        self.pending, self.pending_size = [], 0


class _Progress:
    """Write the job's progress where its page can read it while the file's transaction is still open: through a
    connection of its own, committed at once (PostgreSQL). Elsewhere, and inside a caller's transaction (tests),
    nothing (the page shows the start and the end)."""

    def __init__(self, job: ExportJob):
        self.job = job
        self.separate = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.separate = connections.create_connection(connection.alias)

    def __call__(self, rows: int, size: int) -> None:
        if self.separate is None:
            return
        table = connection.ops.quote_name(ExportJob._meta.db_table)
        with self.separate.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_done = %s, bytes_done = %s, heartbeat_at = %s WHERE id = %s",
                [rows, size, clock.now(), self.job.pk],
            )

    def close(self) -> None:
        if self.separate is not None:
            self.separate.close()


# --- old files ---------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def export_files_prune(*, actor, older_than: dt.timedelta | None = None) -> int:
    """Delete the files of jobs that ended more than `older_than` (settings.EXPORT_FILE_DAYS) ago; the jobs and
    the export log stay. Return how many files were deleted."""
    require_permission(actor, "exports.delete_exportfilechunk", action="作成したファイルを削除する")
    if older_than is None:
        older_than = dt.timedelta(days=settings.EXPORT_FILE_DAYS)
    ended = ExportJob.objects.filter(finished_at__lt=clock.now() - older_than, file_deleted_at__isnull=True)
    ended = ended.exclude(status__in=ACTIVE_JOB_STATUSES)
    job_ids = list(ended.values_list("pk", flat=True))
    ExportFileChunk.objects.filter(job_id__in=job_ids).delete()
    ExportJob.objects.filter(pk__in=job_ids).update(file_deleted_at=clock.now())
    return len(job_ids)


# --- the export log ----------------------------------------------------------------------------------------


def export_log_record(*, actor, **fields) -> ExportLog:
    """Append one download to the export log (exports.middleware calls this for every download)."""
    if not getattr(actor, "is_authenticated", False):
        raise DomainError("ログインしていない利用者の出力は記録できません。", code="anonymous_export")
    return ExportLog.objects.create(at=clock.now(), user=actor, **fields)
