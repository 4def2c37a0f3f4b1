"""A closed month's 集計, stored once (contracts.models.MonthCloseSummary) for the accounting home and the report page.

The figures are the month's report's own, read by contracts.services.report_figures (by the close, in its
transaction, or by the backfill of closes made before the close stored them): this module only checks that they
are whole and add up, and appends them. Storing a month twice returns the row already there.
"""

from django.db import IntegrityError, transaction

from contracts.models import MonthClose, MonthCloseSummary
from core import clock
from core.errors import DomainError
from core.transactions import durable_service

from .audit import require_permission


def figures_assert_whole(
    lines: list[tuple[int, str, str, int, int]],
    rates: list[tuple[int, int, int]],
    total_excl_yen: int,
    total_tax_yen: int,
    total_incl_yen: int,
) -> None:
    """Refuse figures that are not whole yen or do not add up (stored 集計: a close's or a 速報's)."""
    values = [v for line in lines for v in (line[0], line[3], line[4])] + [v for rate in rates for v in rate]
    values += [total_excl_yen, total_tax_yen, total_incl_yen]
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise DomainError("集計の金額・件数は整数（円）で指定してください。", code="summary_not_whole_yen")
    if sum(rate[1] for rate in rates) != total_excl_yen or sum(rate[2] for rate in rates) != total_tax_yen:
        raise DomainError("税率ごとの金額の和が合計と一致しません。", code="summary_rates_mismatch")
    if total_excl_yen + total_tax_yen != total_incl_yen:
        raise DomainError("税込合計が税抜合計と消費税合計の和と一致しません。", code="summary_total_mismatch")


@durable_service
def month_summary_record(
    *,
    close: MonthClose,
    lines: list[tuple[int, str, str, int, int]],
    rates: list[tuple[int, int, int]],
    total_excl_yen: int,
    total_tax_yen: int,
    total_incl_yen: int,
    actor,
) -> MonthCloseSummary:
    """Append the 集計 of `close`'s month: lines (option id, option name, kind, count, yen) and tax rates (rate %,
    yen, tax yen), as the month's report gives them."""
    require_permission(actor, "contracts.export_report", action="締め月の集計を記録する")
    return month_summary_append(
        close=close,
        lines=lines,
        rates=rates,
        total_excl_yen=total_excl_yen,
        total_tax_yen=total_tax_yen,
        total_incl_yen=total_incl_yen,
        actor=actor,
    )


def month_summary_append(
    *,
    close: MonthClose,
    lines: list[tuple[int, str, str, int, int]],
    rates: list[tuple[int, int, int]],
    total_excl_yen: int,
    total_tax_yen: int,
    total_incl_yen: int,
    actor,
) -> MonthCloseSummary:
    """`month_summary_record` in the caller's transaction, its permission checked by the caller (the close)."""
    existing = MonthCloseSummary.objects.filter(close=close).first()
    if existing is not None:
        return existing
    figures_assert_whole(lines, rates, total_excl_yen, total_tax_yen, total_incl_yen)
    summary = MonthCloseSummary(
        close=close,
        lines=[list(line) for line in lines],
        rates=[list(rate) for rate in rates],
        total_excl_yen=total_excl_yen,
        total_tax_yen=total_tax_yen,
        total_incl_yen=total_incl_yen,
        recorded_at=clock.now(),
        recorded_by=actor,
    )
    try:
        with transaction.atomic():
            summary.save()
    except IntegrityError:
        return MonthCloseSummary.objects.get(close=close)
    return summary
