"""The monthly charges (月額料金) of a month: what month close freezes and what an open month's report shows.

`charges_for_months` is the one computation (DOMAIN §3.6). It reads with a fixed number of queries however many
contracts there are (the contracts in billing, their monthly obligations, the monthly fee items) and does the day
arithmetic in Python; every amount goes through `contracts.pricing.price` and `contracts.pricing.prorate`.

`adjustment_lines` is the one decision about closed months (DOMAIN §3.11): see its docstring.
"""

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Case, OuterRef, Q, Subquery, Sum, When

from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, MonthClose, OptionContract
from contracts.pricing import price, prorate
from options import clock
from options.choices import FeeKind, Proration
from options.errors import DomainError
from options.models import FeeItem, OptionVariant
from options.wareki import format_date


@dataclass(frozen=True)
class ChargeLine:
    """One option contract × fee item × month: a MONTHLY_CHARGE, or an ADJUSTMENT of a closed month."""

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
class _Terms:
    """What a contract owes per month from a date: its variant, quantity and (for a quoted fee) unit amount."""

    variant_id: int
    quantity: int
    quoted_unit_yen: int | None


@dataclass
class _Contract:
    pk: int
    subscriber_id: int
    subscriber_code: str
    billing_start: dt.date
    end_date: dt.date | None
    own_terms: _Terms
    obligations: list[tuple[dt.date, int, _Terms]]  # (effective_from, ledger id, terms), oldest first
    registered_terms: _Terms | None = None  # a migrated contract's terms as registered (DOMAIN §3.13)


@dataclass(frozen=True)
class _Segment:
    fee_item: FeeItem
    terms: _Terms
    monthly_amount_yen: int
    blocks: int | None
    days: int


class _FeeTable:
    """The monthly fee items by variant, to answer "the fee in force on day D" without a query per day (§3.3)."""

    def __init__(self, items: list[FeeItem]):
        by_variant: dict[int, list[FeeItem]] = defaultdict(list)
        for item in items:
            by_variant[item.variant_id].append(item)
        self._items = {}
        self._dates = {}
        for variant_id, variant_items in by_variant.items():
            # The same order as options.selectors.fee_item_in_force: the latest revision wins.
            variant_items.sort(key=lambda i: (i.revision.effective_on, i.revision.amended_on, i.pk))
            self._items[variant_id] = variant_items
            self._dates[variant_id] = [i.revision.effective_on for i in variant_items]

    def in_force(self, variant_id: int, day: dt.date) -> FeeItem | None:
        dates = self._dates.get(variant_id, [])
        index = bisect.bisect_right(dates, day) - 1
        if index < 0:
            return None
        item = self._items[variant_id][index]
        return None if item.discontinued else item

    def changes_between(self, variant_id: int, first: dt.date, last: dt.date) -> list[dt.date]:
        """Return the dates in (first, last] on which a revision changes this variant's fee."""
        return [d for d in self._dates.get(variant_id, []) if first < d <= last]


def month_charges(*, month: dt.date) -> list[ChargeLine]:
    """Return the MONTHLY_CHARGE lines of `month` for every option contract in billing on any day of it."""
    return charges_for_months(first_month=month, last_month=month)


def charges_for_months(*, first_month: dt.date, last_month: dt.date, contracts: Q | None = None) -> list[ChargeLine]:
    """Return the MONTHLY_CHARGE lines of every month from `first_month` to `last_month` (JST months).

    A contract is in billing on a day from its 課金開始日 to its end date, both counted (§3.6). For each such day,
    the terms are those of its latest monthly obligation (not reversed) with effective_from on or before the
    day, and the fee is the fee item in force that day (§3.3): a revision or a change effective mid-month
    splits the month into segments. Each segment is prorated on its own; segments are summed per fee item.
    Three queries, whatever the number of contracts or months.
    """
    first_month, last_month = clock.month_start(first_month), clock.month_start(last_month)
    last_day = clock.month_end(last_month)
    in_billing = OptionContract.objects.filter(billing_start_date__lte=last_day).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=first_month)
    )
    if contracts is not None:
        in_billing = in_billing.filter(contracts)

    loaded = _load_contracts(in_billing, last_day)
    fees = _FeeTable(
        list(
            FeeItem.objects.filter(kind=FeeKind.MONTHLY, revision__effective_on__lte=last_day).select_related(
                "revision", "option", "variant"
            )
        )
    )
    lines: list[ChargeLine] = []
    for contract in loaded:
        month = first_month
        while month <= last_month:
            lines.extend(_contract_month(contract, month, fees))
            month = clock.next_month(month)
    return lines


