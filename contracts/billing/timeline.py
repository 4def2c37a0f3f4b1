"""A contract's terms over time (DOMAIN §3.16) and its state on a date (§3.18).

The terms timeline is the rows of `ContractTerms` not superseded: dated periods that do not overlap, each set by
one event (approval, migration, change, succession, correction). `timeline_set` is its one writer; the services
call it in the transaction of the event. Charges, the contract page, the as-of view and the report's names read
it through `periods_of` / `periods_for` and `period_on`.

The billing window (課金開始日 … 解約日) stays on the contract row; `contract_state_on` reads it.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from django.db import transaction
from django.db.models import Case, Q, Value, When

from contracts.choices import ContractState, TermsEvent
from contracts.models import Application, ContractTerms, OptionContract
from core import clock
from core.history_write import save_with_history
from core.wareki import format_date
from options.models import Option, OptionVariant, Succession

ONE_DAY = dt.timedelta(days=1)


class Period(NamedTuple):
    """One period of terms, as billing reads it (a named tuple: the close reads one per contract)."""

    pk: int
    option_contract_id: int
    option_id: int
    variant_id: int
    quantity: int
    quoted_amount_yen: int | None
    valid_from: dt.date
    valid_until: dt.date | None
    event: str
    application_id: int | None

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    @property
    def terms(self) -> tuple[int, int, int, int | None]:
        return (self.option_id, self.variant_id, self.quantity, self.quoted_amount_yen)


PERIOD_FIELDS = (
    "pk",
    "option_contract_id",
    "option_id",
    "variant_id",
    "quantity",
    "quoted_amount_yen",
    "valid_from",
    "valid_until",
    "event",
    "application_id",
)


def periods_for(contract_ids: Iterable[int]) -> dict[int, list[Period]]:
    """Return the timeline of each contract, oldest period first (one query).

    Ids that are nearly consecutive (a chunk of a book read by id) are asked for as a range, not as a list of
    thousands of parameters, which costs more to build and send than the rows it returns; the contracts in the
    range that were not asked for are left out here.
    """
    wanted = sorted(set(contract_ids))
    terms = ContractTerms.objects.filter(superseded_at__isnull=True)
    dense = wanted and wanted[-1] - wanted[0] < 2 * len(wanted)
    if dense:
        terms = terms.filter(option_contract_id__gte=wanted[0], option_contract_id__lte=wanted[-1])
    else:
        terms = terms.filter(option_contract_id__in=wanted)
    rows = terms.order_by("option_contract_id", "valid_from", "pk").values_list(*PERIOD_FIELDS)
    found: dict[int, list[Period]] = defaultdict(list)
    make = Period._make
    asked = set(wanted) if dense else None
    for row in rows:
        if asked is None or row[1] in asked:
            found[row[1]].append(make(row))
    return found


def periods_of(contract: OptionContract | int) -> list[Period]:
    pk = getattr(contract, "pk", contract)
    return periods_for([pk]).get(pk, [])


def period_on(periods: list[Period], day: dt.date) -> Period | None:
    """Return the period in force on `day`, or None when the timeline does not reach it."""
    for period in periods:
        if period.covers(day):
            return period
    return None


def terms_rows(contract: OptionContract):
    """The contract's timeline as model rows (option and variant loaded), for the contract page."""
    return (
        ContractTerms.objects.filter(option_contract=contract, superseded_at__isnull=True)
        .select_related("option", "variant", "application", "succession", "created_by")
        .order_by("valid_from", "pk")
    )


