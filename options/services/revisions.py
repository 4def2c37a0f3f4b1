"""The revision workflow: draft → review → publish (one transition function, its actor checked, history written).

A revision drafted in the staff screens is a draft until a colleague publishes it: pricing never reads a draft
(options.selectors.fee_schedule). Publishing is refused when it would leave an active contract without a fee in
force, when its 実施日 falls in a closed month, or when another published revision takes effect on the same day.
The first two are facts of the contracts app, which the catalogue never imports: that app registers its checks
here (`register_publish_guard`, from contracts.apps), so every caller of `revision_transition` meets them.
"""

from collections.abc import Callable

from core import clock
from core.errors import DomainError
from core.history_write import save_with_history
from core.permissions import is_system_user, require_permission
from core.text import TextKind, text_assert_clean
from core.transactions import durable_service
from core.wareki import format_date

from ..choices import REVISION_TRANSITIONS, RevisionStatus
from ..models import FeeItem, TariffRevision
from ..selectors import revision_authors

PublishGuard = Callable[[TariffRevision], DomainError | None]
_PUBLISH_GUARDS: dict[str, PublishGuard] = {}


def register_publish_guard(name: str, guard: PublishGuard) -> None:
    """Add a check that publishing must pass; `guard(revision)` returns the refusal, or None. Idempotent by name."""
    _PUBLISH_GUARDS[name] = guard


def revision_assert_draft(revision: TariffRevision) -> None:
    """Only a draft is edited; a revision under review or published is what its reviewer saw."""
    if revision.status != RevisionStatus.DRAFT:
        raise DomainError(
            f"改定「{revision.title}」は{revision.get_status_display()}のため変更できません。"
            "変更するには確認者に差し戻してもらってください。",
            code="revision_not_draft",
        )


@durable_service
def revision_draft_save(*, revision: TariffRevision, actor, reason: str) -> TariffRevision:
    """Create a draft revision (its drafter is `actor`) or edit one still in draft."""
    from . import revision_save

    if revision.pk is None:
        require_permission(actor, "options.add_tariffrevision", action="改定案を作成する")
    else:
        require_permission(actor, "options.change_tariffrevision", action="改定案を変更する")
    if revision.pk is None:
        revision.status = RevisionStatus.DRAFT
        revision.drafted_by = actor
    else:
        revision_assert_draft(TariffRevision.objects.get(pk=revision.pk))
    _assert_amended_on_free(revision)
    return revision_save.joined(revision=revision, actor=actor, reason=reason)


def _assert_amended_on_free(revision: TariffRevision) -> None:
    other = TariffRevision.objects.filter(amended_on=revision.amended_on).exclude(pk=revision.pk).first()
    if other is not None:
        raise DomainError(
            f"変更日 {format_date(revision.amended_on)} の改定は既にあります（「{other.title}」）。",
            code="amended_on_taken",
        )


@durable_service
def draft_fee_item_save(*, fee_item: FeeItem, actor, reason: str) -> FeeItem:
    """Add to a draft a fee item that it adds, changes or discontinues (its key: option, variant, kind)."""
    from . import fee_item_save

    if fee_item.pk is None:
        require_permission(actor, "options.add_feeitem", action="改定案の料金細目を登録する")
    else:
        require_permission(actor, "options.change_feeitem", action="改定案の料金細目を変更する")
    revision_assert_draft(TariffRevision.objects.get(pk=fee_item.revision_id))
    if fee_item.pk is not None:
        revision_assert_draft(FeeItem.objects.select_related("revision").get(pk=fee_item.pk).revision)
    if fee_item.discontinued:
        # A discontinuation ends the fee; it carries no price of its own.
        fee_item.amount_yen = fee_item.block_size = None
    twin = (
        FeeItem.objects.filter(revision_id=fee_item.revision_id, variant_id=fee_item.variant_id, kind=fee_item.kind)
        .exclude(pk=fee_item.pk)
        .first()
    )
    if twin is not None:
        raise DomainError(
            f"この改定には「{twin.option.name} / {twin.variant.name}」の{twin.get_kind_display()}が既にあります。"
            "その料金細目を変更してください。",
            code="fee_item_twice",
        )
    return fee_item_save.joined(fee_item=fee_item, actor=actor, reason=reason)


_ACTIONS = {
    RevisionStatus.REVIEW: "改定の確認を依頼する",
    RevisionStatus.DRAFT: "改定を差し戻す",
    RevisionStatus.PUBLISHED: "改定を公開する",
}


@durable_service
def revision_transition(*, revision: TariffRevision, to: str, actor, reason: str) -> TariffRevision:
    """Move a revision along its workflow (REVISION_TRANSITIONS), checking the actor, and record why.

    Publishing needs options.publish_tariffrevision, someone who did not write the revision (four eyes), and
    every publish guard's consent.
    """
    if to not in _ACTIONS:
        raise DomainError("改定の状態の指定が正しくありません。", code="unknown_status")
    action = _ACTIONS[to]
    perms = ["options.change_tariffrevision"]
    if to == RevisionStatus.PUBLISHED:
        perms.append("options.publish_tariffrevision")
    require_permission(actor, *perms, action=action)
    text_assert_clean(reason, label="理由", kind=TextKind.TEXT)
    if not reason.strip():
        raise DomainError(f"{action}理由を入力してください。", code="reason_missing")
    revision = TariffRevision.objects.select_for_update().get(pk=revision.pk)
    if to not in REVISION_TRANSITIONS[revision.status]:
        raise DomainError(
            f"改定「{revision.title}」は{revision.get_status_display()}のため、{action}ことはできません。",
            code="transition_not_allowed",
        )
    if to == RevisionStatus.PUBLISHED:
        _assert_publishable(revision, actor)
        revision.published_by = actor
        revision.published_at = clock.now()
    revision.status = to
    save_with_history(revision, actor=actor, reason=reason)
    return revision


def _assert_publishable(revision: TariffRevision, actor) -> None:
    if not is_system_user(actor) and actor.pk in revision_authors(revision):
        raise DomainError(
            "改定の起案・入力をした人は公開できません。別の規程管理担当者またはシステム管理者が確認して公開してください。",
            code="four_eyes",
        )
    refusals = [revision_collision_refusal(revision)]
    refusals += [guard(revision) for guard in _PUBLISH_GUARDS.values()]
    refusals = [r for r in refusals if r is not None]
    if refusals:
        raise DomainError(
            "公開できません。" + " ".join(r.message for r in refusals),
            article=next((r.article for r in refusals if r.article), ""),
            code=refusals[0].code,
        )


def revision_collision_refusal(revision: TariffRevision) -> DomainError | None:
    """Two published revisions taking effect on one day would leave the fee in force that day to the 変更日's
    order: refused, naming the other one."""
    other = (
        TariffRevision.objects.filter(effective_on=revision.effective_on, status=RevisionStatus.PUBLISHED)
        .exclude(pk=revision.pk)
        .first()
    )
    if other is None:
        return None
    return DomainError(
        f"実施日 {format_date(revision.effective_on)} には公開済みの改定「{other.title}」があります。"
        "同じ実施日の改定は1つにまとめるか、実施日を変えてください。",
        code="revision_collision",
    )
