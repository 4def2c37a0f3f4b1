"""仕訳 (journal lines) of a closed month: the report's money per option × fee kind × tax rate, booked through the
mapping table, with the tax of each rate exactly the report's. Reads only.

Decisions, each kept here:
- Only a closed month has a journal: an open month's figures are 速報 and would change under the file.
- One journal line per option × fee kind × tax rate with money (the report's 集計 lines split by rate), dated the
  month's last day: debit the receivable, credit the sales account, each at the amount with tax (税込) and the
  tax beside it. A negative amount (a refund, an adjustment down) is booked the other way round at its absolute
  value, as the products take no negative amounts.
- Tax: the report rounds once per rate per month (contracts.reports.summary). The lines of a rate share that tax
  by the cumulative rule: line i gets tax(a1+…+ai) − tax(a1+…+a(i-1)), so they add up to the report's tax to
  the yen whatever the rounding of each.
- The mapping used is the one in force at the month's close, or, for a mapping first made after the close, its
  first version: later edits never change a closed month's file, which is byte-identical whenever regenerated.
- A line without a mapping refuses the whole export, naming the option and the kind to map (no partial file).
"""

import datetime as dt
from dataclasses import dataclass

from accounting.models import AccountMapping
from contracts import reports
from contracts.billing.pricing import tax_for
from contracts.choices import LedgerKind
from contracts.reports.layout import KIND_ORDER
from core import clock
from core.errors import DomainError
from core.formats import wareki_month
from options.models import Option

from .choices import JOURNAL_KINDS


@dataclass(frozen=True)
class Mapping:
    """A mapping as the journal reads it (a version from the mapping's history)."""

    debit_account: str
    debit_sub_account: str
    credit_account: str
    credit_sub_account: str
    department: str
    tax_classes: dict[int, str]


@dataclass(frozen=True)
class JournalLine:
    number: int  # 1, 2, … in the file's order
    day: dt.date
    option_name: str
    kind: str
    kind_label: str
    rate_percent: int
    count: int
    amount_yen: int  # tax-exclusive, signed (the report's)
    tax_yen: int  # signed; the rate's lines add up to the report's tax
    mapping: Mapping

    @property
    def gross_yen(self) -> int:
        return self.amount_yen + self.tax_yen

    @property
    def reversed(self) -> bool:
        """Booked the other way round (credit the receivable), at absolute values."""
        return self.gross_yen < 0 or (self.gross_yen == 0 and self.amount_yen < 0)

    @property
    def tax_class(self) -> str:
        return self.mapping.tax_classes[self.rate_percent]


@dataclass(frozen=True)
class Journal:
    month: dt.date
    lines: list[JournalLine]
    rates: dict[int, tuple[int, int]]  # rate → (amount, tax), the report's

    @property
    def total_tax_yen(self) -> int:
        return sum(line.tax_yen for line in self.lines)


def missing_mapping_message(option_name: str, kind_label: str) -> str:
    return (
        f"「{option_name}」の「{kind_label}」に勘定科目の対応が登録されていないため、仕訳を出力できません。"
        "勘定科目の対応の画面で登録してください。"
    )


def journal_of(*, month: dt.date) -> Journal:
    """Return the journal of the closed `month`; a month not closed, or a line without a mapping, is refused."""
    month = clock.month_start(month)
    report = reports.monthly_report(month=month)
    if not report.is_closed:
        raise DomainError(
            f"{wareki_month(month)}は締められていないため、仕訳を出力できません（仕訳は締め済みの月だけです）。",
            code="journal_month_open",
        )
    amounts = {key: value for key, value in report.amounts_by_rate.items() if value[1] != 0}
    options = Option.objects.select_related("section").in_bulk({key[0] for key in amounts})
    mappings = mappings_at_close(report.close, {(o, k) for o, k, _r in amounts})
    ordered = sorted(
        amounts.items(),
        key=lambda item: (
            item[0][2],
            options[item[0][0]].section.number,
            options[item[0][0]].name,
            item[0][0],
            KIND_ORDER[item[0][1]],
        ),
    )
    for (option_id, kind, _rate), _value in ordered:
        if (option_id, kind) not in mappings:
            raise DomainError(
                missing_mapping_message(options[option_id].name, LedgerKind(kind).label), code="mapping_missing"
            )
    lines: list[JournalLine] = []
    running: dict[int, int] = {}
    day = clock.month_end(month)
    for (option_id, kind, rate), (count, amount) in ordered:
        before = running.get(rate, 0)
        running[rate] = before + amount
        tax = tax_for(amount_yen=running[rate], rate_percent=rate) - tax_for(amount_yen=before, rate_percent=rate)
        lines.append(
            JournalLine(
                number=len(lines) + 1,
                day=day,
                option_name=options[option_id].name,
                kind=kind,
                kind_label=LedgerKind(kind).label,
                rate_percent=rate,
                count=count,
                amount_yen=amount,
                tax_yen=tax,
                mapping=mappings[(option_id, kind)],
            )
        )
    rates = {r.rate_percent: (r.amount_yen, r.tax_yen) for r in report.summary.rates}
    return Journal(month, lines, rates)


def mappings_at_close(close, keys: set[tuple[int, str]]) -> dict[tuple[int, str], Mapping]:
    """The mapping of each (option, kind) as it stood at `close`, or, made after it, as first saved."""
    history = AccountMapping.history.model
    rows = (
        history.objects.filter(option_id__in={o for o, _k in keys}, kind__in=[k.value for k in JOURNAL_KINDS])
        .order_by("option_id", "kind", "history_date", "history_id")
        .values(
            "option_id",
            "kind",
            "history_date",
            "debit_account",
            "debit_sub_account",
            "credit_account",
            "credit_sub_account",
            "department",
            "tax_class_10",
            "tax_class_8",
            "tax_class_5",
        )
    )
    found: dict[tuple[int, str], Mapping] = {}
    settled: set[tuple[int, str]] = set()
    for row in rows:
        key = (row["option_id"], row["kind"])
        if key not in keys or key in settled:
            continue
        at_or_before = row["history_date"] <= close.closed_at
        if key not in found or at_or_before:
            found[key] = Mapping(
                row["debit_account"],
                row["debit_sub_account"],
                row["credit_account"],
                row["credit_sub_account"],
                row["department"],
                {10: row["tax_class_10"], 8: row["tax_class_8"], 5: row["tax_class_5"]},
            )
        if not at_or_before:
            settled.add(key)  # the first version after the close ends the search
    return found
