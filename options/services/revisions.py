"""The revision workflow: draft → review → publish (one transition function, its actor checked, history written).

A revision drafted in the staff screens is a draft until a colleague publishes it: pricing never reads a draft
(options.selectors.fee_schedule). Publishing is refused when it would leave an active contract without a fee in
force, when its 実施日 falls in a closed month, or when another published revision takes effect on the same day.
The first two are facts of the contracts app, which the catalogue never imports: that app registers its checks
here (`register_publish_guard`, from contracts.apps), so every caller of `revision_transition` meets them.
"""

import datetime as dt
from collections.abc import Callable, Iterable

from core import clock
from core.errors import DomainError
from core.history_write import save_with_history
from core.permissions import is_system_user, require_permission
from core.text import TextKind, text_assert_clean
from core.transactions import durable_service
from core.wareki import format_date

from ..choices import REVISION_TRANSITIONS, EligibilityKind, OptionStatus, RevisionStatus
from ..models import EligibilityRule, FeeItem, Option, OptionVariant, Service, Succession, TariffRevision
from ..selectors import option_is_visible_to, revision_authors

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
    if to == RevisionStatus.PUBLISHED:
        _retire_options(revision, actor=actor)
    return revision


def _retire_options(revision: TariffRevision, *, actor) -> None:
    """Publishing retires the options the revision retires, from its 実施日 (DOMAIN §3.19): only now do the
    option's status and date, which every path that forms a contract reads, change."""
    for option in Option.objects.select_for_update().filter(retired_by=revision).order_by("pk"):
        option.status = OptionStatus.RETIRED
        option.retired_on = revision.effective_on
        save_with_history(option, actor=actor, reason=f"改定「{revision.title}」の公開による廃止")


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


# --- Options added or retired and successions ordered by a draft -------------------------------------------------


def _draft_locked(revision: TariffRevision) -> TariffRevision:
    revision = TariffRevision.objects.select_for_update().get(pk=revision.pk)
    revision_assert_draft(revision)
    return revision


@durable_service
def draft_option_add(
    *,
    revision: TariffRevision,
    option: Option,
    variants: Iterable[tuple[str, str]],
    services: Iterable[Service] = (),
    actor,
    reason: str,
) -> Option:
    """Add to a draft a new option with its variants (code, name) and, when `services` are named, its 利用の条件
    (one of those services). It takes no contract until the draft is published and in force."""
    require_permission(
        actor,
        "options.add_option",
        "options.add_optionvariant",
        "options.add_eligibilityrule",
        action="オプションを追加する",
    )
    revision = _draft_locked(revision)
    variants, services = list(variants), list(services)
    if Option.objects.filter(code=option.code).exists():
        raise DomainError(f"コード「{option.code}」のオプションは既にあります。", code="option_code_taken")
    if not variants:
        raise DomainError("サービス・細目を1つ以上入力してください。", code="variant_missing")
    option.introduced_by = revision
    option.status, option.retired_on, option.retired_by = OptionStatus.ACTIVE, None, None
    save_with_history(option, actor=actor, reason=reason)
    for code, name in variants:
        save_with_history(OptionVariant(option=option, code=code, name=name), actor=actor, reason=reason)
    if services:
        rule = EligibilityRule(
            option=option,
            kind=EligibilityKind.SERVICE_CONTRACT,
            article=option.condition_article,
            description="、".join(s.name for s in services) + "のいずれかの契約者であること",
        )
        save_with_history(rule, actor=actor, reason=reason)
        rule._history_user, rule._change_reason = actor, reason
        rule.services.set(services)
    return option