def _load_contracts(in_billing, last_day: dt.date) -> list[_Contract]:
    contracts: dict[int, _Contract] = {}
    # A migrated contract bills on the terms it was registered with until its first monthly obligation (the
    # first change approved while billing): the contract row itself already holds the changed terms.
    registered = OptionContract.history.model.objects.filter(id=OuterRef("pk")).order_by("history_id")
    as_registered = {
        f"registered_{field}": Case(When(migrated=True, then=Subquery(registered.values(field)[:1])))
        for field in ("variant_id", "quantity", "quoted_amount_yen")
    }
    rows = (
        in_billing.annotate(**as_registered)
        .order_by("pk")
        .values_list(
            "pk",
            "subscriber_id",
            "subscriber__code",
            "billing_start_date",
            "end_date",
            "variant_id",
            "quantity",
            "quoted_amount_yen",
            *as_registered,
        )
    )
    for pk, subscriber_id, code, start, end, variant_id, quantity, quote, *registered_terms in rows:
        contract = _Contract(pk, subscriber_id, code, start, end, _Terms(variant_id, quantity, quote), [])
        if registered_terms[0] is not None:
            contract.registered_terms = _Terms(*registered_terms)
        contracts[pk] = contract
    obligations = (
        LedgerEntry.objects.filter(
            kind=LedgerKind.MONTHLY,
            reverses__isnull=True,
            reversed_by__isnull=True,
            effective_from__lte=last_day,
            option_contract__in=in_billing.values("pk"),
        )
        .order_by("option_contract_id", "effective_from", "pk")
        .values_list(
            "option_contract_id", "effective_from", "pk", "fee_item__variant_id", "quantity", "unit_amount_yen"
        )
    )
    for contract_id, effective_from, pk, variant_id, quantity, unit_amount in obligations:
        contracts[contract_id].obligations.append((effective_from, pk, _Terms(variant_id, quantity, unit_amount)))
    return list(contracts.values())


def _terms_on(contract: _Contract, day: dt.date) -> _Terms:
    """Return the contract's terms on `day`.

    Days before its first monthly obligation take, for a migrated contract (DOMAIN §3.13), the terms it was
    registered with: its first change while billing writes its first obligation, and the contract row holds
    the changed terms from then on. Otherwise they take that first obligation's terms (a billing start entered
    without one); a contract with none at all is charged on its own terms.
    """
    if contract.registered_terms is not None:
        terms = contract.registered_terms
    elif contract.obligations:
        terms = contract.obligations[0][2]
    else:
        return contract.own_terms
    for effective_from, _pk, obligation_terms in contract.obligations:
        if effective_from > day:
            break
        terms = obligation_terms
    return terms


def _contract_month(contract: _Contract, month: dt.date, fees: _FeeTable) -> list[ChargeLine]:
    first = max(contract.billing_start, month)
    last = clock.month_end(month)
    if contract.end_date is not None:
        last = min(last, contract.end_date)
    if first > last:
        return []
    days_in_month = clock.days_in_month(month)
    segments = _segments(contract, first, last, fees)
    return _charge_lines(contract, month, days_in_month, segments)


def _segments(contract: _Contract, first: dt.date, last: dt.date, fees: _FeeTable) -> list[_Segment]:
    """Split [first, last] where the terms or the fee in force change; equal neighbours are merged."""
    starts = {first}
    starts.update(ef for ef, _pk, _t in contract.obligations if first < ef <= last)
    variants = {contract.own_terms.variant_id} | {t.variant_id for _ef, _pk, t in contract.obligations}
    if contract.registered_terms is not None:
        variants.add(contract.registered_terms.variant_id)
    for variant_id in variants:
        starts.update(fees.changes_between(variant_id, first, last))
    ordered = sorted(starts)
    segments: list[_Segment] = []
    for index, start in enumerate(ordered):
        end = ordered[index + 1] - dt.timedelta(days=1) if index + 1 < len(ordered) else last
        terms = _terms_on(contract, start)
        fee_item = fees.in_force(terms.variant_id, start)
        if fee_item is None:
            raise _no_fee(contract, terms.variant_id, start)
        try:
            priced = price(fee_item=fee_item, quantity=terms.quantity, quoted_amount_yen=terms.quoted_unit_yen)
        except DomainError as error:
            raise DomainError(
                f"契約者 {contract.subscriber_code} のオプション契約 #{contract.pk}"
                f"（{format_date(start)}）: {error.message}",
                article=error.article,
                code=error.code,
            ) from error
        days = (end - start).days + 1
        previous = segments[-1] if segments else None
        if previous and (previous.fee_item.pk, previous.monthly_amount_yen, previous.terms) == (
            fee_item.pk,
            priced.amount_yen,
            terms,
        ):
            segments[-1] = _Segment(fee_item, terms, priced.amount_yen, priced.blocks, previous.days + days)
        else:
            segments.append(_Segment(fee_item, terms, priced.amount_yen, priced.blocks, days))
    return segments


