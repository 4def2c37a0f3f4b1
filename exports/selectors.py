"""Reads of the exports app: a job's file as stored, one chunk in memory at a time; the jobs a user may see."""

from collections.abc import Iterator

from .models import ExportFileChunk, ExportJob


def job_file_chunks(job: ExportJob) -> Iterator[bytes]:
    """Yield the job's file chunk by chunk (one query per chunk: no transaction held open while a slow client
    reads, and never more than one chunk in memory)."""
    for pk in list(job.chunks.order_by("seq").values_list("pk", flat=True)):
        yield bytes(ExportFileChunk.objects.values_list("data", flat=True).get(pk=pk))


def jobs_of(user, *, limit: int = 20):
    """The user's latest jobs, newest first."""
    return ExportJob.objects.filter(requested_by=user).order_by("-requested_at", "-pk")[:limit]