@durable_service
def draft_option_retire(*, revision: TariffRevision, option: Option, actor, reason: str, retire: bool = True) -> Option:
    """Mark `option` as retired by a draft from its 実施日 (or, with `retire=False`, take the mark back).

    Nothing changes for pricing or applications until the draft is published (see `_retire_options`)."""
    require_permission(actor, "options.change_option", action="オプションを廃止する")
    revision = _draft_locked(revision)
    option = Option.objects.select_for_update().get(pk=option.pk)
    if not retire:
        if option.retired_by_id != revision.pk:
            raise DomainError(f"{option.name}はこの改定案で廃止するオプションではありません。", code="not_retired_here")
        if revision.successions.filter(from_option=option).exists():
            raise DomainError(
                f"{option.name}の承継がこの改定案に定められています。先に承継を取り消してください。",
                code="succession_depends",
            )
        option.retired_by = None
        save_with_history(option, actor=actor, reason=reason)
        return option
    if option.status == OptionStatus.RETIRED:
        raise DomainError(f"{option.name}は既に廃止されています。", code="option_already_retired")
    if option.introduced_by_id == revision.pk:
        raise DomainError(f"{option.name}はこの改定案で追加するオプションです。", code="option_added_here")
    if option.retired_by_id is not None:
        raise DomainError(
            f"{option.name}は改定案「{option.retired_by.title}」で廃止することになっています。", code="option_retiring"
        )
    if option.introduced_by_id is not None and option.introduced_by.effective_on >= revision.effective_on:
        raise DomainError(
            f"{option.name}は改定「{option.introduced_by.title}」で追加されるオプションで、"
            f"この改定の実施日（{format_date(revision.effective_on)}）にはまだ提供されていません。",
            code="option_not_yet_offered",
        )
    option.retired_by = revision
    save_with_history(option, actor=actor, reason=reason)
    return option


@durable_service
def draft_succession_save(*, succession: Succession, actor, reason: str) -> Succession:
    """Order in a draft that the contracts of an option it retires continue as another option from its 実施日 (as
    平成26年3月1日変更 附則第2項〜第4項 did): contracts made before the 実施日, unless `contracts_made_until` says
    an earlier day. Moved by `apply_successions` once the draft is published."""
    require_permission(actor, "options.add_succession", action="承継を定める")
    revision = _draft_locked(succession.revision)
    succession.revision = revision
    succession.effective_on = revision.effective_on
    last_day = revision.effective_on - dt.timedelta(days=1)
    if succession.contracts_made_until is None or succession.contracts_made_until > last_day:
        succession.contracts_made_until = last_day
    source = Option.objects.get(pk=succession.from_option_id)
    target = Option.objects.get(pk=succession.to_option_id)
    if source.retired_by_id != revision.pk:
        raise DomainError(
            f"承継できるのはこの改定案で廃止するオプションだけです（{source.name}を先に「廃止するオプション」に加えて"
            "ください）。",
            code="succession_source_not_retired",
        )
    if source.pk == target.pk:
        raise DomainError("承継先には別のオプションを選んでください。", code="succession_to_itself")
    if target.status == OptionStatus.RETIRED or target.retired_by_id is not None:
        raise DomainError(f"承継先の{target.name}は廃止される（された）オプションです。", code="succession_to_retired")
    if not option_is_visible_to(target, revision):
        raise DomainError(
            f"承継先の{target.name}はまだ公開されていない別の改定案のオプションです。", code="succession_to_draft"
        )
    if target.introduced_by_id is not None and target.introduced_by.effective_on > revision.effective_on:
        raise DomainError(
            f"承継先の{target.name}は承継日（{format_date(revision.effective_on)}）にはまだ提供されていません。",
            code="succession_to_later",
        )
    missing = sorted(
        set(source.variants.values_list("code", flat=True)) - set(target.variants.values_list("code", flat=True))
    )
    if missing:
        raise DomainError(
            f"承継先の{target.name}に、{source.name}のサービス・細目（{'、'.join(missing)}）に当たるものがありません。"
            "同じコードのサービス・細目が必要です。",
            code="succession_variant_missing",
        )
    other = Succession.objects.filter(from_option_id=source.pk).exclude(pk=succession.pk).first()
    if other is not None:
        raise DomainError(f"{source.name}の承継は既に定められています（{other.provision}）。", code="succession_twice")
    if not succession.provision.strip():
        succession.provision = f"{revision.title} 附則"
    save_with_history(succession, actor=actor, reason=reason)
    return succession


@durable_service
def draft_succession_delete(*, succession: Succession, actor, reason: str) -> None:
    """Take back a succession a draft ordered."""
    require_permission(actor, "options.change_succession", action="承継を取り消す")
    _draft_locked(succession.revision)
    succession._history_user, succession._change_reason = actor, reason
    succession.delete()
