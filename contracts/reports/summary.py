"""集計 of the monthly report: totals per option × kind, per tax rate, and the month's totals."""

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce, TruncDate

from contracts.billing.pricing import tax_for, tax_rate_on
from contracts.choices import LedgerKind
from contracts.models import LedgerEntry
from core import clock
from options.models import Option

from .as_closed import Closes, ledger_scope_each, option_names
from .charge_rows import ChargeTally
from .layout import BILLED_OBLIGATION_KINDS, KIND_ORDER

if TYPE_CHECKING:
    from .selectors import MonthlyReport


@dataclass(frozen=True)
class SummaryLine:
    option_name: str
    kind: str
    kind_label: str
    count: int
    amount_yen: int
    option_id: int | None = None  # the drill-down's filter (the accounting home)


@dataclass(frozen=True)
class RateLine:
    rate_percent: int
    amount_yen: int
    tax_yen: int


@dataclass(frozen=True)
class Summary:
    lines: list[SummaryLine]
    rates: list[RateLine]
    total_excl_yen: int
    total_tax_yen: int
    total_incl_yen: int


def amounts_by_rate(closes: Closes, charges: ChargeTally) -> dict[tuple[int, str, int], list[int]]:
    """Return the month's money per option × kind × tax rate as [count, yen]: what 集計 and the journals add up.

    The charged date of an initial or one-time fee is the JST date it arose (for a reversal, the date its
    original arose: a refund gives back the tax that was charged); of a monthly charge or an adjustment, the
    month it charges. The rate is the one in force on that date (§3.10).
    """
    amounts: dict[tuple[int, str, int], list[int]] = defaultdict(lambda: [0, 0])
    billed = LedgerEntry.objects.filter(kind__in=BILLED_OBLIGATION_KINDS)
    for part in ledger_scope_each(closes, billed):  # disjoint parts, each by its index, added up
        grouped = (
            part.values(
                option_id=F("fee_item__option_id"),
                ledger_kind=F("kind"),
                day=TruncDate(Coalesce("reverses__arisen_at", "arisen_at"), tzinfo=clock.JST),
            )
            .annotate(n=Count("pk"), amount=Sum("amount_yen"))
            .order_by()
        )
        for row in grouped:
            totals = amounts[(row["option_id"], row["ledger_kind"], tax_rate_on(row["day"]))]
            totals[0] += row["n"]
            totals[1] += row["amount"]
    for (option_id, kind, charge_month), (count, amount) in charges.per_line_month.items():
        totals = amounts[(option_id, kind, tax_rate_on(charge_month))]
        totals[0] += count
        totals[1] += amount
    return amounts


def summary(closes: Closes, charges: ChargeTally) -> Summary:
    """Return 集計: per option × kind, per tax rate (amounts_by_rate) and totals.

    Tax is rounded down once per rate on the report total (適格請求書等保存方式: one rounding per rate per
    document); the journals allocate exactly that tax to their lines (accounting.journals). `charges` is 月額
    counted and summed (a whole pass over it, or a closed month's GROUP BY).
    """
    assert charges.complete, "集計 needs the whole of 月額"
    per_line: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    per_rate: dict[int, int] = defaultdict(int)
    for (option_id, kind, rate), (count, amount) in amounts_by_rate(closes, charges).items():
        totals = per_line[(option_id, kind)]
        totals[0] += count
        totals[1] += amount
        per_rate[rate] += amount

    options = Option.objects.select_related("section").in_bulk({option_id for option_id, _kind in per_line})
    names = option_names(closes, options)
    ordered = sorted(
        per_line.items(),
        key=lambda item: (
            options[item[0][0]].section.number,
            names[item[0][0]],
            item[0][0],
            KIND_ORDER[item[0][1]],
        ),
    )
    lines = [
        SummaryLine(names[option_id], kind, LedgerKind(kind).label, count, amount, option_id)
        for (option_id, kind), (count, amount) in ordered
    ]
    rates = [
        RateLine(rate, amount, tax_for(amount_yen=amount, rate_percent=rate))
        for rate, amount in sorted(per_rate.items())
    ]
    total_excl = sum(r.amount_yen for r in rates)
    total_tax = sum(r.tax_yen for r in rates)
    return Summary(lines, rates, total_excl, total_tax, total_excl + total_tax)


def booked_obligations(closes: Closes) -> Summary:
    """集計 of what the ledger already holds for an open month without its 月額 (its 初期費用 and 一時費用, with
    their tax): cheap at any size of the book, because the month's charges are not priced."""
    nothing = ChargeTally()
    nothing.finish()
    return summary(closes, nothing)


def summary_table(report: "MonthlyReport") -> list[tuple]:
    """Return 集計 as rows in SUMMARY_COLUMNS order, as the CSV and the XLSX sheet write it."""
    s = report.summary
    rows: list[tuple] = [
        ("内訳", line.option_name, line.kind_label, None, line.count, line.amount_yen) for line in s.lines
    ]
    for rate in s.rates:
        rows.append((f"税抜金額（{rate.rate_percent}%対象）", None, None, rate.rate_percent, None, rate.amount_yen))
        rows.append((f"消費税（{rate.rate_percent}%）", None, None, rate.rate_percent, None, rate.tax_yen))
    rows.append(("税抜合計", None, None, None, None, s.total_excl_yen))
    rows.append(("消費税合計", None, None, None, None, s.total_tax_yen))
    rows.append(("税込合計", None, None, None, None, s.total_incl_yen))
    rows.append(("状態", report.export_status_label, None, None, None, None))
    if report.unpriced:
        rows.append(
            (
                "未計算の契約",
                "料金細目・見積額の未登録などで月額料金を計算できない契約",
                None,
                None,
                len(report.unpriced),
                None,
            )
        )
    return rows
