"""The accounting home (経理): each of the last twelve months' state and totals, by option, compared with the month
before, and the chart of them. Reads only.

Where the figures come from, so that the home stays cheap at any size of the book and equals the report to the yen:
- a closed month (確定): its stored 集計 (MonthCloseSummary), which is the month's report's own summary, stored by
  the close (contracts.services.report_figures); a close made before the close stored it, and not backfilled yet
  (manage.py report_figures_backfill), is in `missing` and shown as not known: nothing is written on a visit;
- an open month (速報, 締め待ち): its monthly charges are not priced here (pricing a month at full scale takes
  seconds; the report page computes its 速報). What is shown is what the ledger already holds for it and is cheap
  to sum: the 初期費用 and 一時費用 booked so far, by the report's own summary with no charges.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from contracts.choices import LedgerKind
from contracts.models import MonthClose, MonthCloseSummary
from core import clock

from .as_closed import closes_for
from .summary import booked_obligations

MONTHS_SHOWN = 12
SERIES_COLOURS = 8  # the chart's option colours (static/css/app.css .series-0 … .series-7), reused in turn

PROVISIONAL = "provisional"
AWAITING = "awaiting"
CLOSED = "closed"
NOT_CLOSED = "not_closed"
STATE_LABELS = {
    PROVISIONAL: "速報",
    AWAITING: "締め待ち",
    CLOSED: "確定",
    NOT_CLOSED: "締め対象外",
}
# The chart's bars are narrow: a month without known totals is marked by a shorter word.
CHART_LABELS = {**STATE_LABELS, NOT_CLOSED: "対象外"}


@dataclass(frozen=True)
class Line:
    option_id: int | None
    option_name: str
    kind: str
    kind_label: str
    count: int
    amount_yen: int


@dataclass(frozen=True)
class OptionTotal:
    option_id: int | None
    option_name: str
    amount_yen: int
    previous_yen: int | None  # the month before's, when it is known
    kinds: tuple[tuple[str, str], ...] = ()  # (kind, label) of this month's lines: each drills down to its rows

    @property
    def change_yen(self) -> int | None:
        return None if self.previous_yen is None else self.amount_yen - self.previous_yen


@dataclass
class MonthFigures:
    month: dt.date
    state: str
    close: MonthClose | None = None
    # Known for a closed month whose 集計 is stored; None otherwise.
    total_excl_yen: int | None = None
    total_tax_yen: int | None = None
    total_incl_yen: int | None = None
    lines: list[Line] = field(default_factory=list)
    # An open month: the 初期費用・一時費用 booked so far (its monthly charges come at the close).
    booked_excl_yen: int | None = None
    previous_excl_yen: int | None = None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def chart_label(self) -> str:
        return CHART_LABELS[self.state]

    @property
    def is_known(self) -> bool:
        return self.total_excl_yen is not None

    @property
    def change_yen(self) -> int | None:
        if self.total_excl_yen is None or self.previous_excl_yen is None:
            return None
        return self.total_excl_yen - self.previous_excl_yen

    @property
    def change_percent(self) -> str:
        """「+12.5%」 against the month before (税抜), '' when either is unknown or the month before was 0円."""
        change = self.change_yen
        if change is None or not self.previous_excl_yen:
            return ""
        return f"{change * 100 / abs(self.previous_excl_yen):+.1f}%"

    def by_option(self, previous: "MonthFigures | None") -> list[OptionTotal]:
        """This month's amount per option (all kinds), beside the month before's when it is known."""
        before = _per_option(previous.lines) if previous is not None and previous.is_known else None
        mine = _per_option(self.lines)
        names = {line.option_id: line.option_name for line in self.lines}
        if before is not None:
            names.update({k: v for k, v in _names(previous.lines).items() if k not in names})
        keys = list(mine) + [k for k in (before or {}) if k not in mine]
        kinds: dict[int | None, list[tuple[str, str]]] = defaultdict(list)
        for line in self.lines:
            kinds[line.option_id].append((line.kind, line.kind_label))
        return [
            OptionTotal(k, names[k], mine.get(k, 0), None if before is None else before.get(k, 0), tuple(kinds[k]))
            for k in keys
        ]


def _per_option(lines: list[Line]) -> dict[int | None, int]:
    totals: dict[int | None, int] = defaultdict(int)
    for line in lines:
        totals[line.option_id] += line.amount_yen
    return dict(totals)


def _names(lines: list[Line]) -> dict[int | None, str]:
    return {line.option_id: line.option_name for line in lines}


@dataclass(frozen=True)
class Segment:
    option_id: int | None
    option_name: str
    amount_yen: int
    series: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    figures: MonthFigures
    x: float
    width: float
    label_x: float
    segments: list[Segment]
    top: float  # y of the bar's top (the total's label sits above it)


@dataclass(frozen=True)
class Chart:
    """Monthly totals (税抜) by option as stacked bars, laid out here, drawn by an SVG template."""

    width: int
    height: int
    plot_left: int
    plot_bottom: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, yen) of each grid line
    series: list[tuple[int, str, int | None]]  # (colour, option name, option id) for the legend


@dataclass(frozen=True)
class AccountingOverview:
    months: list[MonthFigures]  # oldest first
    this_month: MonthFigures
    last_month: MonthFigures
    month_before_last: MonthFigures | None
    missing: list[MonthClose]  # closed months whose 集計 is not stored (closed before the close stored it)
    chart: Chart
    latest_known: MonthFigures | None  # the last month whose totals are known (確定): the breakdown's month
    breakdown: list[OptionTotal]  # its amount per option beside the month before's


def _lines(stored: list[list]) -> list[Line]:
    return [Line(o, name, kind, LedgerKind(kind).label, n, yen) for o, name, kind, n, yen in stored]


def _months_back(this_month: dt.date, count: int) -> list[dt.date]:
    months = [this_month]
    while len(months) < count:
        months.append(clock.month_start(months[-1] - dt.timedelta(days=1)))
    return list(reversed(months))


def accounting_overview(*, today: dt.date) -> AccountingOverview:
    """The last MONTHS_SHOWN months up to `today`'s, each with its state and what is known of its totals."""
    this_month = clock.month_start(today)
    months = _months_back(this_month, MONTHS_SHOWN + 1)  # one more: the first shown month's comparison
    closes = {c.month: c for c in MonthClose.objects.filter(month__gte=months[0], month__lte=this_month)}
    summaries = MonthCloseSummary.objects.filter(close__in=closes.values()).select_related("close")
    stored = {s.close.month: s for s in summaries}
    first_close = MonthClose.objects.order_by("month").values_list("month", flat=True).first()
    figures = []
    missing = []
    for month in months:
        close = closes.get(month)
        if month == this_month:
            state = PROVISIONAL
        elif close is not None:
            state = CLOSED
        elif first_close is not None and month < first_close:
            state = NOT_CLOSED
        else:
            state = AWAITING
        f = MonthFigures(month, state, close=close)
        summary_row = stored.get(month)
        if summary_row is not None:
            f.total_excl_yen = summary_row.total_excl_yen
            f.total_tax_yen = summary_row.total_tax_yen
            f.total_incl_yen = summary_row.total_incl_yen
            f.lines = _lines(summary_row.lines)
        elif close is not None:
            missing.append(close)
        figures.append(f)
    for previous, f in zip(figures, figures[1:], strict=False):
        f.previous_excl_yen = previous.total_excl_yen
    for f in figures[-2:]:
        if f.state in (PROVISIONAL, AWAITING):
            booked = booked_obligations(closes_for(f.month))
            f.booked_excl_yen = booked.total_excl_yen
    shown = figures[1:]
    known = [i for i, f in enumerate(figures) if f.is_known and i > 0]
    latest = figures[known[-1]] if known else None
    return AccountingOverview(
        months=shown,
        this_month=shown[-1],
        last_month=shown[-2],
        month_before_last=shown[-3],
        missing=missing,
        chart=_chart(shown),
        latest_known=latest,
        breakdown=latest.by_option(figures[known[-1] - 1]) if latest else [],
    )


