"""What a revision does to the book: each contract's charges with it and without it, through the close's own code.

The preview never prices anything itself. It loads the fee schedule twice, once including the revision (a draft
is counted as if published) and once excluding it, and charges each contract under both through the close's own
code (`charges.contract_charges_compared`: the book read once, by id, in chunks); what differs is the revision's
effect, and it is what the close will write once it is in force. Memory holds one chunk whatever the book's size.

The months shown: the month of the 実施日 (prorated by day from it, as the close prorates) and the first month
wholly under the revision (the same month when the 実施日 is the 1st).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import Q

from contracts.billing.charges import (
    CHUNK_SIZE,
    MEMO_LIMIT,
    ChargeLine,
    ContractCharges,
    Unpriced,
    contract_charges_compared,
)
from contracts.billing.pricing import tax_for, tax_rate_on
from contracts.billing.timeline import contract_state_label
from core import clock
from core.errors import DomainError
from options.choices import FeeKind, RevisionStatus
from options.models import TariffRevision
from options.selectors import fee_schedule


@dataclass(frozen=True)
class ImpactWindow:
    effective_on: dt.date
    effect_month: dt.date  # the month of the 実施日
    full_month: dt.date  # the first month wholly under the revision

    @property
    def months(self) -> list[dt.date]:
        return sorted({self.effect_month, self.full_month})


def impact_window(revision: TariffRevision) -> ImpactWindow:
    effect = clock.month_start(revision.effective_on)
    full = effect if revision.effective_on == effect else clock.next_month(effect)
    return ImpactWindow(revision.effective_on, effect, full)


def impact_refusal(revision: TariffRevision, *, today: dt.date) -> DomainError | None:
    """A preview is of a draft, or of a published revision not yet in force; of anything else it is history."""
    if revision.status == RevisionStatus.PUBLISHED and revision.effective_on <= today:
        return DomainError(
            f"改定「{revision.title}」は既に実施されています。影響の試算は下書き、または実施前の改定についてのみ行えます。",
            code="revision_in_force",
        )
    return None


class _Differences:
    """Both months' differences, from the before/after amounts of the class that has them."""

    effect_month_before_yen: int
    effect_month_after_yen: int
    full_month_before_yen: int
    full_month_after_yen: int

    @property
    def effect_month_difference_yen(self) -> int:
        return self.effect_month_after_yen - self.effect_month_before_yen

    @property
    def full_month_difference_yen(self) -> int:
        return self.full_month_after_yen - self.full_month_before_yen


@dataclass(frozen=True)
class ContractImpact(_Differences):
    """One contract's charges for the window's months without and with the revision."""

    option_contract_id: int
    option_id: int
    option_name: str
    variant_name: str
    state_label: str
    monthly_before_yen: int | None
    monthly_after_yen: int | None
    effect_month_before_yen: int
    effect_month_after_yen: int
    full_month_before_yen: int
    full_month_after_yen: int
    becomes_unpriceable: Unpriced | None = None

    def of_contract(self, option_contract_id: int) -> "ContractImpact":
        """The same figures for another contract with the same terms (a plain copy: dataclasses.replace re-runs
        __init__, which costs more than the rest of a contract's preview)."""
        copy = object.__new__(ContractImpact)
        copy.__dict__.update(self.__dict__, option_contract_id=option_contract_id)
        return copy


@dataclass
class ImpactTotal(_Differences):
    option_name: str
    kind_label: str
    contracts: int = 0
    effect_month_before_yen: int = 0
    effect_month_after_yen: int = 0
    full_month_before_yen: int = 0
    full_month_after_yen: int = 0


@dataclass(frozen=True)
class RateTotal:
    month: dt.date
    rate_percent: int
    before_yen: int
    after_yen: int

    @property
    def difference_yen(self) -> int:
        return self.after_yen - self.before_yen

    @property
    def tax_before_yen(self) -> int:
        return tax_for(amount_yen=self.before_yen, rate_percent=self.rate_percent)

    @property
    def tax_after_yen(self) -> int:
        return tax_for(amount_yen=self.after_yen, rate_percent=self.rate_percent)

    @property
    def tax_difference_yen(self) -> int:
        return self.tax_after_yen - self.tax_before_yen


_rate_on = lru_cache(maxsize=64)(tax_rate_on)  # asked twice per contract: once per month is enough


