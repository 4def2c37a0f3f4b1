"""The monthly charges (月額料金) of a month: what month close writes and what an open month's report shows.

`contract_charges` is the one computation (DOMAIN §3.6). It streams: contracts in billing are read in chunks
by id (keyset), each chunk's terms timeline with one query, and the fee schedule once; every amount goes through
`pricing.price` and `pricing.prorate`. Memory holds one chunk, whatever the size of the book.

A contract that cannot be priced (no fee in force on a day it is in billing, a quoted fee without its quote, a
gap in its timeline) is not a reason to hide the month: its result carries an `Unpriced` and no lines. The report
lists those; the close refuses while there is one (DOMAIN §3.12).

`adjustment_lines` is the one decision about closed months (DOMAIN §3.11): see its docstring.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from typing import NamedTuple

from django.db.models import FilteredRelation, Q, Sum
from django.urls import reverse

from contracts.billing.pricing import price, prorate
from contracts.billing.timeline import PERIOD_FIELDS, Period, period_on, periods_for
from contracts.choices import LedgerKind
from contracts.models import ContractTerms, LedgerEntry, MonthClose, OptionContract
from core import clock
from core.errors import DomainError
from core.formats import wareki_month
from core.text import code_point_order
from core.wareki import format_date
from options.choices import FeeKind, Proration
from options.fees import FeeSchedule
from options.models import FeeItem, OptionVariant
from options.selectors import fee_schedule

CHUNK_SIZE = 2000


class ChargeLine(NamedTuple):
    """One option contract × fee item × month: a MONTHLY_CHARGE, or an ADJUSTMENT of a closed month (a named
    tuple: a month has one per contract)."""

    kind: str
    option_contract_id: int
    subscriber_id: int
    fee_item: FeeItem
    charge_month: dt.date
    quantity: int
    blocks: int | None
    monthly_amount_yen: int  # the monthly fee in force on the last day charged under this fee item
    days_billed: int
    days_in_month: int
    amount_yen: int
    reason: str = ""


@dataclass(frozen=True)
class Unpriced:
    """A contract in billing whose charge cannot be computed, and why (named for staff, with a link)."""

    option_contract_id: int
    subscriber_code: str
    day: dt.date
    message: str
    article: str = ""

    @property
    def url(self) -> str:
        return reverse("contracts:optioncontract_detail", args=[self.option_contract_id])


@dataclass
class ContractCharges:
    """The charge lines of one contract over the months asked for, or why it cannot be priced."""

    option_contract_id: int
    subscriber_id: int
    subscriber_code: str
    lines: list[ChargeLine] = field(default_factory=list)
    unpriced: Unpriced | None = None
    subscriber_name: str = ""  # read with the contract in the report's order (by_subscriber_code) only
    billing_start_date: dt.date | None = None
    end_date: dt.date | None = None


@dataclass(frozen=True)
class _Contract:
    pk: int
    subscriber_id: int
    subscriber_code: str
    billing_start: dt.date
    end_date: dt.date | None
    periods: list[Period]
    subscriber_name: str = ""


@dataclass(frozen=True)
class _Segment:
    fee_item: FeeItem
    period: Period
    monthly_amount_yen: int
    blocks: int | None
    days: int


class _CannotPrice(Exception):
    def __init__(self, day: dt.date, message: str, article: str = ""):
        super().__init__(message)
        self.day, self.message, self.article = day, message, article


def in_billing(first_day: dt.date, last_day: dt.date) -> Q:
    """The contracts in billing on some day of [first_day, last_day] (課金開始日 and 解約日 both count, §3.6).

    A migrated contract is billed once confirmed: until then its terms are not in the timeline.
    """
    return (
        Q(billing_start_date__lte=last_day)
        & (Q(end_date__isnull=True) | Q(end_date__gte=first_day))
        & ~migration_pending()
    )


def migration_pending() -> Q:
    """The migrated contracts that no second person has confirmed yet (not in force, not billed)."""
    return Q(migrated=True, confirmed_at__isnull=True)


def contract_charges(
    *,
    first_month: dt.date,
    last_month: dt.date,
    contracts: Q | None = None,
    chunk_size: int = CHUNK_SIZE,
    fees: FeeSchedule | None = None,
    by_subscriber_code: bool = False,
    with_terms: Q | None = None,
) -> Iterator[ContractCharges]:
    """Yield, contract by contract (by id), the MONTHLY_CHARGE lines of every month from first to last (JST).

    On each day in billing the terms are the timeline's period in force that day and the fee is the fee item in
    force that day (§3.3): a change of terms or a revision mid-month splits the month into segments, each
    prorated on its own and summed per fee item. Queries: one for the fee schedule, two per chunk of contracts.

    `fees` is the schedule to price with (the published one, loaded here, when not given): the impact preview of a
    revision passes the schedule with it and the one without it, so that it prices through this very code.
    `by_subscriber_code`: yield them in the report's order instead (subscriber code by code point, then id), with
    the subscriber's name: one query of the contracts joined to their periods, ordered by the database and read in
    chunks; inside a transaction that is a server-side cursor (PostgreSQL), so memory still holds one chunk.
    `with_terms`: only the contracts with a current terms period matching it (by id only; see `_chunks_by_id`).
    """
    first_month, last_month = clock.month_start(first_month), clock.month_start(last_month)
    last_day = clock.month_end(last_month)
    if fees is None:
        fees = fee_schedule(until=last_day, kinds=[FeeKind.MONTHLY])
    memo: dict = {}
    book = _book(first_month, last_day, contracts, with_terms, chunk_size, by_subscriber_code)
    for contract in book:
        yield _charge_contract(contract, first_month, last_month, fees, memo)


class Compared(NamedTuple):
    """One contract charged under each schedule of `contract_charges_compared`."""

    option_contract_id: int
    key: tuple | None  # what its charges depend on besides its identity; None when some result is unpriced
    results: tuple[ContractCharges, ...]


def contract_charges_compared(
    *,
    first_month: dt.date,
    last_month: dt.date,
    schedules: tuple[FeeSchedule, ...],
    contracts: Q | None = None,
    with_terms: Q | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Compared]:
    """Like `contract_charges` (by id), but each contract read once and charged under each of `schedules`, one
    result per schedule in their order. The impact preview compares a book with and without a revision through it.

    What a contract is charged depends only on its days in billing and its periods' terms in the months asked
    for, which many contracts share: a contract with the `key` of an earlier one gets that contract's results
    (the same lines, with that contract's ids: read the id from the `Compared`), so the book costs one pricing per
    distinct key. Results that cannot be priced are never shared (their message names the contract)."""
    first_month, last_month = clock.month_start(first_month), clock.month_start(last_month)
    last_day = clock.month_end(last_month)
    memos: list[dict] = [{} for _ in schedules]
    seen: dict[tuple, tuple[ContractCharges, ...]] = {}
    for contract in _book(first_month, last_day, contracts, with_terms, chunk_size, False):
        key = (contract.billing_start, contract.end_date, _periods_key(contract.periods, first_month, last_day))
        results = seen.get(key)
        if results is None:
            results = tuple(
                _charge_contract(contract, first_month, last_month, fees, memo)
                for fees, memo in zip(schedules, memos, strict=True)
            )
            if any(result.unpriced is not None for result in results):
                yield Compared(contract.pk, None, results)
                continue
            if len(seen) >= MEMO_LIMIT:
                seen.clear()
            seen[key] = results
        yield Compared(contract.pk, key, results)


def _book(
    first_month: dt.date,
    last_day: dt.date,
    contracts: Q | None,
    with_terms: Q | None,
    chunk_size: int,
    by_subscriber_code: bool,
) -> Iterator["_Contract"]:
    """The contracts in billing in [first_month, last_day] (and in `contracts`, with terms matching `with_terms`),
    each with its timeline, by id or in the report's order."""
    scope = OptionContract.objects.filter(in_billing(first_month, last_day))
    if contracts is not None:
        scope = scope.filter(contracts)
    if by_subscriber_code:
        if with_terms is not None:
            terms = ContractTerms.objects.filter(with_terms, superseded_at__isnull=True)
            scope = scope.filter(pk__in=terms.values("option_contract_id"))
        yield from _contracts_by_subscriber_code(scope, chunk_size)
        return
    for rows in _chunks_by_id(scope, chunk_size, with_terms):
        timelines = periods_for(row[0] for row in rows)
        for pk, subscriber_id, code, start, end in rows:
            yield _Contract(pk, subscriber_id, code, start, end, timelines.get(pk, []))


_CONTRACT_FIELDS = ("pk", "subscriber_id", "subscriber__code", "billing_start_date", "end_date")


def _chunks_by_id(scope, chunk_size: int, with_terms: Q | None = None) -> Iterator[list[tuple]]:
    """The contracts by id, a chunk per query (keyset): no cursor stays open between chunks.

    The keyset's bound is given to the terms' subquery too: PostgreSQL does not carry `id > n` across the join, and
    without it every chunk's semi-join reads the terms from the first contract (quadratic in the book's size).
    """
    after = 0
    while True:
        chunk = scope.filter(pk__gt=after)
        if with_terms is not None:
            terms = ContractTerms.objects.filter(with_terms, option_contract_id__gt=after, superseded_at__isnull=True)
            chunk = chunk.filter(pk__in=terms.values("option_contract_id"))
        rows = list(chunk.order_by("pk").values_list(*_CONTRACT_FIELDS)[:chunk_size])
        if rows:
            yield rows
        if len(rows) < chunk_size:
            return
        after = rows[-1][0]


def _contracts_by_subscriber_code(scope, chunk_size: int) -> Iterator[_Contract]:
    """The contracts by subscriber code (code point order, as Python sorts) and id, each with its timeline: one
    query, a row per period (a contract without one keeps a row: it cannot be priced, and says so)."""
    rows = (
        scope.annotate(period=FilteredRelation("terms", condition=Q(terms__superseded_at__isnull=True)))
        .order_by(code_point_order("subscriber__code"), "pk", "period__valid_from", "period__pk")
        .values_list(*_CONTRACT_FIELDS, "subscriber__name", *(f"period__{name}" for name in PERIOD_FIELDS))
        .iterator(chunk_size=chunk_size)
    )
    make = Period._make
    head = len(_CONTRACT_FIELDS) + 1
    for _pk, group in groupby(rows, key=lambda row: row[0]):
        first, *more = group
        periods = [] if first[head] is None else [make(first[head:]), *(make(row[head:]) for row in more)]
        pk, subscriber_id, code, start, end, name = first[:head]
        yield _Contract(pk, subscriber_id, code, start, end, periods, name)


def month_charges(*, month: dt.date) -> list[ChargeLine]:
    """Return the MONTHLY_CHARGE lines of `month`; a contract that cannot be priced raises its reason.

    For callers that need the whole month as a list (tests, small books): the close and the report stream
    `contract_charges` instead.
    """
    lines = []
    for result in contract_charges(first_month=month, last_month=month):
        if result.unpriced is not None:
            raise DomainError(result.unpriced.message, article=result.unpriced.article, code="unpriced_contract")
        lines.extend(result.lines)
    return lines


def _charge_contract(
    contract: _Contract, first_month: dt.date, last_month: dt.date, fees: FeeSchedule, memo: dict | None = None
):
    result = ContractCharges(
        contract.pk,
        contract.subscriber_id,
        contract.subscriber_code,
        subscriber_name=contract.subscriber_name,
        billing_start_date=contract.billing_start,
        end_date=contract.end_date,
    )
    month = first_month
    memo = {} if memo is None else memo
    try:
        while month <= last_month:
            result.lines.extend(_contract_month(contract, month, fees, memo))
            month = _next_month(month)
    except _CannotPrice as problem:
        result.lines = []
        result.unpriced = Unpriced(
            contract.pk,
            contract.subscriber_code,
            problem.day,
            f"契約者 {contract.subscriber_code} のオプション契約 #{contract.pk}: {problem.message}",
            problem.article,
        )
    return result


# The calendar of the months charged, asked for once per contract and month: computed once per month.
_month_end = lru_cache(maxsize=1024)(clock.month_end)
_next_month = lru_cache(maxsize=1024)(clock.next_month)


# Distinct (month, days, terms) seen by one run before its memo starts again: bounds the memo's memory.
MEMO_LIMIT = 50_000


def _contract_month(contract: _Contract, month: dt.date, fees: FeeSchedule, memo: dict) -> list[ChargeLine]:
    """The contract's lines for `month`. What they charge depends only on the days in billing and the periods'
    terms on those days, which many contracts share: it is computed once per run for each such key (`memo`)."""
    first = max(contract.billing_start, month)
    last = _month_end(month)
    if contract.end_date is not None:
        last = min(last, contract.end_date)
    if first > last:
        return []
    key = (month, first, last, _periods_key(contract.periods, first, last))
    charged = memo.get(key)
    if charged is None:
        try:
            charged = _charge_lines(month, clock.days_in_month(month), _segments(contract, first, last, fees))
        except _CannotPrice as problem:
            charged = problem
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[key] = charged
    if isinstance(charged, _CannotPrice):
        raise charged
    return [
        ChargeLine(
            kind=LedgerKind.MONTHLY_CHARGE,
            option_contract_id=contract.pk,
            subscriber_id=contract.subscriber_id,
            fee_item=fee_item,
            charge_month=month,
            quantity=quantity,
            blocks=blocks,
            monthly_amount_yen=monthly,
            days_billed=days,
            days_in_month=days_in_month,
            amount_yen=amount,
        )
        for fee_item, quantity, blocks, monthly, days, days_in_month, amount in charged
    ]


def _periods_key(periods: list[Period], first: dt.date, last: dt.date) -> tuple:
    """The periods as `_segments` sees them within [first, last]: clipped to it, with their terms."""
    return tuple(
        (max(p.valid_from, first), None if p.valid_until is None or p.valid_until >= last else p.valid_until, p.terms)
        for p in periods
        if p.valid_from <= last and (p.valid_until is None or p.valid_until >= first)
    )


def _segments(contract: _Contract, first: dt.date, last: dt.date, fees: FeeSchedule) -> list[_Segment]:
    """Split [first, last] where the period or the fee in force changes; equal neighbours are merged."""
    starts = {first}
    for period in contract.periods:
        if first < period.valid_from <= last:
            starts.add(period.valid_from)
        if period.valid_until is not None and first <= period.valid_until < last:
            starts.add(period.valid_until + dt.timedelta(days=1))
        starts.update(fees.changes_between(variant_id=period.variant_id, kind=FeeKind.MONTHLY, first=first, last=last))
    ordered = sorted(starts)
    segments: list[_Segment] = []
    for index, start in enumerate(ordered):
        end = ordered[index + 1] - dt.timedelta(days=1) if index + 1 < len(ordered) else last
        period = period_on(contract.periods, start)
        if period is None:
            raise _CannotPrice(
                start, f"{format_date(start)}時点の契約条件（契約条件の期間）がないため、月額料金を計算できません。"
            )
        fee_item = fees.in_force(variant_id=period.variant_id, kind=FeeKind.MONTHLY, on=start)
        if fee_item is None:
            variant = OptionVariant.objects.select_related("option").get(pk=period.variant_id)
            raise _CannotPrice(
                start,
                f"{format_date(start)}時点で「{variant.option.name} / {variant.name}」の月額費用が"
                "登録されていないため、月額料金を計算できません。規程管理担当に料金細目の登録を依頼してください。",
                variant.option.fee_article,
            )
        try:
            priced = price(fee_item=fee_item, quantity=period.quantity, quoted_amount_yen=period.quoted_amount_yen)
        except DomainError as error:
            raise _CannotPrice(start, f"{format_date(start)}時点: {error.message}", error.article) from error
        days = (end - start).days + 1
        previous = segments[-1] if segments else None
        if previous and (previous.fee_item.pk, previous.monthly_amount_yen, previous.period.terms) == (
            fee_item.pk,
            priced.amount_yen,
            period.terms,
        ):
            segments[-1] = _Segment(fee_item, period, priced.amount_yen, priced.blocks, previous.days + days)
        else:
            segments.append(_Segment(fee_item, period, priced.amount_yen, priced.blocks, days))
    return segments


def _charge_lines(month: dt.date, days_in_month: int, segments: list[_Segment]) -> list[tuple]:
    """Charge the month's segments, one line per fee item: (fee item, quantity, blocks, monthly amount, days billed,
    days in month, amount), the same for every contract with these segments.

    DAILY (§3.6): each segment is prorated on its own (monthly × days ÷ days in month, rounded down) and the
    segments of a fee item are summed. FULL_MONTH: the month is charged once, whole, at the amount in force
    on the last FULL_MONTH day of service, under that day's fee item; earlier FULL_MONTH segments of the same
    month (a mid-month revision or change) are absorbed into it rather than charged as a second whole month.
    """
    by_fee: dict[int, list[_Segment]] = {}
    full_month = [s for s in segments if s.fee_item.proration == Proration.FULL_MONTH]
    for segment in segments:
        if segment.fee_item.proration != Proration.FULL_MONTH:
            by_fee.setdefault(segment.fee_item.pk, []).append(segment)
    lines = []
    for fee_segments in by_fee.values():
        last = fee_segments[-1]
        lines.append(
            _line(
                last,
                days=sum(s.days for s in fee_segments),
                days_in_month=days_in_month,
                amount=sum(
                    prorate(monthly_amount_yen=s.monthly_amount_yen, days_billed=s.days, days_in_month=days_in_month)
                    for s in fee_segments
                ),
            )
        )
    if full_month:
        last = full_month[-1]
        days = sum(s.days for s in full_month)
        amount = prorate(
            monthly_amount_yen=last.monthly_amount_yen,
            days_billed=days,
            days_in_month=days_in_month,
            policy=Proration.FULL_MONTH,
        )
        lines.append(_line(last, days=days, days_in_month=days_in_month, amount=amount))
    lines.sort(key=lambda line: (line[0].revision.effective_on, line[0].pk))
    return lines


def _line(last: _Segment, *, days: int, days_in_month: int, amount: int) -> tuple:
    return (last.fee_item, last.period.quantity, last.blocks, last.monthly_amount_yen, days, days_in_month, amount)


def adjustment_reason(charge_month: dt.date) -> str:
    return f"{wareki_month(charge_month)}分（締め済み）の訂正"


@dataclass
class Adjustments:
    lines: list[ChargeLine]
    unpriced: list[Unpriced]


def changed_since(close: MonthClose) -> Q:
    """The option contracts whose charges may differ from what was frozen at `close`.

    A terms period written or superseded, the contract row edited (billing start, end date), or a monthly
    obligation or charge row booked after the close (a correction, a refund).
    """
    terms = ContractTerms.history.model.objects.filter(history_id__gt=close.terms_history_watermark)
    contract_history = OptionContract.history.model.objects.filter(history_id__gt=close.contract_history_watermark)
    # A monthly obligation, or a refund of a charge, that the close may not have seen. The closes' own charge rows
    # (MONTHLY_CHARGE, reversing nothing) are what a close wrote, not a change.
    ledger = LedgerEntry.objects.filter(pk__gt=close.ledger_read_up_to).filter(
        Q(kind=LedgerKind.MONTHLY) | Q(kind=LedgerKind.MONTHLY_CHARGE, reverses__isnull=False)
    )
    return (
        Q(pk__in=terms.values("option_contract_id"))
        | Q(pk__in=contract_history.values("id"))
        | Q(pk__in=ledger.values("option_contract_id"))
    )


def adjustment_target(*, owed_yen: int, refunded_yen: int) -> int:
    """What a closed month's charge and adjustment rows must add up to for one contract × fee item (§3.11).

    The decision for refunds: a refund is staff reversing a frozen charge row (`refunded_yen` ≥ 0 given back).
    It stands: a later close never charges it again. And it counts: when a later correction lowers what was owed
    (a backdated cancellation), the refund is taken as part of the credit, so the month is never credited twice.
    So the month's net (charges + adjustments − refunds) is what was owed less the refunds, never below zero:
    charges + adjustments = max(owed, refunded).
    """
    return max(owed_yen, refunded_yen)


def adjustment_lines(*, month: dt.date) -> Adjustments:
    """Return the ADJUSTMENT lines that the close of `month` books (and its provisional report shows).

    The decision (DOMAIN §3.11): a closed month is never rewritten, and no separate "adjust" step exists.
    When the first open month is closed, every option contract changed since the previous close is charged
    again, from its final terms timeline, for every closed month, and the difference between
    `adjustment_target` and what those months hold (their MONTHLY_CHARGE rows plus earlier ADJUSTMENT rows) is
    booked into the month being closed, with charge_month = the month corrected. Only the first open month (the
    one right after the last close) receives adjustments; any other month has none.
    """
    month = clock.month_start(month)
    previous = MonthClose.objects.filter(month=_previous_month(month)).first()
    if previous is None:
        return Adjustments([], [])
    first_closed = MonthClose.objects.order_by("month").values_list("month", flat=True).first()
    changed = changed_since(previous)

    expected: dict[tuple[int, int, dt.date], ChargeLine] = {}
    unpriced: list[Unpriced] = []
    for result in contract_charges(first_month=first_closed, last_month=previous.month, contracts=changed):
        if result.unpriced is not None:
            unpriced.append(result.unpriced)
        for line in result.lines:
            expected[(line.option_contract_id, line.fee_item.pk, line.charge_month)] = line
    unpriced_ids = {u.option_contract_id for u in unpriced}

    frozen_rows = (
        LedgerEntry.objects.filter(
            kind__in=[LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT],
            charge_month__gte=first_closed,
            charge_month__lte=previous.month,
            option_contract__in=OptionContract.objects.filter(changed).values("pk"),
        )
        .values("option_contract_id", "option_contract__subscriber_id", "fee_item_id", "charge_month")
        .annotate(
            held=Sum("amount_yen", filter=Q(reverses__isnull=True)),
            refunded=Sum("amount_yen", filter=Q(reverses__isnull=False)),
        )
        .order_by()
    )
    frozen = {
        (r["option_contract_id"], r["fee_item_id"], r["charge_month"]): (
            r["option_contract__subscriber_id"],
            r["held"] or 0,
            -(r["refunded"] or 0),
        )
        for r in frozen_rows
    }
    missing_fee_ids = {key[1] for key in frozen.keys() - expected.keys()}
    fee_items = FeeItem.objects.select_related("revision", "option", "variant").in_bulk(missing_fee_ids)

    lines = []
    for key in sorted(expected.keys() | frozen.keys(), key=lambda k: (k[0], k[2], k[1])):
        contract_id, fee_item_id, charge_month = key
        if contract_id in unpriced_ids:
            continue  # not knowing what is owed, book nothing; the close is refused meanwhile
        now = expected.get(key)
        subscriber_id, held, refunded = frozen.get(key, (None, 0, 0))
        owed = now.amount_yen if now else 0
        delta = adjustment_target(owed_yen=owed, refunded_yen=refunded) - held
        if delta == 0:
            continue
        fee_item = now.fee_item if now else fee_items[fee_item_id]
        lines.append(
            ChargeLine(
                kind=LedgerKind.ADJUSTMENT,
                option_contract_id=contract_id,
                subscriber_id=now.subscriber_id if now else subscriber_id,
                fee_item=fee_item,
                charge_month=charge_month,
                quantity=now.quantity if now else 0,
                blocks=now.blocks if now else None,
                monthly_amount_yen=now.monthly_amount_yen if now else 0,
                days_billed=now.days_billed if now else 0,
                days_in_month=clock.days_in_month(charge_month),
                amount_yen=delta,
                reason=adjustment_reason(charge_month),
            )
        )
    return Adjustments(lines, unpriced)


def _previous_month(month: dt.date) -> dt.date:
    return clock.month_start(month - dt.timedelta(days=1))
