"""仮締め (close preview): exactly what the close of a month would write, and how it differs from the month before.
Reads only; nothing is written.

Decisions, each kept here:
- The rows are the close's own stream (contracts.billing.close_rows.CloseRows): the same code computes them, in
  the same order, and fingerprints them the same way, so a close confirmed on this preview writes these rows or
  is refused.
- One pass, streamed: the charges contract by contract are merged (by contract id) with the previous month's
  frozen charges read in the same order, so memory holds the totals, the page of rows asked for and the month's
  adjustments (a small set, as in the close), never the month. Each page is a pass of its own.
- Differences from the previous month are per option contract (so per subscriber, who is named on each row):
  新規 (charged now, not last month), 終了 (charged last month, not now), 変更 (both, a different amount) and
  調整 (an adjustment of a closed month booked by this close). The previous month compared is the closed one
  right before; when it is not closed there is nothing frozen to compare with, and the page says so.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Sum

from contracts.billing.charges import ChargeLine, Unpriced
from contracts.billing.close_rows import CloseRows
from contracts.billing.pricing import tax_for
from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, MonthClose, Subscriber
from core import clock
from options.models import Option, OptionVariant

PAGE_SIZE = 50
ALL, NEW, ENDED, CHANGED, ADJUSTED = "rows", "new", "ended", "changed", "adjusted"
SHOW_LABELS = {
    ALL: "締めで記帳する全行",
    NEW: "新規（前月の請求なし）",
    ENDED: "終了（今月の請求なし）",
    CHANGED: "変更（前月と請求額が違う）",
    ADJUSTED: "調整（締め済み月の訂正）",
}
DIFF_KINDS = (NEW, ENDED, CHANGED, ADJUSTED)


@dataclass(frozen=True)
class PreviewRow:
    """A row the close writes (or, for 終了, a contract charged last month that this close charges nothing)."""

    change: str  # one of DIFF_KINDS, or "" when unchanged from last month
    kind_label: str
    option_contract_id: int
    subscriber_code: str
    subscriber_name: str
    option_name: str
    variant_name: str
    charge_month: dt.date | None
    quantity: int | None
    days_billed: int | None
    days_in_month: int | None
    amount_yen: int
    previous_yen: int | None  # the contract's charge last month (all its fee items), when compared
    reason: str

    @property
    def change_label(self) -> str:
        return SHOW_LABELS[self.change].split("（")[0] if self.change else ""


@dataclass(frozen=True)
class TotalLine:
    option_name: str
    kind_label: str
    rate_percent: int
    count: int
    amount_yen: int


@dataclass(frozen=True)
class PreviewRate:
    rate_percent: int
    amount_yen: int
    tax_yen: int


@dataclass(frozen=True)
class DiffLine:
    option_id: int
    option_name: str
    counts: dict[str, int]
    previous_yen: int
    current_yen: int

    @property
    def difference_yen(self) -> int:
        return self.current_yen - self.previous_yen


@dataclass
class ClosePreview:
    month: dt.date
    digest: dict  # CloseDigest.as_dict(): what a close confirmed on this preview carries
    totals: list[TotalLine]
    rates: list[PreviewRate]
    unpriced: list[Unpriced]
    unpriced_count: int
    contracts: int
    adjustment_rows: int
    previous_close: MonthClose | None
    diff_lines: list[DiffLine]
    show: str
    option_id: int | None
    page: int
    page_size: int
    matched: int  # rows shown by `show` (and `option_id`), over every page
    rows: list[PreviewRow] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        return self.digest["fingerprint"]

    @property
    def row_count(self) -> int:
        return self.digest["rows"]

    @property
    def total_excl_yen(self) -> int:
        return sum(r.amount_yen for r in self.rates)

    @property
    def total_tax_yen(self) -> int:
        return sum(r.tax_yen for r in self.rates)

    @property
    def pages(self) -> int:
        return max(1, -(-self.matched // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def diff_totals(self) -> dict[str, int]:
        return {kind: sum(line.counts[kind] for line in self.diff_lines) for kind in DIFF_KINDS}


@dataclass(frozen=True)
class _Previous:
    option_contract_id: int
    option_id: int
    amount_yen: int


def _previous_charges(previous: MonthClose | None) -> Iterator[_Previous]:
    """The previous closed month's charges per option contract, by contract id (what it charged, refunds aside)."""
    if previous is None:
        return iter(())
    rows = (
        LedgerEntry.objects.filter(
            kind=LedgerKind.MONTHLY_CHARGE,
            charge_month=previous.month,
            reverses__isnull=True,
            pk__lte=previous.ledger_watermark,
        )
        .values("option_contract_id")
        .annotate(amount=Sum("amount_yen"), option_id=Max("fee_item__option_id"))
        .order_by("option_contract_id")
        .values_list("option_contract_id", "option_id", "amount")
    )
    return (_Previous(*row) for row in rows.iterator(chunk_size=2000))


