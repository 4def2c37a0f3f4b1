"""Small builders for the monthly-report tests: contracts and ledger rows written straight through the models.

They stand in for the contracts services (approval, billing start, change, reversal) so that the report and
month-close tests depend only on the agreed ledger model (contracts/models.py).
"""

import datetime as dt

from contracts.choices import LedgerKind, OptionContractStatus
from contracts.models import LedgerEntry, OptionContract, Subscriber
from contracts.pricing import price
from options import clock
from options.choices import ChargeBasis, FeeKind, Pricing, Proration
from options.models import FeeItem, Option, OptionVariant, TariffRevision
from options.selectors import fee_item_in_force

SWP = ("swp-accounts", "additional-accounts")  # 10アカウントあたり 3,000円 / 月
TYPE_A = ("flets-hikari", "type-a")  # 個別見積, 1契約アカウントあたり
IPV6 = ("ipv6", "fiberaccess-f")  # 0円


def jst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=clock.JST)


def variant_of(key: tuple[str, str]) -> OptionVariant:
    return OptionVariant.objects.select_related("option").get(option__code=key[0], code=key[1])


def subscriber(code: str, name: str = "株式会社テスト", *, pk: int | None = None) -> Subscriber:
    return Subscriber.objects.create(pk=pk, code=code, name=name, kana="テスト")


def contract(
    sub: Subscriber,
    *,
    approver,
    key: tuple[str, str] = SWP,
    quantity: int = 10,
    billing_start: dt.date | None = None,
    end_date: dt.date | None = None,
    quoted: int | None = None,
    approved_at: dt.datetime | None = None,
    pk: int | None = None,
    migrated: bool = False,
) -> OptionContract:
    variant = variant_of(key)
    approved_at = approved_at or jst(2026, 1, 20, 10, 0)
    return OptionContract.objects.create(
        pk=pk,
        subscriber=sub,
        option=variant.option,
        variant=variant,
        quantity=quantity,
        quoted_amount_yen=quoted,
        contracted_on=clock.jst_date(approved_at),
        approved_at=None if migrated else approved_at,
        approved_by=None if migrated else approver,
        migrated=migrated,
        billing_start_date=billing_start,
        end_date=end_date,
        status=OptionContractStatus.BILLING if billing_start else OptionContractStatus.APPROVED,
    )


def monthly_obligation(
    oc: OptionContract,
    *,
    effective_from: dt.date,
    actor,
    quantity: int | None = None,
    key: tuple[str, str] | None = None,
    quoted: int | None = None,
    pk: int | None = None,
) -> LedgerEntry:
    """The 月額費用 obligation "from `effective_from`, this much per month", as billing start or a change writes it."""
    variant = variant_of(key) if key else oc.variant
    item = fee_item_in_force(option=variant.option, variant=variant, kind=FeeKind.MONTHLY, on=effective_from)
    priced = price(
        fee_item=item,
        quantity=quantity if quantity is not None else oc.quantity,
        quoted_amount_yen=quoted if quoted is not None else oc.quoted_amount_yen,
    )
    arisen_at = clock.jst_midnight(effective_from)
    return LedgerEntry.objects.create(
        pk=pk,
        kind=LedgerKind.MONTHLY,
        option_contract=oc,
        fee_item=item,
        revision=item.revision,
        article=item.article,
        quantity=priced.quantity,
        blocks=priced.blocks,
        unit_amount_yen=priced.unit_amount_yen,
        amount_yen=priced.amount_yen,
        arisen_at=arisen_at,
        booked_month=clock.month_start(effective_from),
        effective_from=effective_from,
        created_by=actor,
    )


def bill(oc: OptionContract, *, start: dt.date, actor, pk: int | None = None) -> LedgerEntry:
    """Set the billing start and write its monthly obligation (what option_contract_set_billing_start does)."""
    oc.billing_start_date = start
    oc.status = OptionContractStatus.BILLING
    oc.save()
    return monthly_obligation(oc, effective_from=start, actor=actor, pk=pk)


def one_off(
    oc: OptionContract,
    *,
    kind: str,
    fee_item: FeeItem,
    arisen_at: dt.datetime,
    actor,
    amount: int | None = None,
    pk: int | None = None,
) -> LedgerEntry:
    """An initial or one-time obligation stamped with its approval's timestamp."""
    amount = fee_item.amount_yen if amount is None else amount
    return LedgerEntry.objects.create(
        pk=pk,
        kind=kind,
        option_contract=oc,
        fee_item=fee_item,
        revision=fee_item.revision,
        article=fee_item.article,
        quantity=oc.quantity,
        unit_amount_yen=amount,
        amount_yen=amount,
        arisen_at=arisen_at,
        booked_month=clock.month_start(clock.jst_date(arisen_at)),
        created_by=actor,
    )


def reverse(entry: LedgerEntry, *, at: dt.datetime, reason: str, actor, pk: int | None = None) -> LedgerEntry:
    """The reversing row (what ledger_entry_reverse writes), booked in the JST month it is made."""
    return LedgerEntry.objects.create(
        pk=pk,
        kind=entry.kind,
        option_contract_id=entry.option_contract_id,
        application_id=entry.application_id,
        fee_item_id=entry.fee_item_id,
        revision_id=entry.revision_id,
        article=entry.article,
        quantity=entry.quantity,
        blocks=entry.blocks,
        unit_amount_yen=entry.unit_amount_yen,
        amount_yen=-entry.amount_yen,
        arisen_at=at,
        booked_month=clock.month_start(clock.jst_date(at)),
        effective_from=entry.effective_from,
        charge_month=entry.charge_month,
        days_billed=entry.days_billed,
        days_in_month=entry.days_in_month,
        reverses=entry,
        reason=reason,
        created_by=actor,
    )


def fee_table_revision() -> TariffRevision:
    return TariffRevision.objects.get(effective_on=dt.date(2026, 2, 1))


def extra_fee(
    key: tuple[str, str],
    *,
    kind: str,
    amount: int,
    name: str,
    revision: TariffRevision | None = None,
    proration: str = Proration.DAILY,
) -> FeeItem:
    """A fee item staff would enter (an initial fee, or a later revision's monthly fee)."""
    variant = variant_of(key)
    return FeeItem.objects.create(
        revision=revision or fee_table_revision(),
        option=variant.option,
        variant=variant,
        kind=kind,
        name=name,
        pricing=Pricing.PER_BLOCK if key == SWP else Pricing.FIXED,
        amount_yen=amount,
        block_size=10 if key == SWP else None,
        charge_basis=ChargeBasis.PER_BLOCK if key == SWP else ChargeBasis.PER_CONTRACT,
        proration=proration,
        article=variant.option.fee_article,
    )


def revision_on(effective_on: dt.date, title: str) -> TariffRevision:
    return TariffRevision.objects.create(
        title=title, amended_on=effective_on, effective_on=effective_on, provisions="この契約約款は、…から実施します。"
    )


def option_named(code: str) -> Option:
    return Option.objects.get(code=code)
