"""The export job's states and their one transition map; the kinds of file; how a download ended."""

from django.db import models


class ExportJobStatus(models.TextChoices):
    QUEUED = "queued", "待機中"
    RUNNING = "running", "作成中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"
    ABORTED = "aborted", "中断"


# 失敗 and 中断 may be asked again: the same job is queued once more (its file is written from the start).
JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    ExportJobStatus.QUEUED: frozenset({ExportJobStatus.RUNNING, ExportJobStatus.ABORTED}),
    ExportJobStatus.RUNNING: frozenset({ExportJobStatus.DONE, ExportJobStatus.FAILED, ExportJobStatus.ABORTED}),
    ExportJobStatus.DONE: frozenset(),
    ExportJobStatus.FAILED: frozenset({ExportJobStatus.QUEUED}),
    ExportJobStatus.ABORTED: frozenset({ExportJobStatus.QUEUED}),
}
ACTIVE_JOB_STATUSES = (ExportJobStatus.QUEUED, ExportJobStatus.RUNNING)


class ExportKind(models.TextChoices):
    REPORT = "report", "月次レポート"
    IMPACT = "impact", "改定の影響"
    JOURNAL = "journal", "仕訳"
    LIST = "list", "一覧"
    OTHER = "other", "その他"


class DownloadOutcome(models.TextChoices):
    # The values are core.downloads' DONE, ABORTED, FAILED.
    DONE = "done", "完了"
    ABORTED = "aborted", "中断"
    FAILED = "failed", "失敗"
