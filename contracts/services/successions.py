"""Transitional provisions (平成26年3月1日変更 附則第2項〜第4項): contracts of a retired option continue as its
successor, with no new application and no new initial fee."""

from dataclasses import dataclass

from django.db import transaction

from contracts.billing.timeline import period_on, periods_of, timeline_set
from contracts.choices import OptionContractStatus, TermsEvent
from contracts.models import OptionContract
from contracts.selectors import succession_contracts
from core.errors import DomainError
from core.history_write import save_with_history
from core.wareki import format_date
from options.choices import RevisionStatus
from options.models import OptionVariant, Succession

from .audit import require_permission
from .locks import lock_option_contract, lock_subscriber


@dataclass(frozen=True)
class SuccessionMove:
    """One option contract that moves (or, in a dry run, would move) to the successor option."""

    option_contract: OptionContract
    succession: Succession
    to_variant: OptionVariant

    def __str__(self) -> str:
        c, s = self.option_contract, self.succession
        return (
            f"契約 #{c.pk} {c.subscriber}: {s.from_option.name} / {c.variant.name} → "
            f"{s.to_option.name} / {self.to_variant.name}（{format_date(s.effective_on)}、{s.provision}）"
        )

    @property
    def reason(self) -> str:
        s = self.succession
        return f"{s.provision}により{s.to_option.name}として存続（{format_date(s.effective_on)}から）"


def successions_pending() -> list[SuccessionMove]:
    """Return the moves the transitional provisions call for and that have not been applied yet."""
    moves = []
    # A succession a draft orders moves nothing until the draft is published.
    published = Succession.objects.filter(revision__status=RevisionStatus.PUBLISHED)
    for succession in published.select_related("from_option", "to_option").order_by("effective_on", "pk"):
        variants = {v.code: v for v in succession.to_option.variants.all()}
        for contract in succession_contracts(succession):
            to_variant = variants.get(contract.variant.code)
            if to_variant is None:
                raise DomainError(
                    f"承継先の{succession.to_option.name}に「{contract.variant.name}」（{contract.variant.code}）に"
                    f"当たるサービス・細目がありません（契約 #{contract.pk}）。",
                    code="succession_variant_missing",
                )
            _assert_successor_not_held(contract, succession)
            moves.append(SuccessionMove(contract, succession, to_variant))
    return moves


def _assert_successor_not_held(contract: OptionContract, succession: Succession) -> None:
    """An open contract cannot continue as an option its subscriber already holds open on the same basis (one open
    contract per subscriber × option × basis): staff decide which of the two ends; nothing moves until then."""
    if contract.status == OptionContractStatus.ENDED:
        return
    held = (
        OptionContract.objects.filter(
            subscriber_id=contract.subscriber_id,
            option=succession.to_option,
            base_contract_id=contract.base_contract_id,
            carrier_line_id=contract.carrier_line_id,
        )
        .exclude(status=OptionContractStatus.ENDED)
        .first()
    )
    if held is not None:
        raise DomainError(
            f"契約 #{contract.pk}（{contract.subscriber}）は{succession.to_option.name}として存続できません。"
            f"同じ契約者が同じ回線・基本サービスで{succession.to_option.name}を既に契約しています（契約 #{held.pk}）。"
            "どちらかを解約してから経過措置を適用してください。",
            code="successor_already_held",
        )


@transaction.atomic(durable=True)
def successions_apply(*, actor, dry_run: bool = False) -> list[SuccessionMove]:
    """Move each contract of a retired option, made on or before the provision's date, to its successor.

    Running it again moves nothing (the moved contracts no longer name the retired option). A dry run only
    returns what would move.
    """
    require_permission(actor, "contracts.change_optioncontract", action="経過措置を適用する")
    moves = successions_pending()
    if dry_run:
        return moves
    applied = []
    for move in moves:
        lock_subscriber(move.option_contract.subscriber_id)
        contract = lock_option_contract(move.option_contract)
        if contract.option_id != move.succession.from_option_id:
            continue  # moved meanwhile by a concurrent run
        succession = move.succession
        in_force = period_on(periods_of(contract), succession.effective_on) or periods_of(contract)[-1]
        contract.option = succession.to_option
        contract.variant = move.to_variant
        contract.succession = succession
        save_with_history(contract, actor=actor, reason=move.reason)
        # Before the succession date the contract bills as the retired option, from it as the successor.
        timeline_set(
            contract=contract,
            valid_from=succession.effective_on,
            option=succession.to_option,
            variant=move.to_variant,
            quantity=in_force.quantity,
            quoted_amount_yen=in_force.quoted_amount_yen,
            event=TermsEvent.SUCCESSION,
            succession=succession,
            provision=succession.provision,
            actor=actor,
            reason=move.reason,
        )
        applied.append(move)
    return applied
