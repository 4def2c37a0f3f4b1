"""Reads of the monthly report (月次レポート): 明細, 月額 and 集計 of a JST month.

An open month is computed on the fly and is 速報 (provisional). A closed month reads only what its close
froze: ledger rows up to the close's ledger watermark (its MONTHLY_CHARGE and ADJUSTMENT rows among them) and
subscribers as they were at the close, so it gives the same bytes whenever it is regenerated (DOMAIN §3.11).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from contracts.billing.charges import ChargeLine, Unpriced, adjustment_lines, contract_charges
from contracts.billing.pricing import tax_for, tax_rate_on
from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, MonthClose, Subscriber
from core import clock
from options.models import FeeItem, Option, OptionVariant

# Column types: how a value is written to CSV and to an XLSX cell.
TEXT, INT, YEN, DATE, DATETIME = "text", "int", "yen", "date", "datetime"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: str
    width: int = 12  # XLSX column width, in characters


# 明細: the obligations booked in the month (and reversals made in it). Keys are the detail queryset's names.
DETAIL_COLUMNS = (
    Column("c_ledger_no", "台帳番号", INT, 10),
    Column("c_booked_month", "計上月", DATE, 11),
    Column("c_arisen_at", "発生日時", DATETIME, 19),
    Column("c_subscriber_code", "契約者コード", TEXT, 12),
    Column("c_subscriber_name", "契約者名", TEXT, 28),
    Column("c_option", "オプション", TEXT, 36),
    Column("c_variant", "サービス・細目", TEXT, 36),
    Column("c_kind", "種別", TEXT, 18),
    Column("c_quantity", "数量", INT, 7),
    Column("c_blocks", "単位数", INT, 7),
    Column("c_unit_amount", "単価（円）", YEN, 12),
    Column("c_amount", "金額（円）", YEN, 12),
    Column("c_effective_from", "適用開始日", DATE, 11),
    Column("c_revision", "改定", TEXT, 20),
    Column("c_article", "根拠条文", TEXT, 9),
    Column("c_approver", "承諾者", TEXT, 12),
    Column("c_booked_by", "記帳者", TEXT, 12),
    Column("c_reverses", "取消対象", INT, 10),
    Column("c_reason", "理由", TEXT, 30),
)

# Oldest first. By the stored instant (its index gives rows in order without sorting them all first); the
# JST wall time shown sorts the same way, Japan having no daylight saving time.
DETAIL_ORDER = ("arisen_at", "pk")

# 月額: the month's charges (computed for an open month, frozen rows for a closed one) and adjustments.
CHARGE_COLUMNS = (
    Column("option_contract_id", "契約番号", INT, 10),
    Column("subscriber_code", "契約者コード", TEXT, 12),
    Column("subscriber_name", "契約者名", TEXT, 28),
    Column("option_name", "オプション", TEXT, 36),
    Column("variant_name", "サービス・細目", TEXT, 36),
    Column("kind_label", "区分", TEXT, 22),
    Column("charge_month", "対象月", DATE, 11),
    Column("quantity", "数量", INT, 7),
    Column("blocks", "単位数", INT, 7),
    Column("monthly_amount_yen", "月額（円）", YEN, 12),
    Column("days_billed", "課金日数", INT, 8),
    Column("days_in_month", "月の日数", INT, 8),
    Column("amount_yen", "請求額（円）", YEN, 12),
    Column("revision", "改定", TEXT, 20),
    Column("article", "根拠条文", TEXT, 9),
    Column("reason", "理由", TEXT, 30),
)

# 集計: totals per option × kind, then per tax rate, then the month's totals.
SUMMARY_COLUMNS = (
    Column("section", "区分", TEXT, 14),
    Column("option", "オプション", TEXT, 40),
    Column("kind", "種別", TEXT, 22),
    Column("rate", "税率（%）", INT, 9),
    Column("count", "件数", INT, 8),
    Column("amount", "金額（円）", YEN, 14),
)

# Obligations listed in 明細; only INITIAL and ONE_TIME are money of the month. A MONTHLY row is the
# agreement "from this date, this much per month": what is billed for it is the month's charge in 月額.
OBLIGATION_KINDS = (LedgerKind.INITIAL, LedgerKind.MONTHLY, LedgerKind.ONE_TIME)
BILLED_OBLIGATION_KINDS = (LedgerKind.INITIAL, LedgerKind.ONE_TIME)
CHARGE_KINDS = (LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT)
_KIND_ORDER = {kind: index for index, kind in enumerate(LedgerKind.values)}

PROVISIONAL_LABEL = "速報（締め前の見込み）"


@dataclass(frozen=True)
class ChargeRow:
    """A line of 月額, from a computed ChargeLine (open month) or a frozen ledger row (closed month)."""

    option_contract_id: int
    subscriber_code: str
    subscriber_name: str
    option_id: int
    option_name: str
    variant_name: str
    kind: str
    kind_label: str
    charge_month: dt.date
    quantity: int
    blocks: int | None
    monthly_amount_yen: int
    days_billed: int | None
    days_in_month: int | None
    amount_yen: int
    revision: str
    revision_effective_on: dt.date
    article: str
    reason: str
    fee_item_id: int
    ledger_id: int | None = None

    @property
    def sort_key(self):
        return (
            self.subscriber_code,
            self.option_contract_id,
            self.charge_month,
            _KIND_ORDER[self.kind],
            self.revision_effective_on,
            self.fee_item_id,
            self.ledger_id or 0,
        )


@dataclass(frozen=True)
class SummaryLine:
    option_name: str
    kind: str
    kind_label: str
    count: int
    amount_yen: int


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


@dataclass(frozen=True)
class Closes:
    """The closes a month's report depends on: its own, the previous month's and the very first one."""

    month: dt.date
    this: MonthClose | None
    previous: MonthClose | None
    first_month: dt.date | None


def closes_for(month: dt.date) -> Closes:
    month = clock.month_start(month)
    previous_month = clock.month_start(month - dt.timedelta(days=1))
    found = {c.month: c for c in MonthClose.objects.filter(month__in=[month, previous_month])}
    first = MonthClose.objects.order_by("month").values_list("month", flat=True).first()
    return Closes(month, found.get(month), found.get(previous_month), first)


def ledger_scope(closes: Closes) -> Q:
    """Return the ledger rows that belong to the month's report, whatever their kind.

    A row belongs to its booked month, unless that month was already closed when the row was written (its id
    is above the close's watermark, e.g. a monthly obligation from a billing start corrected backwards): then
    it belongs to the first open month after it, i.e. the month right after the last close. A closed month
    holds only rows up to its own watermark, so later rows never change it.
    """
    scope = Q(booked_month=closes.month)
    if closes.previous is not None:
        scope |= Q(
            booked_month__lt=closes.month,
            booked_month__gte=closes.first_month,
            pk__gt=closes.previous.ledger_watermark,
        )
    if closes.this is not None:
        scope &= Q(pk__lte=closes.this.ledger_watermark)
    return scope


def subscriber_field(closes: Closes, field: str, path: str = "option_contract__subscriber"):
    """The subscriber's `field` now, or as it was at the close for a closed month (a later rename is not shown).

    `path` leads from the queried model to the subscriber ("" when querying subscribers themselves). Only the
    subscribers edited since the close look into the history; every other one is as it was then.
    """
    current = F(f"{path}__{field}" if path else field)
    if closes.this is None:
        return current
    history = Subscriber.history.model
    watermark = closes.this.subscriber_history_watermark
    subscriber = f"{path}_id" if path else "pk"
    as_closed = history.objects.filter(id=OuterRef(subscriber), history_id__lte=watermark).order_by("-history_id")
    edited_since = history.objects.filter(history_id__gt=watermark).values("id")
    return Case(
        When(**{f"{subscriber}__in": edited_since}, then=Coalesce(Subquery(as_closed.values(field)[:1]), current)),
        default=current,
    )


def catalogue_names_at_close(closes: Closes, model, field: str = "name") -> dict[int, str]:
    """The catalogue records (options or variants) edited since the close, with their `field` as it was then.

    The catalogue is small and rarely edited, so this reads the few history rows in Python; catalogue edits are
    not behind the close's lock, so "as it was" is the last history row dated up to the close.
    """
    if closes.this is None:
        return {}
    history = model.history.model
    closed_at = closes.this.closed_at
    edited = set(history.objects.filter(history_date__gt=closed_at).values_list("id", flat=True))
    rows = (
        history.objects.filter(id__in=edited, history_date__lte=closed_at)
        .order_by("id", "history_date", "history_id")
        .values_list("id", field)
    )
    return dict(rows)  # the last row of each record up to the close wins


def catalogue_field(closes: Closes, model, path: str, field: str):
    """The catalogue record's `field` now, or as it was at the close for a closed month (a later rename is not shown).

    `path` leads from the ledger row to the record. The names at the close are constants in the query, so a
    closed month's export costs what an open month's does.
    """
    current = F(f"{path}__{field}")
    as_closed = catalogue_names_at_close(closes, model, field)
    if not as_closed:
        return current
    return Case(*[When(**{f"{path}_id": pk}, then=Value(value)) for pk, value in as_closed.items()], default=current)


def option_names(closes: Closes, options: dict[int, Option]) -> dict[int, str]:
    """The options' names now, or as they were at the close for a closed month."""
    names = {pk: option.name for pk, option in options.items()}
    names.update({pk: name for pk, name in catalogue_names_at_close(closes, Option).items() if pk in names})
    return names


class JstWallTime(Func):
    """An instant as its JST wall-clock time: a naive datetime on PostgreSQL, computed by the database.

    Reading it so costs psycopg's C loader instead of Django's Python one for time zone-aware values (half the
    time of reading 明細). Elsewhere the value stays the aware instant; `jst_wall_time` reads both alike.
    """

    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} AT TIME ZONE 'Asia/Tokyo')", params

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])


