"""Reads of the catalogue: what was in force on a date, and what a revision changed."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery

from .errors import DomainError
from .models import FeeItem, Option, OptionVariant, TariffRevision
from .wareki import format_date


def revision_in_force(*, on: dt.date) -> TariffRevision | None:
    """Return the latest revision whose 実施日 is on or before `on` (JST date)."""
    return TariffRevision.objects.filter(effective_on__lte=on).order_by("-effective_on", "-amended_on").first()


def fee_items_in_force(*, on: dt.date) -> QuerySet[FeeItem]:
    """Return, for every (variant, kind), the fee item in force on `on` (discontinued ones left out).

    One query: a fee item is in force when no later revision up to `on` sets the same key.
    """
    newer = FeeItem.objects.filter(
        variant=OuterRef("variant"),
        kind=OuterRef("kind"),
        revision__effective_on__lte=on,
    ).order_by("-revision__effective_on", "-revision__amended_on", "-pk")
    return (
        FeeItem.objects.filter(revision__effective_on__lte=on, discontinued=False)
        .filter(pk=Subquery(newer.values("pk")[:1]))
        .select_related("revision", "option", "variant", "option__section")
        .order_by("option__section__number", "option__name", "variant__code", "kind", "pk")
    )


def fee_item_in_force(*, option: Option, variant: OptionVariant, kind: str, on: dt.date) -> FeeItem | None:
    """Return the fee item in force for (variant, kind) on `on`, or None when none is (DOMAIN §3.3)."""
    item = (
        FeeItem.objects.filter(option=option, variant=variant, kind=kind, revision__effective_on__lte=on)
        .select_related("revision")
        .order_by("-revision__effective_on", "-revision__amended_on", "-pk")
        .first()
    )
    if item is None or item.discontinued:
        return None
    return item


def fee_item_in_force_or_error(*, option: Option, variant: OptionVariant, kind: str, on: dt.date) -> FeeItem:
    """Like `fee_item_in_force`, but a missing price is an error, never a silent 0円 (DOMAIN §3.12)."""
    item = fee_item_in_force(option=option, variant=variant, kind=kind, on=on)
    if item is None:
        raise DomainError(
            f"{format_date(on)}時点で「{option.name} / {variant.name}」の料金（{_kind_label(kind)}）が"
            "登録されていません。規程管理担当に料金細目の登録を依頼してください。",
            article=option.fee_article,
            code="no_fee_in_force",
        )
    return item


def _kind_label(kind: str) -> str:
    from .choices import FeeKind

    return FeeKind(kind).label


@dataclass(frozen=True)
class FeeChange:
    key: tuple[int, str]
    before: FeeItem | None
    after: FeeItem | None

    @property
    def change(self) -> str:
        if self.before is None:
            return "追加"
        if self.after is None:
            return "廃止"
        return "変更"


def revision_diff(*, older: TariffRevision, newer: TariffRevision) -> list[FeeChange]:
    """Return the fee items added, removed and changed between the tariff as of two revisions."""
    if older.effective_on > newer.effective_on:
        older, newer = newer, older
    before = {(i.variant_id, i.kind): i for i in fee_items_in_force(on=older.effective_on)}
    after = {(i.variant_id, i.kind): i for i in fee_items_in_force(on=newer.effective_on)}
    changes = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], k[1])):
        b, a = before.get(key), after.get(key)
        if b is not None and a is not None and _same_price(a, b):
            continue
        changes.append(FeeChange(key=key, before=b, after=a))
    return changes


_PRICE_FIELDS = ("name", "pricing", "amount_yen", "block_size", "charge_basis", "proration")


def _same_price(a: FeeItem, b: FeeItem) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in _PRICE_FIELDS)


def fee_history(*, option: Option) -> QuerySet[FeeItem]:
    """Return an option's fee items over time, oldest revision first."""
    return (
        FeeItem.objects.filter(option=option)
        .select_related("revision", "variant")
        .order_by("variant__code", "kind", "revision__effective_on", "pk")
    )


def options_orderable(*, on: dt.date) -> QuerySet[Option]:
    """Return the options a new application may name on `on`: those not retired by then."""
    return Option.objects.filter(Q(retired_on__isnull=True) | Q(retired_on__gt=on)).select_related("section")
