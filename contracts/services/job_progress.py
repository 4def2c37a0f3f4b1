"""A background job's progress, written where its page can read it while the job's own transaction is still open."""

from django.db import connection, connections

from contracts.models import MonthCloseJob, ReportFigures


class JobProgressWriter:
    """Write the job's progress where the page can read it while the job's transaction is still open: through a
    connection of its own, committed at once (PostgreSQL). Elsewhere, and inside a caller's transaction (tests),
    on the job in memory only. Any job with contracts_done, contracts_total and rows_written (a close, a refresh of
    the 速報's figures)."""

    def __init__(self, job: MonthCloseJob | ReportFigures):
        self.job = job
        self.separate = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.separate = connections.create_connection(connection.alias)

    def __call__(self, done: int, total: int, written: int) -> None:
        job = self.job
        job.contracts_done, job.contracts_total, job.rows_written = done, total, written
        if self.separate is None:
            return
        table = connection.ops.quote_name(type(job)._meta.db_table)
        with self.separate.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET contracts_done = %s, contracts_total = %s, rows_written = %s WHERE id = %s",
                [done, total, written, job.pk],
            )

    def close(self) -> None:
        if self.separate is not None:
            self.separate.close()
        if self.job.contracts_total:
            self.job.save(update_fields=["contracts_done", "contracts_total", "rows_written"])