def jst_wall_time(value: dt.datetime) -> dt.datetime:
    """The naive JST wall-clock time of a `JstWallTime` value, whichever database gave it."""
    return value if value.tzinfo is None else value.astimezone(clock.JST).replace(tzinfo=None)


def _kind_label():
    return Case(*[When(kind=value, then=Value(label)) for value, label in LedgerKind.choices], default=F("kind"))


def detail_queryset(closes: Closes) -> QuerySet:
    """Return 明細 as a values_list queryset in DETAIL_COLUMNS order, oldest obligation first."""
    expressions = {
        "c_ledger_no": F("pk"),
        "c_booked_month": F("booked_month"),
        "c_arisen_at": JstWallTime("arisen_at"),
        "c_subscriber_code": subscriber_field(closes, "code"),
        "c_subscriber_name": subscriber_field(closes, "name"),
        "c_option": catalogue_field(closes, Option, "fee_item__option", "name"),
        "c_variant": catalogue_field(closes, OptionVariant, "fee_item__variant", "name"),
        "c_kind": _kind_label(),
        "c_quantity": F("quantity"),
        "c_blocks": F("blocks"),
        "c_unit_amount": F("unit_amount_yen"),
        "c_amount": F("amount_yen"),
        "c_effective_from": F("effective_from"),
        "c_revision": F("revision__title"),
        "c_article": F("article"),
        "c_approver": Coalesce(F("application__decided_by__username"), F("option_contract__approved_by__username")),
        "c_booked_by": F("created_by__username"),
        "c_reverses": F("reverses_id"),
        "c_reason": F("reason"),
    }
    assert list(expressions) == [c.key for c in DETAIL_COLUMNS]
    return (
        LedgerEntry.objects.filter(ledger_scope(closes), kind__in=OBLIGATION_KINDS)
        .annotate(**expressions)
        .values_list(*expressions)
        .order_by(*DETAIL_ORDER)
    )