def _charge_lines(
    contract: _Contract, month: dt.date, days_in_month: int, segments: list[_Segment]
) -> list[ChargeLine]:
    """Charge the month's segments, one line per fee item.

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
                contract,
                month,
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
        lines.append(_line(contract, month, last, days=days, days_in_month=days_in_month, amount=amount))
    lines.sort(key=lambda line: (line.fee_item.revision.effective_on, line.fee_item.pk))
    return lines


def _line(contract: _Contract, month: dt.date, last: _Segment, *, days: int, days_in_month: int, amount: int):
    return ChargeLine(
        kind=LedgerKind.MONTHLY_CHARGE,
        option_contract_id=contract.pk,
        subscriber_id=contract.subscriber_id,
        fee_item=last.fee_item,
        charge_month=month,
        quantity=last.terms.quantity,
        blocks=last.blocks,
        monthly_amount_yen=last.monthly_amount_yen,
        days_billed=days,
        days_in_month=days_in_month,
        amount_yen=amount,
    )


def _no_fee(contract: _Contract, variant_id: int, day: dt.date) -> DomainError:
    """A day in billing with no monthly fee in force is an error, never a silent 0円 (§3.12)."""
    variant = OptionVariant.objects.select_related("option").get(pk=variant_id)
    return DomainError(
        f"{format_date(day)}時点で「{variant.option.name} / {variant.name}」の月額費用が登録されていないため、"
        f"契約者 {contract.subscriber_code} のオプション契約 #{contract.pk} の月額料金を計算できません。"
        "規程管理担当に料金細目の登録を依頼してください。",
        article=variant.option.fee_article,
        code="no_fee_in_force",
    )


def adjustment_reason(charge_month: dt.date) -> str:
    return f"{charge_month.year}年{charge_month.month}月分（締め済み）の訂正"


def adjustment_lines(*, month: dt.date) -> list[ChargeLine]:
    """Return the ADJUSTMENT lines that the close of `month` books (and its provisional report shows).

    The decision (DOMAIN §3.11): a closed month is never rewritten, and no separate "adjust" step exists.
    When the first open month is closed, every option contract changed since the previous close (a monthly
    obligation written or reversed, or the contract itself edited: billing start corrected, late
    cancellation) is charged again for every closed month, and the difference from what those months hold
    (their MONTHLY_CHARGE rows plus earlier ADJUSTMENT rows) is booked into the month being closed, with
    charge_month = the month corrected. Manual reversals of charge rows are corrections of their own and are
    not counted in that baseline. Only the first open month (the one right after the last close) receives
    adjustments; any other month has none.
    """
    month = clock.month_start(month)
    previous = MonthClose.objects.filter(month=_previous_month(month)).first()
    if previous is None:
        return []
    first_closed = MonthClose.objects.order_by("month").values_list("month", flat=True).first()
    history = OptionContract.history.model
    changed = Q(
        pk__in=LedgerEntry.objects.filter(pk__gt=previous.ledger_watermark, kind=LedgerKind.MONTHLY).values(
            "option_contract_id"
        )
    ) | Q(pk__in=history.objects.filter(history_id__gt=previous.contract_history_watermark).values("id"))

    expected = {
        (line.option_contract_id, line.fee_item.pk, line.charge_month): line
        for line in charges_for_months(first_month=first_closed, last_month=previous.month, contracts=changed)
    }
    frozen_rows = (
        LedgerEntry.objects.filter(
            kind__in=[LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT],
            reverses__isnull=True,
            charge_month__gte=first_closed,
            charge_month__lte=previous.month,
            option_contract__in=OptionContract.objects.filter(changed).values("pk"),
        )
        .values("option_contract_id", "option_contract__subscriber_id", "fee_item_id", "charge_month")
        .annotate(amount=Sum("amount_yen"))
        .order_by()
    )
    frozen = {
        (r["option_contract_id"], r["fee_item_id"], r["charge_month"]): (
            r["option_contract__subscriber_id"],
            r["amount"],
        )
        for r in frozen_rows
    }
    missing_fee_ids = {key[1] for key in frozen.keys() - expected.keys()}
    fee_items = FeeItem.objects.select_related("revision", "option", "variant").in_bulk(missing_fee_ids)

    lines = []
    for key in sorted(expected.keys() | frozen.keys(), key=lambda k: (k[0], k[2], k[1])):
        contract_id, fee_item_id, charge_month = key
        now = expected.get(key)
        subscriber_id, before = frozen.get(key, (None, 0))
        delta = (now.amount_yen if now else 0) - before
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
    return lines


def _previous_month(month: dt.date) -> dt.date:
    return clock.month_start(month - dt.timedelta(days=1))