@transaction.atomic(savepoint=False)
def timeline_set(
    *,
    contract: OptionContract,
    valid_from: dt.date,
    option: Option,
    variant: OptionVariant,
    quantity: int,
    quoted_amount_yen: int | None,
    event: str,
    actor,
    reason: str,
    application: Application | None = None,
    succession: Succession | None = None,
    provision: str = "",
    replace: bool = False,
) -> ContractTerms:
    """Put terms in force from `valid_from` on a locked contract, and return the new period.

    The period in force on `valid_from` ends the day before (or, when it starts that day, is superseded); a later
    period stays, and the new one ends the day before it. With `replace` (a correction), the period in force on
    `valid_from` must start that day and is superseded whole: the new one keeps its end.
    """
    now = clock.now()
    active = list(
        ContractTerms.objects.select_for_update()
        .filter(option_contract=contract, superseded_at__isnull=True)
        .order_by("valid_from", "pk")
    )
    current = next((p for p in active if p.valid_from <= valid_from and _reaches(p, valid_from)), None)
    later = next((p for p in active if p.valid_from > valid_from), None)
    valid_until = later.valid_from - ONE_DAY if later else None
    if replace:
        if current is None or current.valid_from != valid_from:
            raise ValueError(f"no period of contract {contract.pk} starts on {valid_from}")
        valid_until = current.valid_until
    if current is not None:
        if current.valid_from == valid_from:
            current.superseded_at = now
            save_with_history(current, actor=actor, reason=f"{reason}（この期間を置き換え）")
        else:
            current.valid_until = valid_from - ONE_DAY
            save_with_history(current, actor=actor, reason=f"{reason}（{format_date(valid_from)}の前日で終了）")
    period = ContractTerms(
        option_contract=contract,
        option=option,
        variant=variant,
        quantity=quantity,
        quoted_amount_yen=quoted_amount_yen,
        valid_from=valid_from,
        valid_until=valid_until,
        event=TermsEvent(event),
        application=application,
        succession=succession,
        provision=provision,
        created_by=actor,
    )
    save_with_history(period, actor=actor, reason=reason)
    return period


def _reaches(period: ContractTerms, day: dt.date) -> bool:
    return period.valid_until is None or day <= period.valid_until


def contract_state_on(*, billing_start_date: dt.date | None, end_date: dt.date | None, on: dt.date) -> str:
    """Return the contract's state on `on` (DOMAIN §3.18).

    解約済 after the end date (the last day of service); 解約予定 until then once an end date is set; 課金中 from
    the 課金開始日; 課金開始待ち before it, or while none is entered. `contract_state_expression` is the same rule
    for the database; a test holds the two equal.
    """
    if end_date is not None and on > end_date:
        return ContractState.ENDED
    if end_date is not None:
        return ContractState.ENDING
    if billing_start_date is not None and billing_start_date <= on:
        return ContractState.BILLING
    return ContractState.WAITING


def contract_state_expression(on: dt.date) -> Case:
    """`contract_state_on` as an annotation, for lists that show and filter the state as of a date."""
    return Case(
        When(end_date__lt=on, then=Value(ContractState.ENDED.value)),
        When(end_date__isnull=False, then=Value(ContractState.ENDING.value)),
        When(billing_start_date__lte=on, then=Value(ContractState.BILLING.value)),
        default=Value(ContractState.WAITING.value),
    )


def contract_state_q(state: str, on: dt.date) -> Q:
    """The contracts whose state on `on` is `state` (a filter that indexes on the dates can serve)."""
    if state == ContractState.ENDED:
        return Q(end_date__lt=on)
    if state == ContractState.ENDING:
        return Q(end_date__gte=on)
    if state == ContractState.BILLING:
        return Q(end_date__isnull=True, billing_start_date__lte=on)
    return Q(end_date__isnull=True) & (Q(billing_start_date__isnull=True) | Q(billing_start_date__gt=on))


def contract_state_label(*, billing_start_date: dt.date | None, end_date: dt.date | None, on: dt.date) -> str:
    """The state as staff read it: 課金開始待ち（令和8年12月10日 (2026-12-10)から）, 課金中,
    解約予定（令和9年3月20日 (2027-03-20)）, 解約済."""
    state = contract_state_on(billing_start_date=billing_start_date, end_date=end_date, on=on)
    label = ContractState(state).label
    if state == ContractState.WAITING and billing_start_date is not None:
        return f"{label}（{format_date(billing_start_date)}から）"
    if state == ContractState.ENDING:
        return f"{label}（{format_date(end_date)}）"
    return label