@dataclass(frozen=True)
class ChargePart:
    """月額 of a month: its rows, and (for an open month) the contracts that could not be priced."""

    rows: list[ChargeRow]
    unpriced: list[Unpriced]


def charge_part(closes: Closes) -> ChargePart:
    """Return 月額: ledger rows of kind MONTHLY_CHARGE/ADJUSTMENT in the month's scope, plus, for an open month,
    its charges and adjustments computed now (what its close would write) and the contracts it cannot price."""
    rows = _frozen_charge_rows(closes)
    unpriced: list[Unpriced] = []
    if closes.this is None:
        lines: list[ChargeLine] = []
        for result in contract_charges(first_month=closes.month, last_month=closes.month):
            if result.unpriced is not None:
                unpriced.append(result.unpriced)
            lines.extend(result.lines)
        adjustments = adjustment_lines(month=closes.month)
        lines.extend(adjustments.lines)
        unpriced.extend(adjustments.unpriced)
        rows += _computed_charge_rows(lines)
    rows.sort(key=lambda r: r.sort_key)
    unpriced.sort(key=lambda u: (u.subscriber_code, u.option_contract_id))
    return ChargePart(rows, unpriced)


def _frozen_charge_rows(closes: Closes) -> list[ChargeRow]:
    entries = (
        LedgerEntry.objects.filter(ledger_scope(closes), kind__in=CHARGE_KINDS)
        .annotate(
            subscriber_code=subscriber_field(closes, "code"),
            subscriber_name=subscriber_field(closes, "name"),
            option_name=catalogue_field(closes, Option, "fee_item__option", "name"),
            variant_name=catalogue_field(closes, OptionVariant, "fee_item__variant", "name"),
        )
        .values_list(
            "pk",
            "option_contract_id",
            "subscriber_code",
            "subscriber_name",
            "fee_item__option_id",
            "option_name",
            "variant_name",
            "kind",
            "charge_month",
            "quantity",
            "blocks",
            "unit_amount_yen",
            "days_billed",
            "days_in_month",
            "amount_yen",
            "revision__title",
            "revision__effective_on",
            "article",
            "reason",
            "fee_item_id",
        )
    )
    return [
        ChargeRow(
            option_contract_id=contract_id,
            subscriber_code=code,
            subscriber_name=name,
            option_id=option_id,
            option_name=option_name,
            variant_name=variant_name,
            kind=kind,
            kind_label=LedgerKind(kind).label,
            charge_month=charge_month,
            quantity=quantity,
            blocks=blocks,
            monthly_amount_yen=unit,
            days_billed=days,
            days_in_month=days_in_month,
            amount_yen=amount,
            revision=revision,
            revision_effective_on=effective_on,
            article=article,
            reason=reason,
            fee_item_id=fee_item_id,
            ledger_id=pk,
        )
        for (
            pk,
            contract_id,
            code,
            name,
            option_id,
            option_name,
            variant_name,
            kind,
            charge_month,
            quantity,
            blocks,
            unit,
            days,
            days_in_month,
            amount,
            revision,
            effective_on,
            article,
            reason,
            fee_item_id,
        ) in entries
    ]


