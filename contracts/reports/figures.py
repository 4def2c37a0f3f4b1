"""The report page's figures, read and never computed on a visit (issue 14: the page at any size of the book).

- A closed month: its 集計 stored by its close (MonthCloseSummary, written in the close's transaction from the
  month's report itself: `month_figures`); 月額's count is its lines' count of charge kinds.
- An open month (速報): the newest figures a refresh computed (ReportFigures, by a task worker: `month_figures`
  over the streamed 月額), with when they were computed and whether the book changed since (a watermark of
  last ids: contracts.billing.watermarks). Never shown as current when it is not.

`month_figures` is the one computation of what is stored: the month's report's own 集計 (contracts.reports), with
its 月額 count and the contracts it cannot price, read in one pass over the streamed 月額.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q

from contracts.billing.charges import Unpriced, contract_charges
from contracts.billing.watermarks import book_watermark, changed_since
from contracts.choices import ACTIVE_CLOSE_JOB_STATUSES, LedgerKind, MonthCloseJobStatus
from contracts.models import LedgerEntry, MonthClose, MonthCloseSummary, ReportFigures
from core import clock

from .charge_rows import charge_rows_of_lines, frozen_charge_queryset, frozen_rows
from .layout import CHARGE_KINDS
from .selectors import monthly_report
from .summary import RateLine, Summary, SummaryLine

UNPRICED_KEPT = 100  # contracts that cannot be priced named in stored figures; the rest are counted
PROGRESS_EVERY = 2000  # 月額 rows between two progress reports of a refresh

# The parts of the book a refresh watches, as staff read them when it changed since.
CHANGED_LABELS = {
    "ledger": "支払義務台帳",
    "closes": "月次締め",
    "contracts": "オプション契約",
    "terms": "契約条件",
    "subscribers": "契約者",
    "options": "オプション",
    "variants": "サービス・細目",
    "revisions": "改定",
    "fee_items": "料金細目",
    "successions": "承継",
}


def summary_values(report_summary: Summary) -> dict:
    """A month's report summary as it is stored (MonthCloseSummary, ReportFigures): JSON lists and whole yen."""
    return {
        "lines": [
            (line.option_id, line.option_name, line.kind, line.count, line.amount_yen) for line in report_summary.lines
        ],
        "rates": [(rate.rate_percent, rate.amount_yen, rate.tax_yen) for rate in report_summary.rates],
        "total_excl_yen": report_summary.total_excl_yen,
        "total_tax_yen": report_summary.total_tax_yen,
        "total_incl_yen": report_summary.total_incl_yen,
    }


def stored_summary(stored: MonthCloseSummary | ReportFigures) -> Summary:
    """The Summary a stored row holds (the inverse of `summary_values`)."""
    return Summary(
        lines=[
            SummaryLine(name, kind, LedgerKind(kind).label, count, yen, option_id)
            for option_id, name, kind, count, yen in stored.lines
        ],
        rates=[RateLine(rate, yen, tax) for rate, yen, tax in stored.rates],
        total_excl_yen=stored.total_excl_yen,
        total_tax_yen=stored.total_tax_yen,
        total_incl_yen=stored.total_incl_yen,
    )


def charge_count(summary: Summary) -> int:
    """月額's rows: its lines of the charge kinds (what ChargeTally.rows counted)."""
    return sum(line.count for line in summary.lines if line.kind in CHARGE_KINDS)


# Called every PROGRESS_EVERY rows with (月額 rows read so far).
Progress = Callable[[int], None]


def month_figures(*, month: dt.date, progress: Progress | None = None) -> dict:
    """The month's figures as stored: its report's 集計 (summary_values), 月額's row count, and the contracts it
    cannot price (the first UNPRICED_KEPT, and how many). One pass over the streamed 月額 (bounded memory); a closed
    month's is one GROUP BY of its frozen rows."""
    report = monthly_report(month=month)
    if report.is_provisional:
        rows = 0
        for rows, _row in enumerate(report.charge_rows, start=1):  # noqa: B007 — the pass leaves its tally
            if progress is not None and rows % PROGRESS_EVERY == 0:
                progress(rows)
    unpriced = report.unpriced
    return {
        **summary_values(report.summary),
        "charge_rows": report.charge_tally.rows,
        "unpriced_count": len(unpriced),
        "unpriced": [
            [u.option_contract_id, u.subscriber_code, u.day.isoformat(), u.message, u.article]
            for u in unpriced[:UNPRICED_KEPT]
        ],
    }


