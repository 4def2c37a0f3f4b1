"""Export jobs with their file kept in the database, and the export log (電子帳簿保存法).

The file of a job is stored as ordered chunks of at most CHUNK_BYTES in BinaryField rows, not on local disk (any
app server serves any job) and not as PostgreSQL large objects: chunk rows work the same on SQLite and PostgreSQL,
are deleted with their job (no orphaned objects to lo_unlink), are dumped and replicated like every other row, and
keep memory bounded both ways (one chunk in memory while writing or serving).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.formats import wareki_datetime

from .choices import ACTIVE_JOB_STATUSES, DownloadOutcome, ExportJobStatus, ExportKind

CHUNK_BYTES = 1024 * 1024


class ExportJob(models.Model):
    """A file asked for on a staff screen and written by a task worker: its parameters, state, progress and file.

    Operational state like contracts.MonthCloseJob (updated in place while the task runs, no history); who
    downloaded its file is in the ExportLog. At most one job per requester, kind and parameters is queued or
    running at once (a partial unique constraint): asking twice returns the first.
    """

    kind = models.CharField("種類", max_length=16, choices=ExportKind.choices)
    params = models.JSONField("条件", default=dict)
    params_key = models.CharField("条件（照合用）", max_length=500)
    status = models.CharField("状態", max_length=10, choices=ExportJobStatus.choices, default=ExportJobStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="依頼者"
    )
    requested_at = models.DateTimeField("依頼日時")
    task_id = models.CharField("タスクID", max_length=64, blank=True)
    attempts = models.PositiveIntegerField("実行回数", default=0)
    started_at = models.DateTimeField("開始日時", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最終更新", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    rows_done = models.PositiveBigIntegerField("書いた行数", default=0)
    bytes_done = models.PositiveBigIntegerField("書いたバイト数", default=0)
    filename = models.CharField("ファイル名", max_length=255, blank=True)
    filename_ascii = models.CharField("ファイル名（ASCII）", max_length=255, blank=True)
    content_type = models.CharField("形式", max_length=100, blank=True)
    size = models.PositiveBigIntegerField("大きさ（バイト）", null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    row_count = models.PositiveBigIntegerField("行数", null=True, blank=True)
    file_deleted_at = models.DateTimeField("ファイル削除日時", null=True, blank=True)
    message = models.TextField("結果", blank=True)

    class Meta:
        verbose_name = "ファイルの作成依頼"
        verbose_name_plural = "ファイルの作成依頼"
        ordering = ["-requested_at", "-pk"]
        permissions = [("download_any_exportjob", "他の職員が依頼したファイルをダウンロードできる")]
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by", "kind", "params_key"],
                condition=Q(status__in=ACTIVE_JOB_STATUSES),
                name="export_job_one_active_per_request",
            )
        ]
        indexes = [models.Index(fields=["requested_by", "requested_at", "id"], name="export_job_requester_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename or self.params_key}（{self.get_status_display()}）"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES

    @property
    def has_file(self) -> bool:
        return self.status == ExportJobStatus.DONE and self.file_deleted_at is None


class ExportFileChunk(models.Model):
    """One piece of a job's file, in order; (job, seq) is unique, so a piece is never written twice."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="export_file_chunk_unique_seq")]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.seq}"


class ExportLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("出力記録は追記のみです（変更できません）。")

    def delete(self):
        raise TypeError("出力記録は追記のみです（削除できません）。")


class ExportLog(models.Model):
    """One download of a report, journal, list or job file: who, when, with which parameters, what it held
    (rows, bytes, SHA-256) and whether it reached its end. Append-only (PostgreSQL refuses UPDATE/DELETE)."""

    at = models.DateTimeField("日時")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="職員")
    kind = models.CharField("種類", max_length=16, choices=ExportKind.choices)
    view = models.CharField("画面", max_length=100)
    path = models.CharField("URL", max_length=500)
    query = models.TextField("条件（クエリ文字列）", blank=True)
    params = models.JSONField("条件", default=dict)
    job = models.ForeignKey(
        ExportJob, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="作成依頼"
    )
    filename = models.CharField("ファイル名", max_length=255)
    content_type = models.CharField("形式", max_length=100)
    rows = models.PositiveBigIntegerField("行数")
    size = models.PositiveBigIntegerField("バイト数")
    sha256 = models.CharField("SHA-256", max_length=64)
    outcome = models.CharField("結果", max_length=10, choices=DownloadOutcome.choices)

    objects = ExportLogQuerySet.as_manager()

    class Meta:
        verbose_name = "出力記録"
        verbose_name_plural = "出力記録"
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["at", "id"], name="export_log_at_idx"),
            models.Index(fields=["user", "at", "id"], name="export_log_user_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{wareki_datetime(self.at)} {self.filename}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("出力記録は追記のみです（変更できません）。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("出力記録は追記のみです（削除できません）。")