def _computed_charge_rows(lines: list[ChargeLine]) -> list[ChargeRow]:
    subscribers = (
        dict(
            (pk, (code, name))
            for pk, code, name in Subscriber.objects.filter(pk__in={line.subscriber_id for line in lines}).values_list(
                "pk", "code", "name"
            )
        )
        if lines
        else {}
    )
    return [charge_row_from_line(line, *subscribers[line.subscriber_id]) for line in lines]


def charge_row_from_line(line: ChargeLine, subscriber_code: str, subscriber_name: str) -> ChargeRow:
    fee_item: FeeItem = line.fee_item
    return ChargeRow(
        option_contract_id=line.option_contract_id,
        subscriber_code=subscriber_code,
        subscriber_name=subscriber_name,
        option_id=fee_item.option_id,
        option_name=fee_item.option.name,
        variant_name=fee_item.variant.name,
        kind=line.kind,
        kind_label=LedgerKind(line.kind).label,
        charge_month=line.charge_month,
        quantity=line.quantity,
        blocks=line.blocks,
        monthly_amount_yen=line.monthly_amount_yen,
        days_billed=line.days_billed,
        days_in_month=line.days_in_month,
        amount_yen=line.amount_yen,
        revision=fee_item.revision.title,
        revision_effective_on=fee_item.revision.effective_on,
        article=fee_item.article,
        reason=line.reason,
        fee_item_id=fee_item.pk,
    )


