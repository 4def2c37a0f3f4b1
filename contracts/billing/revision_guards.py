"""What publishing a revision must not do to the book (registered with options.services.revisions at startup).

- Its 実施日 may not fall in a closed month: a closed month is never rewritten (DOMAIN §3.11).
- It may not leave an active contract without a monthly fee in force (DOMAIN §3.12, no silent 0円): a contract
  not ended before the 実施日 whose terms, on a day from the 実施日, name a variant whose monthly fee the revision
  discontinues and nothing else prices. Named, so the drafter can add the fee or a succession first.
"""

import datetime as dt

from django.db.models import Q

from contracts.billing.charges import migration_pending
from contracts.models import ContractTerms, MonthClose, OptionContract
from core import clock
from core.errors import DomainError
from core.formats import wareki_month
from core.wareki import format_date
from options.choices import FeeKind
from options.models import TariffRevision
from options.selectors import fee_schedule

# How many contracts a refusal names before it says how many more there are.
NAMED = 20


def closed_month_refusal(revision: TariffRevision) -> DomainError | None:
    month = clock.month_start(revision.effective_on)
    closed = MonthClose.objects.filter(month__gte=month).order_by("month").first()
    if closed is None:
        return None
    return DomainError(
        f"実施日 {format_date(revision.effective_on)} は締め済みの月（{wareki_month(closed.month)}）に"
        "当たります。締め済みの月は書き換えられないため、実施日を締めていない月にしてください。",
        code="revision_in_closed_month",
    )


def unpriceable_contracts(revision: TariffRevision) -> list[tuple[int, dt.date]]:
    """Return (contract id, first day without a fee) of every active contract the revision would leave unpriced."""
    discontinued = set(
        revision.fee_items.filter(kind=FeeKind.MONTHLY, discontinued=True).values_list("variant_id", flat=True)
    )
    if not discontinued:
        return []
    after = fee_schedule(kinds=[FeeKind.MONTHLY], variants=list(discontinued), including=revision)
    before = fee_schedule(kinds=[FeeKind.MONTHLY], variants=list(discontinued), excluding=revision)
    terms = (
        ContractTerms.objects.filter(superseded_at__isnull=True, variant_id__in=discontinued)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=revision.effective_on))
        .filter(Q(option_contract__end_date__isnull=True) | Q(option_contract__end_date__gte=revision.effective_on))
        .exclude(option_contract__in=OptionContract.objects.filter(migration_pending()).values("pk"))
        .order_by("option_contract_id", "valid_from")
        .values_list("option_contract_id", "variant_id", "valid_from")
    )
    found: dict[int, dt.date] = {}
    for contract_id, variant_id, valid_from in terms.iterator(chunk_size=2000):
        day = max(valid_from, revision.effective_on)
        unpriced_after = after.in_force(variant_id=variant_id, kind=FeeKind.MONTHLY, on=day) is None
        priced_before = before.in_force(variant_id=variant_id, kind=FeeKind.MONTHLY, on=day) is not None
        if unpriced_after and priced_before:
            found.setdefault(contract_id, day)
    return sorted(found.items())


def unpriceable_refusal(revision: TariffRevision) -> DomainError | None:
    return unpriced_refusal(
        unpriceable_contracts(revision),
        why="この改定で月額費用がなくなり",
        remedy="料金細目を追加するか、承継を定めてから公開してください。",
    )


def unpriced_refusal(found: list[tuple[int, dt.date]], *, why: str, remedy: str) -> DomainError | None:
    """The refusal naming the contracts (id, first day without a fee) that publishing would leave unpriced."""
    if not found:
        return None
    named = "、".join(f"#{pk}（{format_date(day, western=False)}から）" for pk, day in found[:NAMED])
    more = f" ほか{len(found) - NAMED}件" if len(found) > NAMED else ""
    return DomainError(
        f"{why}、料金を計算できなくなるオプション契約が{len(found)}件あります: {named}{more}。{remedy}",
        code="revision_leaves_unpriced",
    )
