"""Reads of the catalogue: what was in force on a date, and what a revision changed."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from core.errors import DomainError
from core.wareki import format_date

from .choices import Pricing, RevisionStatus
from .fees import FeeSchedule
from .models import FeeItem, Option, OptionVariant, Succession, TariffRevision


def revision_in_force(*, on: dt.date, excluding: TariffRevision | None = None) -> TariffRevision | None:
    """Return the latest published revision whose 実施日 is on or before `on` (JST date)."""
    revisions = TariffRevision.objects.filter(effective_on__lte=on, status=RevisionStatus.PUBLISHED)
    if excluding is not None:
        revisions = revisions.exclude(pk=excluding.pk)
    return revisions.order_by("-effective_on", "-amended_on", "-pk").first()


def fee_schedule(
    *,
    until: dt.date | None = None,
    kinds: list[str] | None = None,
    variants=None,
    including: TariffRevision | None = None,
    excluding: TariffRevision | None = None,
) -> FeeSchedule:
    """Load the fee schedule (one query): items of revisions effective up to `until`, of `kinds`, of `variants`.

    Only published revisions price anything: a draft is invisible to pricing. The impact preview asks for the
    schedule as it would be with a draft (`including`) or as it would have been without a revision (`excluding`),
    and hands it to the same charge code as the close.
    """
    published = Q(revision__status=RevisionStatus.PUBLISHED)
    if including is not None:
        published |= Q(revision=including)
    items = FeeItem.objects.filter(published).select_related("revision", "option", "variant", "option__section")
    if excluding is not None:
        items = items.exclude(revision=excluding)
    if until is not None:
        items = items.filter(revision__effective_on__lte=until)
    if kinds is not None:
        items = items.filter(kind__in=kinds)
    if variants is not None:
        items = items.filter(variant__in=variants)
    return FeeSchedule(items)


def _display_order(item: FeeItem):
    return (item.option.section.number, item.option.name, item.variant.code, item.kind, item.pk)


def fee_items_in_force(
    *, on: dt.date, variant: OptionVariant | None = None, including: TariffRevision | None = None
) -> list[FeeItem]:
    """Return, for every (variant, kind), the fee item in force on `on` (discontinued ones left out). One query."""
    schedule = fee_schedule(until=on, variants=None if variant is None else [variant], including=including)
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
    """Return the fee items added, removed and changed between the tariff as of two revisions.

    A revision not yet published is compared as if it were (its own items counted on its 実施日), so that its
    reviewer sees what publishing it would change.
    """
    if older.effective_on > newer.effective_on:
        older, newer = newer, older
    before = {
        (i.variant_id, i.kind): i
        for i in fee_items_in_force(on=older.effective_on, including=older if older.is_draft else None)
    }
    after = {
        (i.variant_id, i.kind): i
        for i in fee_items_in_force(on=newer.effective_on, including=newer if newer.is_draft else None)
    }
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
        FeeItem.objects.filter(option=option, revision__status=RevisionStatus.PUBLISHED)
        .select_related("revision", "variant")
        .order_by("variant__code", "kind", "revision__effective_on", "pk")
    )


def revision_compared_with(revision: TariffRevision) -> TariffRevision | None:
    """Return the revision a draft is reviewed against: the published one in force on its 実施日 without it."""
    return revision_in_force(on=revision.effective_on, excluding=revision)


_REVISION_CONTENT = ("title", "amended_on", "effective_on", "provisions")


def revision_authors(revision: TariffRevision) -> set[int]:
    """Return the ids of everyone who wrote the revision's text or dates or its fee items, for the four eyes.

    Read from the history: its creation and every row that changed what it says count; a row that only moved it
    through the workflow (sent for review, sent back) does not, so a reviewer who sent a draft back may still
    publish it once it is mended.
    """
    ids: set[int] = set()
    previous = None
    for row in revision.history.order_by("history_id").values("history_user_id", *_REVISION_CONTENT):
        content = tuple(row[f] for f in _REVISION_CONTENT)
        if row["history_user_id"] is not None and content != previous:
            ids.add(row["history_user_id"])
        previous = content
    # Whoever wrote what it sets: its fee items, the options it adds or retires, the successions it orders.
    for rows in (
        FeeItem.history.filter(revision_id=revision.pk),
        Option.history.filter(Q(introduced_by_id=revision.pk) | Q(retired_by_id=revision.pk)),
        Succession.history.filter(revision_id=revision.pk),
    ):
        ids |= set(rows.exclude(history_user=None).values_list("history_user_id", flat=True))
    if revision.drafted_by_id:
        ids.add(revision.drafted_by_id)
    return ids


def offered(*, on: dt.date) -> Q:
    """The options offered on `on`: not added by a revision, or added by one published and in force by then (an
    option a draft adds, or one whose 実施日 is still to come, takes no contract)."""
    return Q(introduced_by__isnull=True) | Q(
        introduced_by__status=RevisionStatus.PUBLISHED, introduced_by__effective_on__lte=on
    )


def options_orderable(*, on: dt.date) -> QuerySet[Option]:
    """Return the options a new application may name on `on`: offered by then and not retired by then."""
    return (
        Option.objects.filter(offered(on=on))
        .filter(Q(retired_on__isnull=True) | Q(retired_on__gt=on))
        .select_related("section")
    )


def catalogue_options(*, revision: TariffRevision | None = None) -> QuerySet[Option]:
    """The options of the catalogue as published (an option an unpublished draft adds is that draft's own), and
    those `revision` itself adds: what a draft's fee items and successions may name."""
    visible = Q(introduced_by__isnull=True) | Q(introduced_by__status=RevisionStatus.PUBLISHED)
    if revision is not None:
        visible |= Q(introduced_by=revision)
    return Option.objects.filter(visible)


def option_is_visible_to(option: Option, revision: TariffRevision) -> bool:
    return catalogue_options(revision=revision).filter(pk=option.pk).exists()


def option_retired_refusal(*, option: Option, on: dt.date) -> DomainError | None:
    """Return why no contract of `option` can be formed on `on` (DOMAIN §3.19), or None when one can.

    An option retired on date R takes no contract formed on or after R, by any path (application, admin, import);
    the contracts formed before continue as its successor under the provision named. An option a revision adds
    takes none before that revision is published and in force.
    """
    added = option.introduced_by
    if added is not None and (added.status != RevisionStatus.PUBLISHED or on < added.effective_on):
        if added.status != RevisionStatus.PUBLISHED:
            message = f"{option.name}は改定案「{added.title}」で追加するオプションで、"
            message += "まだ公開されていないため契約できません。"
        else:
            message = (
                f"{option.name}は改定「{added.title}」により{format_date(added.effective_on)}から提供するオプションのため、"
                "それより前に成立する契約はできません。"
            )
        return DomainError(message, code="option_not_offered")
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
