"""Reads of the catalogue: what was in force on a date, and what a revision changed."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from core.errors import DomainError
from core.wareki import format_date

from .choices import Pricing
from .fees import FeeSchedule
from .models import FeeItem, Option, OptionVariant, TariffRevision


def revision_in_force(*, on: dt.date) -> TariffRevision | None:
    """Return the latest revision whose 実施日 is on or before `on` (JST date)."""
    return TariffRevision.objects.filter(effective_on__lte=on).order_by("-effective_on", "-amended_on").first()


def fee_schedule(*, until: dt.date | None = None, kinds: list[str] | None = None, variants=None) -> FeeSchedule:
    """Load the fee schedule (one query): items of revisions effective up to `until`, of `kinds`, of `variants`."""
    items = FeeItem.objects.select_related("revision", "option", "variant", "option__section")
    if until is not None:
        items = items.filter(revision__effective_on__lte=until)
    if kinds is not None:
        items = items.filter(kind__in=kinds)
    if variants is not None:
        items = items.filter(variant__in=variants)
    return FeeSchedule(items)


def _display_order(item: FeeItem):
    return (item.option.section.number, item.option.name, item.variant.code, item.kind, item.pk)


def fee_items_in_force(*, on: dt.date, variant: OptionVariant | None = None) -> list[FeeItem]:
    """Return, for every (variant, kind), the fee item in force on `on` (discontinued ones left out). One query."""
    schedule = fee_schedule(until=on, variants=None if variant is None else [variant])
    return sorted(schedule.all_in_force(on=on), key=_display_order)


def fee_item_in_force(*, option: Option, variant: OptionVariant, kind: str, on: dt.date) -> FeeItem | None:
    """Return the fee item in force for (variant, kind) on `on`, or None when none is (DOMAIN §3.3)."""
    if variant.option_id != option.pk:
        return None
    schedule = fee_schedule(until=on, kinds=[kind], variants=[variant])
    return schedule.in_force(variant_id=variant.pk, kind=kind, on=on)


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


def option_retired_refusal(*, option: Option, on: dt.date) -> DomainError | None:
    """Return why no contract of `option` can be formed on `on` (DOMAIN §3.19), or None when one can.

    An option retired on date R takes no contract formed on or after R, by any path (application, admin, import);
    the contracts formed before continue as its successor under the provision named.
    """
    if option.retired_on is None or on < option.retired_on:
        return None
    succession = option.successions_out.select_related("to_option").order_by("effective_on", "pk").first()
    retired = format_date(option.retired_on)
    message = f"{option.name}は{retired}に廃止されたため、同日以後に成立する契約はできません。"
    provision = ""
    if succession is not None:
        provision = succession.provision
        message += f"（{succession.provision}により、それ以前の契約は{succession.to_option.name}として存続します）"
    return DomainError(message, article=provision, code="option_retired")


def variant_is_quoted(*, variant: OptionVariant, on: dt.date) -> bool:
    """Return whether a fee of `variant` in force on `on` is 当社が別途契約者に示す金額."""
    return any(item.pricing == Pricing.QUOTED for item in fee_items_in_force(on=on, variant=variant))