class _Collector:
    """Count every row by difference and option, and keep the page of rows asked for."""

    def __init__(self, show: str, option_id: int | None, page: int, page_size: int):
        self.show, self.option_id = show, option_id
        self.first, self.last = (page - 1) * page_size, page * page_size
        self.matched = 0
        self.kept: list[tuple] = []  # (change, line or None, contract id, subscriber id, option id, previous yen)
        self.diffs: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DIFF_KINDS, 0))
        self.previous_yen: dict[int, int] = defaultdict(int)
        self.current_yen: dict[int, int] = defaultdict(int)

    def count(self, change: str, option_id: int) -> None:
        if change:
            self.diffs[option_id][change] += 1

    def offer(self, change: str, line: ChargeLine | None, contract_id, subscriber_id, option_id, previous_yen):
        if self.option_id is not None and option_id != self.option_id:
            return
        if self.show != ALL and change != self.show:
            return
        if self.show == ALL and line is None:
            return  # 終了: nothing is written for it; listed under its difference only
        if self.first <= self.matched < self.last:
            self.kept.append((change, line, contract_id, subscriber_id, option_id, previous_yen))
        self.matched += 1


def close_preview(*, month: dt.date, show: str = ALL, option_id: int | None = None, page: int = 1) -> ClosePreview:
    """Return the preview of `month`'s close: its digest and totals, the differences from the previous closed month,
    and page `page` of the rows `show` selects (ALL or one of DIFF_KINDS, optionally of one option)."""
    month = clock.month_start(month)
    show = show if show in SHOW_LABELS else ALL
    page = max(1, page)
    with transaction.atomic():  # a server-side cursor for the previous month's rows (PostgreSQL)
        previous_close = MonthClose.objects.filter(month=clock.month_start(month - dt.timedelta(days=1))).first()
        rows = CloseRows(month)
        collect = _Collector(show, option_id, page, PAGE_SIZE)
        before = _previous_charges(previous_close)
        waiting = next(before, None)

        def ended(prev: _Previous) -> None:
            collect.previous_yen[prev.option_id] += prev.amount_yen
            collect.count(ENDED, prev.option_id)
            collect.offer(ENDED, None, prev.option_contract_id, None, prev.option_id, prev.amount_yen)

        for result in rows.charge_results():
            contract_id = result.option_contract_id
            while waiting is not None and waiting.option_contract_id < contract_id:
                ended(waiting)
                waiting = next(before, None)
            previous_yen, matched = None, None
            if waiting is not None and waiting.option_contract_id == contract_id:
                matched, previous_yen = waiting, waiting.amount_yen
                waiting = next(before, None)
            if not result.lines:
                if matched is not None and result.unpriced is None:
                    ended(matched)
                continue  # an unpriced contract is named apart; the close is refused while there is one
            option = result.lines[0].fee_item.option_id
            current_yen = sum(line.amount_yen for line in result.lines)
            change = ""
            if previous_close is not None:
                change = NEW if previous_yen is None else CHANGED if current_yen != previous_yen else ""
                collect.previous_yen[option] += previous_yen or 0
            collect.current_yen[option] += current_yen
            collect.count(change, option)
            for line in result.lines:
                collect.offer(change, line, contract_id, result.subscriber_id, option, previous_yen)
        while waiting is not None:
            ended(waiting)
            waiting = next(before, None)
        adjusted: set[int] = set()
        for line in rows.adjustments():
            option = line.fee_item.option_id
            if line.option_contract_id not in adjusted:
                adjusted.add(line.option_contract_id)
                collect.count(ADJUSTED, option)
            collect.offer(ADJUSTED, line, line.option_contract_id, line.subscriber_id, option, None)
        return _preview(month, rows, collect, previous_close, show, option_id, page)