def summary(closes: Closes, charges: list[ChargeRow]) -> Summary:
    """Return 集計: per option × kind, per tax rate (the rate in force on the charged date, §3.10) and totals.

    The charged date of an initial or one-time fee is the JST date it arose (for a reversal, the date its
    original arose: a refund gives back the tax that was charged); of a monthly charge or an adjustment, the
    month it charges. Tax is rounded down per rate on the report total.
    """
    per_line: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    per_rate: dict[int, int] = defaultdict(int)
    billed = (
        LedgerEntry.objects.filter(ledger_scope(closes), kind__in=BILLED_OBLIGATION_KINDS)
        .values(
            option_id=F("fee_item__option_id"),
            ledger_kind=F("kind"),
            day=TruncDate(Coalesce("reverses__arisen_at", "arisen_at"), tzinfo=clock.JST),
        )
        .annotate(n=Count("pk"), amount=Sum("amount_yen"))
        .order_by()
    )
    for row in billed:
        totals = per_line[(row["option_id"], row["ledger_kind"])]
        totals[0] += row["n"]
        totals[1] += row["amount"]
        per_rate[tax_rate_on(row["day"])] += row["amount"]
    for charge in charges:
        totals = per_line[(charge.option_id, charge.kind)]
        totals[0] += 1
        totals[1] += charge.amount_yen
        per_rate[tax_rate_on(charge.charge_month)] += charge.amount_yen

    options = Option.objects.select_related("section").in_bulk({option_id for option_id, _kind in per_line})
    names = option_names(closes, options)
    ordered = sorted(
        per_line.items(),
        key=lambda item: (
            options[item[0][0]].section.number,
            names[item[0][0]],
            item[0][0],
            _KIND_ORDER[item[0][1]],
        ),
    )
    lines = [
        SummaryLine(names[option_id], kind, LedgerKind(kind).label, count, amount)
        for (option_id, kind), (count, amount) in ordered
    ]
    rates = [
        RateLine(rate, amount, tax_for(amount_yen=amount, rate_percent=rate))
        for rate, amount in sorted(per_rate.items())
    ]
    total_excl = sum(r.amount_yen for r in rates)
    total_tax = sum(r.tax_yen for r in rates)
    return Summary(lines, rates, total_excl, total_tax, total_excl + total_tax)


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
    rows.append(("状態", report.status_label, None, None, None, None))
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


class MonthlyReport:
    """The report of one JST month; parts are read when first asked for."""

    def __init__(self, closes: Closes):
        self.closes = closes
        self.month = closes.month
        self.close = closes.this

    @property
    def is_closed(self) -> bool:
        return self.close is not None

    @property
    def is_provisional(self) -> bool:
        return self.close is None

    @property
    def status_label(self) -> str:
        if self.close is None:
            return PROVISIONAL_LABEL
        closed_at = self.close.closed_at.astimezone(clock.JST)
        return f"確定（{closed_at:%Y-%m-%d %H:%M} 締め）"

    @property
    def detail_rows(self) -> QuerySet:
        return detail_queryset(self.closes)

    @cached_property
    def charge_part(self) -> ChargePart:
        return charge_part(self.closes)

    @property
    def charge_rows(self) -> list[ChargeRow]:
        return self.charge_part.rows

    @property
    def unpriced(self) -> list[Unpriced]:
        """Contracts in billing the 速報 could not price (empty for a closed month): each is named on the page."""
        return self.charge_part.unpriced

    @cached_property
    def summary(self) -> Summary:
        return summary(self.closes, self.charge_rows)


def monthly_report(*, month: dt.date) -> MonthlyReport:
    """Return the report of the JST month containing `month`."""
    return MonthlyReport(closes_for(month))


def month_close_of(*, month: dt.date) -> MonthClose | None:
    return MonthClose.objects.filter(month=clock.month_start(month)).first()
