"""Small builders for the monthly-report tests: contracts and ledger rows written straight through the models.

They deliberately write around the contracts services (approval, billing start, change, reversal): the report and
month-close tests pin exact ledger rows with fixed primary keys (the golden exports compare byte for byte, 台帳番号
and 契約番号 included) and bare subscribers, which the services would not give them. They depend only on the
agreed ledger model (contracts/models.py). A test that builds data as staff do uses tests.factories instead.
"""

import datetime as dt

from contracts.billing.pricing import price
from contracts.billing.timeline import period_on, periods_of, timeline_set
from contracts.choices import LedgerKind, OptionContractStatus, TermsEvent
from contracts.models import LedgerEntry, OptionContract, Subscriber
from core import clock
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
    oc = OptionContract.objects.create(
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
        confirmed_at=approved_at if migrated else None,  # a migrated one in the timeline: confirmed
        confirmed_by=approver if migrated else None,
        billing_start_date=billing_start,
        end_date=end_date,
        status=OptionContractStatus.ENDED
        if end_date
        else OptionContractStatus.BILLING
        if billing_start
        else OptionContractStatus.APPROVED,
    )
    timeline_set(
        contract=oc,
        valid_from=min(oc.contracted_on, billing_start or oc.contracted_on),
        option=variant.option,
        variant=variant,
        quantity=quantity,
        quoted_amount_yen=quoted,
        event=TermsEvent.MIGRATION if migrated else TermsEvent.APPROVAL,
        actor=approver,
        reason="テストの契約",
    )
    return oc


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
    in_force = period_on(periods_of(oc), effective_from)
    terms = (variant.option_id, variant.pk, priced.quantity, quoted if quoted is not None else oc.quoted_amount_yen)
    if in_force is None or in_force.terms != terms:  # a change: its terms are in force from its date
        timeline_set(
            contract=oc,
            valid_from=effective_from,
            option=variant.option,
            variant=variant,
            quantity=priced.quantity,
            quoted_amount_yen=terms[3],
            event=TermsEvent.CHANGE,
            actor=actor,
            reason="テストの変更",
        )
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
    oc.status = OptionContractStatus.ENDED if oc.end_date else OptionContractStatus.BILLING
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


def golden_data_set(*, approver, clerk) -> dict:
    """February 2026 with fixed primary keys, so that its exports can be compared byte for byte.

    明細: an initial fee, a monthly obligation from 2/15, a quoted fee, a 0円 fee, a contract ending 2/20, an
    initial fee reversed with a reason holding a comma and a line break, a one-time fee. Texts that CSV must
    quote or neutralise (a formula, a double quote, a comma) and 髙 (cp932 holds it) are among the names.
    """
    initial = extra_fee(SWP, kind=FeeKind.INITIAL, amount=5000, name="追加アカウント初期費用")
    one_time = extra_fee(SWP, kind=FeeKind.ONE_TIME, amount=2000, name="アカウント追加作業費")
    sakura = subscriber("C000101", "株式会社さくら", pk=900001)
    formula = subscriber("C000102", '=HYPERLINK("http://example.com","詳細")', pk=900002)
    takahashi = subscriber("C000103", "髙橋商店, 本店", pk=900003)

    swp = contract(sakura, approver=approver, quantity=10, approved_at=jst(2026, 2, 3, 10, 15), pk=900101)
    one_off(swp, kind=FeeKind.INITIAL, fee_item=initial, arisen_at=jst(2026, 2, 3, 10, 15), actor=approver, pk=900202)
    bill(swp, start=dt.date(2026, 2, 15), actor=clerk, pk=900201)

    quoted = contract(formula, approver=approver, key=TYPE_A, quantity=3, quoted=1200, pk=900102)
    bill(quoted, start=dt.date(2026, 2, 1), actor=clerk, pk=900203)

    ipv6 = contract(takahashi, approver=approver, key=IPV6, quantity=1, pk=900103)
    bill(ipv6, start=dt.date(2026, 2, 10), actor=clerk, pk=900204)

    ending = contract(sakura, approver=approver, quantity=20, end_date=dt.date(2026, 2, 20), pk=900104)
    bill(ending, start=dt.date(2026, 2, 1), actor=clerk, pk=900205)
    twice = one_off(
        ending, kind=FeeKind.INITIAL, fee_item=initial, arisen_at=jst(2026, 2, 2, 9, 0), actor=approver, pk=900206
    )
    reverse(twice, at=jst(2026, 2, 25, 17, 30), reason="重複計上のため取消,\n経理確認済み", actor=approver, pk=900207)
    one_off(
        swp, kind=FeeKind.ONE_TIME, fee_item=one_time, arisen_at=jst(2026, 2, 27, 14, 5, 9), actor=approver, pk=900208
    )
    return {"subscribers": [sakura, formula, takahashi], "contracts": [swp, quoted, ipv6, ending]}