CHART_WIDTH, CHART_HEIGHT = 760, 260
PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM, PLOT_RIGHT = 84, 24, 214, 748


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above `value` (the chart's top grid line)."""
    if value <= 0:
        return 1000
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _chart(months: list[MonthFigures]) -> Chart:
    series: dict[int | None, int] = {}
    names: dict[int | None, str] = {}
    for f in months:
        for option_id in _per_option(f.lines):
            if option_id not in series:
                series[option_id] = len(series) % SERIES_COLOURS
            names[option_id] = _names(f.lines)[option_id]
    top = _nice_ceiling(max((max(f.total_excl_yen or 0, 0) for f in months), default=0))
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (PLOT_RIGHT - PLOT_LEFT) / len(months)
    width = slot * 0.62
    bars = []
    for index, f in enumerate(months):
        x = PLOT_LEFT + index * slot + (slot - width) / 2
        y = float(PLOT_BOTTOM)
        segments = []
        for option_id, amount in _per_option(f.lines).items():
            if amount <= 0:
                continue  # a month's net refund of an option is in the table, not stacked below the axis
            height = amount * plot_height / top
            y -= height
            segment = Segment(option_id, names[option_id], amount, series[option_id], round(y, 1), round(height, 1))
            segments.append(segment)
        bars.append(Bar(f, round(x, 1), round(width, 1), round(x + width / 2, 1), segments, round(y, 1)))
    ticks = [(round(PLOT_BOTTOM - plot_height * i / 4, 1), top * i // 4) for i in range(5)]
    legend = [(colour, names[option_id], option_id) for option_id, colour in series.items()]
    return Chart(CHART_WIDTH, CHART_HEIGHT, PLOT_LEFT, PLOT_BOTTOM, bars, ticks, legend)