@dataclass
class PageFigures:
    """What the report page shows of a month's figures, all of it read from stored rows."""

    month: dt.date
    close: MonthClose | None
    summary: Summary | None = None
    charge_count: int = 0
    unpriced: list[Unpriced] = field(default_factory=list)
    unpriced_count: int = 0
    computed_at: dt.datetime | None = None  # an open month's: when its figures were read
    changed: list[str] = field(default_factory=list)  # an open month's: what changed in the book since
    refresh: ReportFigures | None = None  # an open month's refresh queued or running
    last_failed: ReportFigures | None = None  # an open month's last refresh, when it failed

    @property
    def is_closed(self) -> bool:
        return self.close is not None

    @property
    def is_current(self) -> bool:
        """Closed: always (frozen). Open: figures exist and nothing they read has changed since."""
        return self.summary is not None and (self.is_closed or not self.changed)

    @property
    def changed_labels(self) -> str:
        return "・".join(CHANGED_LABELS.get(name, name) for name in self.changed)


def _unpriced(stored: ReportFigures) -> list[Unpriced]:
    return [
        Unpriced(contract_id, code, dt.date.fromisoformat(day), message, article)
        for contract_id, code, day, message, article in stored.unpriced
    ]


def report_page_figures(*, month: dt.date) -> PageFigures:
    """The stored figures of `month` for the report page: a handful of queries, whatever the size of the book."""
    month = clock.month_start(month)
    close = MonthClose.objects.filter(month=month).select_related("closed_by").first()
    figures = PageFigures(month, close)
    if close is not None:
        stored = MonthCloseSummary.objects.filter(close=close).first()
        if stored is not None:
            figures.summary = stored_summary(stored)
            figures.charge_count = charge_count(figures.summary)
        return figures
    rows = ReportFigures.objects.filter(month=month)
    done = rows.filter(status=MonthCloseJobStatus.DONE).order_by("-computed_at", "-pk").first()
    if done is not None:
        figures.summary = stored_summary(done)
        figures.charge_count = done.charge_rows
        figures.unpriced = _unpriced(done)
        figures.unpriced_count = done.unpriced_count
        figures.computed_at = done.computed_at
        figures.changed = changed_since(done.watermark, book_watermark())
    latest = rows.exclude(pk=done.pk if done else None).select_related("requested_by").order_by("-requested_at", "-pk")
    latest = latest.first()
    if latest is not None and latest.status in ACTIVE_CLOSE_JOB_STATUSES:
        figures.refresh = latest
    elif (
        latest is not None
        and latest.status == MonthCloseJobStatus.FAILED
        and (done is None or latest.requested_at > done.requested_at)
    ):
        figures.last_failed = latest
    return figures


ROWS_PER_PAGE = 50


@dataclass(frozen=True)
class RowsPage:
    """One page of the month's 月額料金 rows on the report page: never the whole month built."""

    rows: list
    after: int  # where this page starts (0: the first page)
    next_after: int | None  # where the next page starts, None on the last page

    @property
    def is_first(self) -> bool:
        return self.after == 0


def charge_rows_page(*, month: dt.date, after: int = 0, size: int | None = None) -> RowsPage:
    """A page of the month's 月額料金 (MONTHLY_CHARGE) rows in contract order, read by keyset from an index, so that
    any page costs what the first does at any size of the book: a closed month's frozen rows after ledger row
    `after` (the close writes them contract by contract); an open month's charges computed for the contracts after
    contract `after` only. Adjustments and contracts that cannot be priced are in the figures and the downloads."""
    size = size or ROWS_PER_PAGE
    report = monthly_report(month=month)
    if report.is_closed:
        # The page's ids first, from the ledger's month index alone, then their columns: the joins and names of the
        # report's query run on those rows only, whatever the planner's statistics say right after a close.
        ids = list(
            LedgerEntry.objects.filter(
                booked_month=report.month,
                kind=LedgerKind.MONTHLY_CHARGE,
                pk__gt=after,
                pk__lte=report.close.ledger_watermark,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[: size + 1]
        )
        rows = list(frozen_rows(frozen_charge_queryset(report.closes).filter(pk__in=ids).order_by("pk"))) if ids else []
        more = len(rows) > size
        rows = rows[:size]
        return RowsPage(rows, after, rows[-1].ledger_id if more else None)
    lines = []
    more = False
    for result in contract_charges(
        first_month=report.month, last_month=report.month, contracts=Q(pk__gt=after), chunk_size=size + 1
    ):
        if len(lines) >= size:
            more = True
            break
        lines.extend(result.lines)
    rows = charge_rows_of_lines(lines)
    return RowsPage(rows, after, rows[-1].option_contract_id if more and rows else None)
