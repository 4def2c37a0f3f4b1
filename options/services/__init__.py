"""Writes to the catalogue. Every write records its actor and reason in the history."""

from dataclasses import dataclass, field

from django.db import models, transaction

from core.errors import DomainError
from core.history_write import record_assert_storable, save_with_history
from core.limits import Number, number_assert_in_bounds
from core.permissions import require_permission
from core.transactions import durable_service

from .. import regulation
from ..choices import OptionStatus, RevisionStatus
from ..models import (
    Carrier,
    CarrierService,
    EligibilityRule,
    FeeItem,
    Option,
    OptionVariant,
    Section,
    Service,
    Succession,
    TariffRevision,
)

LOAD_REASON = "個別規程 有料オプション（令和8年2月1日現在）の読込"

# Every catalogue model regulation_load writes: loading the regulation is editing all of them.
_LOADED_MODELS = (
    Service,
    Carrier,
    CarrierService,
    Section,
    Option,
    OptionVariant,
    EligibilityRule,
    TariffRevision,
    FeeItem,
    Succession,
)


def _perm(model: type[models.Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


@dataclass
class LoadResult:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], model: type[models.Model]) -> None:
        name = model._meta.verbose_name
        bucket[name] = bucket.get(name, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _upsert(model, *, lookup: dict, values: dict, actor, result: LoadResult):
    """Create or bring up to date one record; an unchanged record is not saved (no history row)."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        save_with_history(instance, actor=actor, reason=LOAD_REASON)
        result.count(result.created, model)
        return instance
    differing = {name: value for name, value in values.items() if getattr(instance, name) != value}
    if differing:
        for name, value in differing.items():
            setattr(instance, name, value)
        save_with_history(instance, actor=actor, reason=LOAD_REASON)
        result.count(result.updated, model)
    return instance


@transaction.atomic(durable=True)
def regulation_load(*, actor) -> LoadResult:
    """Load the facts of the regulation; running it again changes nothing and writes no history."""
    perms = [_perm(model, action) for model in _LOADED_MODELS for action in ("add", "change")]
    require_permission(actor, *perms, action="規程を読み込む")
    result = LoadResult()
    services = {
        code: _upsert(Service, lookup={"code": code}, values={"name": name}, actor=actor, result=result)
        for code, name in regulation.SERVICES
    }
    carriers = {
        code: _upsert(Carrier, lookup={"code": code}, values={"name": name}, actor=actor, result=result)
        for code, name in regulation.CARRIERS
    }
    carrier_services = {
        code: _upsert(
            CarrierService,
            lookup={"code": code},
            values={"carrier": carriers[carrier], "name": name},
            actor=actor,
            result=result,
        )
        for carrier, code, name in regulation.CARRIER_SERVICES
    }
    sections = {
        number: _upsert(Section, lookup={"number": number}, values={"title": title}, actor=actor, result=result)
        for number, title in regulation.SECTIONS
    }

    options, variants = {}, {}
    for fact in regulation.OPTIONS:
        option = _upsert(
            Option,
            lookup={"code": fact.code},
            values={
                "section": sections[fact.section],
                "name": fact.name,
                "status": OptionStatus.RETIRED if fact.retired_on else OptionStatus.ACTIVE,
                "retired_on": fact.retired_on,
                "condition_article": fact.condition_article,
                "fee_article": fact.fee_article,
                "annex_ref": fact.annex_ref,
                "description": fact.description,
            },
            actor=actor,
            result=result,
        )
        options[fact.code] = option
        for code, name, service_code in fact.variants:
            variants[(fact.code, code)] = _upsert(
                OptionVariant,
                lookup={"option": option, "code": code},
                values={"name": name, "service": services[service_code] if service_code else None},
                actor=actor,
                result=result,
            )
        kind, codes = fact.eligibility
        rule = _upsert(
            EligibilityRule,
            lookup={"option": option, "article": fact.condition_article},
            values={"kind": kind, "description": regulation.ELIGIBILITY_TEXT[fact.condition_article]},
            actor=actor,
            result=result,
        )
        _set_m2m(rule, "services", [services[c] for c in codes if c in services], actor=actor, result=result)
        _set_m2m(
            rule,
            "carrier_services",
            [carrier_services[c] for c in codes if c in carrier_services],
            actor=actor,
            result=result,
        )

    revisions = {}
    for fact in regulation.read_revisions():
        revisions[fact.amended_on] = _upsert(
            TariffRevision,
            lookup={"amended_on": fact.amended_on},
            values={"title": fact.title, "effective_on": fact.effective_on, "provisions": fact.provisions},
            actor=actor,
            result=result,
        )

    fee_revision = revisions[regulation.FEE_TABLE_REVISION]
    for fee in regulation.FEES:
        option = options[fee.option]
        _upsert(
            FeeItem,
            lookup={"revision": fee_revision, "variant": variants[(fee.option, fee.variant)], "kind": fee.kind},
            values={
                "option": option,
                "name": fee.name,
                "pricing": fee.pricing,
                "amount_yen": fee.amount_yen,
                "block_size": fee.block_size,
                "charge_basis": fee.charge_basis,
                "article": option.fee_article,
                "annex_ref": option.annex_ref,
                "note": fee.note,
            },
            actor=actor,
            result=result,
        )

    for from_code, to_code, provision in regulation.SUCCESSIONS:
        _upsert(
            Succession,
            lookup={"from_option": options[from_code]},
            values={
                "to_option": options[to_code],
                "revision": revisions[regulation.SUCCESSION_REVISION],
                "effective_on": regulation.SUCCESSION_REVISION,
                "contracts_made_until": regulation.SUCCESSION_CONTRACTS_UNTIL,
                "provision": provision,
            },
            actor=actor,
            result=result,
        )
    return result


def _set_m2m(instance, name: str, wanted: list, *, actor, result: LoadResult) -> None:
    manager = getattr(instance, name)
    current = {obj.pk for obj in manager.all()}
    if current == {obj.pk for obj in wanted}:
        return
    instance._history_user = actor
    instance._change_reason = LOAD_REASON
    manager.set(wanted)
    if current:  # filling a rule created in this run is part of its creation, not an update
        result.count(result.updated, type(instance))


# --- Revisions cited by obligations are frozen -------------------------------------------


def revision_is_cited(revision: TariffRevision) -> bool:
    """Return whether any ledger row was priced from this revision (through the ledger's reverse relation, so the
    catalogue never imports the contracts app that cites it)."""
    return revision.ledger_entries.exists()


def revision_assert_editable(revision: TariffRevision) -> None:
    if revision.pk and revision_is_cited(revision):
        raise DomainError(
            f"改定「{revision.title}」は支払義務の根拠として引用されているため、削除・変更できません。"
            "料金を改める場合は新しい改定を登録してください。",
            code="revision_cited",
        )


def revision_assert_open_to_items(revision: TariffRevision) -> None:
    """A revision under review, or published through the workflow, is what its reviewer saw: its fee items are not
    added to or edited in place (the regulation's own revisions, loaded before the workflow, keep today's rule)."""
    if revision.status == RevisionStatus.REVIEW or (
        revision.status == RevisionStatus.PUBLISHED and revision.published_by_id is not None
    ):
        raise DomainError(
            f"改定「{revision.title}」は{revision.get_status_display()}のため、料金細目を追加・変更できません。",
            code="revision_not_draft",
        )


@durable_service
def revision_save(*, revision: TariffRevision, actor, reason: str) -> TariffRevision:
    """Create or edit a revision; a cited revision's dates and text cannot change."""
    if not revision.pk:
        require_permission(actor, "options.add_tariffrevision", action="改定を登録する")
    else:
        require_permission(actor, "options.change_tariffrevision", action="改定を変更する")
    record_assert_storable(revision)
    if revision.pk:
        stored = TariffRevision.objects.select_for_update().get(pk=revision.pk)
        workflow = ("status", "drafted_by_id", "published_by_id", "published_at")
        if any(getattr(stored, f) != getattr(revision, f) for f in workflow):
            raise DomainError("改定の状態は確認・公開の手続きでのみ変わります。", code="status_by_workflow")
        fields = ("title", "amended_on", "effective_on", "provisions")
        if any(getattr(stored, f) != getattr(revision, f) for f in fields):
            revision_assert_editable(stored)
            revision_assert_open_to_items(stored)
    save_with_history(revision, actor=actor, reason=reason)
    return revision


@durable_service
def revision_delete(*, revision: TariffRevision, actor, reason: str) -> None:
    """Delete a revision that nothing cites and that carries no fee items."""
    require_permission(actor, "options.delete_tariffrevision", action="改定を削除する")
    revision = TariffRevision.objects.select_for_update().get(pk=revision.pk)
    revision_assert_editable(revision)
    if revision.fee_items.exists() or revision.successions.exists():
        raise DomainError(
            f"改定「{revision.title}」には料金細目または承継が登録されているため削除できません。",
            code="revision_has_items",
        )
    revision._history_user = actor
    revision._change_reason = reason
    revision.delete()


@durable_service
def fee_item_save(*, fee_item: FeeItem, actor, reason: str) -> FeeItem:
    """Create or edit a fee item; a cited revision's items are never added to or edited in place."""
    if fee_item.pk:
        require_permission(actor, "options.change_feeitem", action="料金細目を変更する")
    else:
        require_permission(actor, "options.add_feeitem", action="料金細目を登録する")
    record_assert_storable(fee_item)
    if fee_item.amount_yen is not None:
        number_assert_in_bounds(fee_item.amount_yen, kind=Number.YEN, label="金額（円）")
    if fee_item.block_size is not None:
        number_assert_in_bounds(fee_item.block_size, kind=Number.QUANTITY, label="単位数")
    revision = TariffRevision.objects.select_for_update().get(pk=fee_item.revision_id)
    revision_assert_editable(revision)
    revision_assert_open_to_items(revision)
    if fee_item.pk:
        stored_revision = FeeItem.objects.select_related("revision").get(pk=fee_item.pk).revision
        revision_assert_editable(stored_revision)
        revision_assert_open_to_items(stored_revision)
    if fee_item.variant.option_id != fee_item.option_id:
        raise DomainError("サービス・細目がオプションに属していません。", code="variant_mismatch")
    save_with_history(fee_item, actor=actor, reason=reason)
    return fee_item


@durable_service
def fee_item_delete(*, fee_item: FeeItem, actor, reason: str) -> None:
    """Delete a fee item of an uncited revision that no ledger row cites."""
    require_permission(actor, "options.delete_feeitem", action="料金細目を削除する")
    FeeItem.objects.select_for_update().get(pk=fee_item.pk)
    revision_assert_editable(fee_item.revision)
    if fee_item.ledger_entries.exists():
        raise DomainError("この料金細目は支払義務に引用されているため削除できません。", code="fee_item_cited")
    fee_item._history_user = actor
    fee_item._change_reason = reason
    fee_item.delete()