def _preview(month, rows: CloseRows, collect: _Collector, previous_close, show, option_id, page) -> ClosePreview:
    digest = rows.digest
    option_ids = {key[0] for key in digest.totals} | set(collect.diffs) | {k[4] for k in collect.kept}
    options = Option.objects.select_related("section").in_bulk(option_ids)

    def option_key(pk):
        option = options.get(pk)
        return (option.section.number, option.name, pk) if option else (0, "", pk)

    totals = [
        TotalLine(options[o].name, LedgerKind(kind).label, rate, count, amount)
        for (o, kind, rate), (count, amount) in sorted(
            digest.totals.items(), key=lambda item: (option_key(item[0][0]), item[0][1], item[0][2])
        )
    ]
    per_rate: dict[int, int] = defaultdict(int)
    for (_o, _kind, rate), (_count, amount) in digest.totals.items():
        per_rate[rate] += amount
    rates = [
        PreviewRate(rate, amount, tax_for(amount_yen=amount, rate_percent=rate))
        for rate, amount in sorted(per_rate.items())
    ]
    diff_lines = [
        DiffLine(
            o,
            options[o].name if o in options else "",
            dict(collect.diffs[o]),
            collect.previous_yen[o],
            collect.current_yen[o],
        )
        for o in sorted(set(collect.diffs) | set(collect.previous_yen) | set(collect.current_yen), key=option_key)
        if previous_close is not None
    ]
    return ClosePreview(
        month=month,
        digest=digest.as_dict(),
        totals=totals,
        rates=rates,
        unpriced=sorted(rows.unpriced, key=lambda u: (u.subscriber_code, u.option_contract_id)),
        unpriced_count=rows.unpriced_count,
        contracts=rows.contracts_done,
        adjustment_rows=rows.adjustment_count,
        previous_close=previous_close,
        diff_lines=diff_lines,
        show=show,
        option_id=option_id,
        page=page,
        page_size=PAGE_SIZE,
        matched=collect.matched,
        rows=_page_rows(collect.kept, options),
    )


def _page_rows(kept: list[tuple], options: dict[int, Option]) -> list[PreviewRow]:
    """The page's rows with their subscribers' and catalogue names (a query each, for the page only)."""
    from contracts.models import OptionContract

    contract_ids = {k[2] for k in kept}
    contracts = dict(OptionContract.objects.filter(pk__in=contract_ids).values_list("pk", "subscriber_id"))
    subscribers = {
        pk: (code, name)
        for pk, code, name in Subscriber.objects.filter(pk__in=set(contracts.values())).values_list(
            "pk", "code", "name"
        )
    }
    variant_ids = {k[1].fee_item.variant_id for k in kept if k[1] is not None}
    variants = dict(OptionVariant.objects.filter(pk__in=variant_ids).values_list("pk", "name"))
    result = []
    for change, line, contract_id, _subscriber_id, option_id, previous_yen in kept:
        code, name = subscribers.get(contracts.get(contract_id), ("", ""))
        option_name = options[option_id].name if option_id in options else ""
        if line is None:
            result.append(
                PreviewRow(
                    change,
                    "（今月の請求なし）",
                    contract_id,
                    code,
                    name,
                    option_name,
                    "",
                    None,
                    None,
                    None,
                    None,
                    0,
                    previous_yen,
                    "",
                )
            )
            continue
        result.append(
            PreviewRow(
                change=change,
                kind_label=LedgerKind(line.kind).label,
                option_contract_id=contract_id,
                subscriber_code=code,
                subscriber_name=name,
                option_name=option_name,
                variant_name=variants.get(line.fee_item.variant_id, ""),
                charge_month=line.charge_month,
                quantity=line.quantity,
                days_billed=line.days_billed,
                days_in_month=line.days_in_month,
                amount_yen=line.amount_yen,
                previous_yen=previous_yen,
                reason=line.reason,
            )
        )
    return result