@dataclass
class ImpactTotals:
    """Totals of the contracts seen so far: per option × fee kind, and per month × tax rate (§3.10: the rate of
    the month charged; tax rounded down on each total, as the report does). Contracts that would become
    unpriceable are counted apart: what they would owe is not known."""

    window: ImpactWindow
    per_option: dict[int, ImpactTotal] = field(default_factory=dict)
    per_rate: dict[tuple[dt.date, int], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    contracts: int = 0
    unpriceable: int = 0

    def add(self, impact: ContractImpact) -> None:
        if impact.becomes_unpriceable is not None:
            self.unpriceable += 1
            return
        self.contracts += 1
        total = self.per_option.get(impact.option_id)
        if total is None:
            total = self.per_option[impact.option_id] = ImpactTotal(impact.option_name, FeeKind.MONTHLY.label)
        total.contracts += 1
        total.effect_month_before_yen += impact.effect_month_before_yen
        total.effect_month_after_yen += impact.effect_month_after_yen
        total.full_month_before_yen += impact.full_month_before_yen
        total.full_month_after_yen += impact.full_month_after_yen
        # The month of the 実施日, then the first full month unless it is the same one (then its figures are equal).
        effect_month, full_month = self.window.effect_month, self.window.full_month
        sums = self.per_rate[(effect_month, _rate_on(effect_month))]
        sums[0] += impact.effect_month_before_yen
        sums[1] += impact.effect_month_after_yen
        if full_month != effect_month:
            sums = self.per_rate[(full_month, _rate_on(full_month))]
            sums[0] += impact.full_month_before_yen
            sums[1] += impact.full_month_after_yen

    @property
    def options(self) -> list[ImpactTotal]:
        return sorted(self.per_option.values(), key=lambda t: t.option_name)

    @property
    def rates(self) -> list[RateTotal]:
        return [RateTotal(m, r, b, a) for (m, r), (b, a) in sorted(self.per_rate.items())]

    def difference_yen(self, month: dt.date) -> int:
        """The difference the revision makes to the month's charges, to the yen."""
        return sum(a - b for (m, _rate), (b, a) in self.per_rate.items() if m == month)


def impact_terms(revision: TariffRevision) -> Q:
    """The terms the revision may touch: current periods in force on or after its 実施日 naming a variant whose
    monthly fee it sets (added, changed or discontinued). Its contracts are the preview's scope."""
    variants = list(revision.fee_items.filter(kind=FeeKind.MONTHLY).values_list("variant_id", flat=True))
    return Q(variant_id__in=variants) & (Q(valid_until__isnull=True) | Q(valid_until__gte=revision.effective_on))


def contract_impacts(*, revision: TariffRevision, chunk_size: int = CHUNK_SIZE) -> Iterator[ContractImpact]:
    """Yield, by contract id, every contract whose charges for the window's months the revision changes."""
    window = impact_window(revision)
    last_day = clock.month_end(window.full_month)
    results = contract_charges_compared(
        first_month=window.effect_month,
        last_month=window.full_month,
        with_terms=impact_terms(revision),
        chunk_size=chunk_size,
        schedules=(
            fee_schedule(until=last_day, kinds=[FeeKind.MONTHLY], excluding=revision),
            fee_schedule(until=last_day, kinds=[FeeKind.MONTHLY], including=revision),
        ),
    )
    # Contracts with the same key have the same figures: computed once, copied with each one's number.
    figures: dict[tuple, ContractImpact | None] = {}
    for compared in results:
        if compared.key is not None and compared.key in figures:
            shared = figures[compared.key]
            if shared is not None:
                yield shared.of_contract(compared.option_contract_id)
            continue
        before, after = compared.results
        impact = None
        unchanged = _amounts(after) == _amounts(before) and (after.unpriced is None) == (before.unpriced is None)
        if not unchanged and (after.lines or before.lines):  # else: priced on no day of the window either way
            impact = _impact(before, after, window)
        if compared.key is not None:
            if len(figures) >= MEMO_LIMIT:
                figures.clear()
            figures[compared.key] = impact
        if impact is not None:
            yield impact


def _amounts(result: ContractCharges) -> tuple:
    return tuple((line.charge_month, line.fee_item.pk, line.amount_yen) for line in result.lines)


def _month_total(lines: list[ChargeLine], month: dt.date) -> int:
    return sum(line.amount_yen for line in lines if line.charge_month == month)


def _impact(before: ContractCharges, after: ContractCharges, window: ImpactWindow) -> ContractImpact:
    shown = (after.lines or before.lines)[-1]
    becomes_unpriceable = after.unpriced if before.unpriced is None else None
    return ContractImpact(
        option_contract_id=before.option_contract_id,
        option_id=shown.fee_item.option_id,
        option_name=shown.fee_item.option.name,
        variant_name=shown.fee_item.variant.name,
        state_label=contract_state_label(
            billing_start_date=before.billing_start_date, end_date=before.end_date, on=window.effective_on
        ),
        monthly_before_yen=before.lines[-1].monthly_amount_yen if before.lines else None,
        monthly_after_yen=after.lines[-1].monthly_amount_yen if after.lines else None,
        effect_month_before_yen=_month_total(before.lines, window.effect_month),
        effect_month_after_yen=_month_total(after.lines, window.effect_month),
        full_month_before_yen=_month_total(before.lines, window.full_month),
        full_month_after_yen=_month_total(after.lines, window.full_month),
        becomes_unpriceable=becomes_unpriceable,
    )
