"""月次レポート (monthly report): the stable read API the report page and the commands call. Reads and formats
only; the month close, which writes, is contracts.services.month_close.

    monthly_report(*, month: date) -> MonthlyReport
        .month, .is_closed, .is_provisional (速報), .close (MonthClose | None),
        .detail_rows (lazy values queryset of 明細; iterate inside transaction.atomic() with .iterator()),
        .charge_rows (iterator of ChargeRow, 月額, streamed in the report's order; a new pass each time),
        .charge_tally (月額 counted and summed), .unpriced, .summary (Summary, 集計)

    export_response_chunks(*, month: date, fmt: str, part: str | None = None, replacement: str | None = None)
        -> (filename, content_type, iterator of bytes); filename is a core.downloads.DownloadName: ASCII, with
        its Japanese name in `.japanese` (the download view sends both, RFC 6266)
        fmt: "csv" (UTF-8 with BOM, default), "csv-cp932" or "xlsx" (the three sheets).
        part: for CSV, "detail" (default), "charges" or "summary"; must be None for XLSX.
        replacement: for csv-cp932 only, what replaces a character cp932 cannot hold; without it such a
        character is a DomainError naming the record, raised here, before the first byte.
        Feed the iterator to StreamingHttpResponse; it opens its own transaction and reads with a
        server-side cursor.

Every function raises core.errors.DomainError (Japanese message) for what staff can get wrong.
"""

import datetime as dt


def monthly_report(*, month: dt.date):
    from .selectors import monthly_report as _monthly_report

    return _monthly_report(month=month)


def export_response_chunks(
    *, month: dt.date, fmt: str = "csv", part: str | None = None, replacement: str | None = None
):
    from .exports import export_response_chunks as _export

    return _export(month=month, fmt=fmt, part=part, replacement=replacement)
