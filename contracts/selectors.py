"""Reads of contracts: who may use an option on a date (利用の条件), and what an application would cost."""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Prefetch, Q, QuerySet

from contracts.billing.charges import migration_pending
from contracts.billing.pricing import Priced, price, tax_for, tax_rate_on
from contracts.billing.revision_guards import unpriced_refusal
from contracts.billing.timeline import (
    contract_state_label,
    contract_state_on,
    period_on,
    periods_of,
    terms_rows,
)
from core import clock
from core.errors import DomainError
from core.formats import wareki_datetime
from core.history_read import staff_name
from core.search import normalize, text_for_storage
from core.text import CODE_ALPHABET
from core.wareki import format_date
from options.choices import EligibilityKind, FeeKind, RevisionStatus
from options.models import CarrierService, FeeItem, Option, OptionVariant, Service, Succession
from options.selectors import fee_items_in_force, fee_schedule, option_retired_refusal, variant_is_quoted
from security.accounts import staff_assert_independent

from .choices import (
    APPLICATION_TRANSITIONS,
    OPEN_APPLICATION_STATUSES,
    ApplicationKind,
    ApplicationStatus,
    LedgerKind,
    OptionContractStatus,
)
from .models import Application, BaseServiceContract, CarrierLineContract, LedgerEntry, OptionContract, Subscriber


class EligibilityMode(StrEnum):
    """When 利用の条件 are evaluated (DOMAIN §3.7, §3.13): the one evaluator takes the moment as its mode."""

    APPLICATION = "application"  # a 新規利用申込: its 確認 (preview) and its submission
    APPROVAL = "approval"  # the same conditions again, on the approval's JST date
    MIGRATED = "migrated"  # a contract from before the system: the contract it names must be of the kind asked for


@dataclass(frozen=True)
class EligibilityResult:
    """The answer to "may this subscriber use this option on this date?", with the article it rests on.

    `kind` is the kind of the rule that refused (EligibilityKind), `missing` that a migrated contract named no
    basis of that kind at all; both empty when it is met."""

    ok: bool
    article: str
    message: str
    basis: BaseServiceContract | CarrierLineContract | None
    code: str = ""
    kind: str = ""
    missing: bool = False


@dataclass(frozen=True)
class GivenBasis:
    """What a migrated contract names as the contract it rests on: the contracts, or, while a CSV row is read and
    they do not exist yet, only their services."""

    base_contract: BaseServiceContract | None = None
    carrier_line: CarrierLineContract | None = None
    service: Service | None = None
    carrier_service: CarrierService | None = None

    def of_kind(self, kind: str):
        if kind == EligibilityKind.SERVICE_CONTRACT:
            return self.base_contract.service if self.base_contract else self.service
        return self.carrier_line.carrier_service if self.carrier_line else self.carrier_service


_BASIS_WHAT = {EligibilityKind.SERVICE_CONTRACT: "基本サービス契約", EligibilityKind.CARRIER_LINE: "事業者回線契約"}


def _in_force_on(on: dt.date) -> Q:
    return Q(start_date__lte=on) & (Q(end_date__isnull=True) | Q(end_date__gte=on))


def base_contracts_in_force(*, subscriber: Subscriber, on: dt.date) -> QuerySet[BaseServiceContract]:
    """Return the subscriber's base-service contracts in force on `on` (the end date is the last day)."""
    return subscriber.base_contracts.filter(_in_force_on(on)).select_related("service").order_by("start_date", "pk")


def carrier_lines_in_force(*, subscriber: Subscriber, on: dt.date) -> QuerySet[CarrierLineContract]:
    """Return the subscriber's carrier-line contracts in force on `on`, confirmed or not."""
    return (
        subscriber.carrier_lines.filter(_in_force_on(on))
        .select_related("carrier_service__carrier")
        .order_by("start_date", "pk")
    )


def _refused(rule, message: str, *, code: str, missing: bool = False) -> EligibilityResult:
    return EligibilityResult(False, rule.article, message, None, code=code, kind=rule.kind, missing=missing)


def _wanted(rule) -> list:
    wanted = rule.services.all() if rule.kind == EligibilityKind.SERVICE_CONTRACT else rule.carrier_services.all()
    return sorted(wanted, key=lambda w: w.pk)


def eligibility_evaluate(
    *,
    subscriber: Subscriber | None,
    option: Option,
    on: dt.date,
    mode: EligibilityMode,
    given: GivenBasis | None = None,
) -> EligibilityResult:
    """Return whether `option`'s 利用の条件 hold on the JST date `on` (DOMAIN §3.7): the one evaluator.

    Conditions of one rule are alternatives (Web ハイグレード2 又は Web スタンダード2); all rules must hold.
    APPLICATION and APPROVAL look for the subscriber's contracts in force on `on` (a carrier line confirmed);
    the basis is the contract that satisfies the option's first rule. MIGRATED checks the contracts `given`
    (on the 契約成立日 `on`): the subscriber's own, begun by then, of the services each rule asks for; the
    subscriber is None while a CSV row for a new subscriber is read.
    """
    rules = option.eligibility_rules.prefetch_related("services", "carrier_services").order_by("pk")
    if mode == EligibilityMode.MIGRATED:
        return _migrated(subscriber, option, on, given or GivenBasis(), rules)
    if not subscriber.is_active:
        message = f"契約者「{subscriber}」は無効化されているため、申込できません。"
        return EligibilityResult(False, "", message, None, code="subscriber_inactive")
    refusal = option_retired_refusal(option=option, on=on)
    if refusal is not None:
        return EligibilityResult(False, refusal.article, refusal.message, None, code=refusal.code)
    basis = None
    for rule in rules:
        if rule.kind == EligibilityKind.SERVICE_CONTRACT:
            found, message = _service_contract(subscriber, option, rule, on)
        else:
            found, message = _carrier_line(subscriber, option, rule, on)
        if found is None:
            return _refused(rule, message, code="not_eligible")
        basis = basis or found
    return EligibilityResult(True, "", "", basis)


def eligibility_check(*, subscriber: Subscriber, option: Option, on: dt.date) -> EligibilityResult:
    """The 確認 of a new application (what the preview shows): eligibility_evaluate in APPLICATION mode."""
    return eligibility_evaluate(subscriber=subscriber, option=option, on=on, mode=EligibilityMode.APPLICATION)


def basis_fields(basis: BaseServiceContract | CarrierLineContract | None) -> dict:
    """The contract an option contract or a 新規利用申込 rests on, as its two fields."""
    if isinstance(basis, BaseServiceContract):
        return {"base_contract": basis, "carrier_line": None}
    return {"base_contract": None, "carrier_line": basis}


def option_held_refusal(
    subscriber: Subscriber,
    option: Option,
    *,
    base_contract: BaseServiceContract | None,
    carrier_line: CarrierLineContract | None,
) -> EligibilityResult | None:
    """A subscriber holds an option once per contract it rests on (more accounts is a contract change): the
    refusal naming the contract held, or None. The database's option_contract_one_open_per_basis stands behind."""
    held = subscriber.option_contracts.filter(option=option, base_contract=base_contract, carrier_line=carrier_line)
    contract = held.exclude(status=OptionContractStatus.ENDED).order_by("pk").first()
    if contract is None:
        return None
    message = (
        f"契約者「{subscriber}」は{option.name}を既に契約しています（契約 #{contract.pk}）。"
        "数量やサービス・細目の変更は契約内容変更申込で受け付けてください。"
    )
    return EligibilityResult(False, "", message, None, code="already_held")


def new_use_evaluate(
    *, subscriber: Subscriber, option: Option, on: dt.date, pending: Application | None = None
) -> EligibilityResult:
    """Whether a 新規利用申込 of `option` may be received on `on`: what 確認 and 申込 check
    (services.applications.application_check / application_submit) and what an open application's page shows.

    利用の条件 (eligibility_evaluate), then the option not held already on the same basis, then no other open
    新規利用申込 of it on that basis (`pending`, the application whose page asks, is not another)."""
    result = eligibility_check(subscriber=subscriber, option=option, on=on)
    if not result.ok:
        return result
    fields = basis_fields(result.basis)
    held = option_held_refusal(subscriber, option, **fields)
    if held is not None:
        return held
    others = subscriber.applications.filter(
        kind=ApplicationKind.NEW, option=option, status__in=OPEN_APPLICATION_STATUSES, **fields
    )
    if pending is not None:
        others = others.exclude(pk=pending.pk)
    duplicate = others.order_by("pk").first()
    if duplicate is not None:
        message = f"{option.name}の新規利用申込（#{duplicate.pk}、{duplicate.get_status_display()}）が処理中です。"
        return EligibilityResult(False, "", message, None, code="duplicate_application")
    return result


def _migrated(subscriber, option, on, given: GivenBasis, rules) -> EligibilityResult:
    for basis in (given.base_contract, given.carrier_line):
        if basis is None:
            continue
        if subscriber is not None and basis.subscriber_id != subscriber.pk:
            message = f"「{basis}」は契約者「{subscriber}」の契約ではありません。"
            return EligibilityResult(False, "", message, None, code="basis_mismatch")
        if basis.start_date > on:
            started = format_date(basis.start_date)
            message = f"契約成立日（{format_date(on)}）が「{basis}」の利用開始日（{started}）より前です。"
            return EligibilityResult(False, "", message, None, code="basis_after_contract")
    first = None
    for rule in rules:
        wanted, found = _wanted(rule), given.of_kind(rule.kind)
        if found not in wanted:
            names = "又は ".join(w.name for w in wanted)
            message = f"{option.name}の契約には {names}の{_BASIS_WHAT[rule.kind]}を指定してください（{rule.article}）"
            return _refused(rule, message, code="basis_required", missing=found is None)
        if first is None:
            first = given.base_contract if rule.kind == EligibilityKind.SERVICE_CONTRACT else given.carrier_line
    return EligibilityResult(True, "", "", first)


def _service_contract(subscriber, option, rule, on):
    services = _wanted(rule)
    contract = base_contracts_in_force(subscriber=subscriber, on=on).filter(service__in=services).first()
    if contract is not None:
        return contract, ""
    names = "又は ".join(s.name for s in services)
    return None, f"{option.name}を利用するには {names}の契約者である必要があります（{rule.article}）"


def _carrier_line(subscriber, option, rule, on):
    carrier_services = _wanted(rule)
    lines = carrier_lines_in_force(subscriber=subscriber, on=on).filter(carrier_service__in=carrier_services)
    line = lines.filter(confirmed_at__isnull=False).first()
    if line is not None:
        return line, ""
    names = "又は ".join(s.name for s in carrier_services)
    unconfirmed = lines.first()
    if unconfirmed is not None:
        return None, (
            f"{option.name}を利用するには {names}の契約について当社の確認が必要です。"
            f"回線「{unconfirmed.line_id}」は確認が済んでいません（{rule.article}）"
        )
    return None, (
        f"{option.name}を利用するには {names}の契約（契約者と当該電気通信事業者との間で締結されたもの）が"
        f"必要です（{rule.article}）"
    )


def fee_preview(
    *, option: Option, variant: OptionVariant, quantity: int, quoted_amount_yen: int | None, on: dt.date
) -> list[Priced]:
    """Return every fee item in force for `variant` on the JST date `on`, priced (初期費用, 月額費用, 一時費用).

    Refuses what approval would refuse: a quantity that is not whole blocks, a quoted fee without its quote.
    """
    if variant.option_id != option.pk:
        raise DomainError(f"「{variant.name}」は{option.name}のサービス・細目ではありません。", code="variant_mismatch")
    items = fee_items_in_force(on=on, variant=variant)
    return [price(fee_item=item, quantity=quantity, quoted_amount_yen=quoted_amount_yen) for item in items]


@dataclass(frozen=True)
class FeeTotal:
    """The total of one kind of fee in a preview, without and with consumption tax."""

    kind: str
    label: str
    amount_yen: int  # 税抜
    tax_rate_percent: int
    tax_yen: int
    amount_with_tax_yen: int


def fee_totals(priced: list[Priced], *, on: dt.date) -> list[FeeTotal]:
    """Return the preview's totals, one per kind of fee present (初期費用, 月額費用, 一時費用: owed at different
    times, so never added together), with the consumption tax at the rate in force on `on` (DOMAIN §3.10). The
    tax is the report's rule (contracts.reports.summary): `tax_for` on a total at one rate, rounded down."""
    rate = tax_rate_on(on)
    totals = []
    for kind in FeeKind:
        amount = sum(p.amount_yen for p in priced if p.fee_item.kind == kind)
        if not any(p.fee_item.kind == kind for p in priced):
            continue
        tax = tax_for(amount_yen=amount, rate_percent=rate)
        totals.append(FeeTotal(kind, kind.label, amount, rate, tax, amount + tax))
    return totals


def _rows_label(rows) -> str:
    return "、".join(f"{row.get_kind_display()} {row.amount_yen:,}円（#{row.pk}）" for row in rows)


def approval_summary(application: Application) -> str:
    """What an approval wrote, as the message staff see: the ledger rows, or why there are none (DOMAIN §1)."""
    rows = list(
        LedgerEntry.objects.filter(application=application, created_at__gte=application.decided_at)
        .exclude(kind=LedgerKind.MONTHLY_CHARGE)
        .order_by("pk")
    )
    if application.kind == ApplicationKind.NEW:
        rows = [r for r in rows if r.kind == LedgerKind.INITIAL]
    head = f"申込 #{application.pk}（{application.get_kind_display()}）を承諾しました。"
    if rows:
        return f"{head}支払義務を記帳しました: {_rows_label(rows)}。"
    decided = wareki_datetime(application.decided_at)
    if application.kind == ApplicationKind.NEW:
        return (
            f"{head}初期費用の支払義務は承諾日時（{decided}）に発生しましたが、"
            "この時点で有効な初期費用の料金細目がないため、台帳に記帳した行はありません。"
            "月額費用は課金開始日の登録で記帳します。"
        )
    if application.kind == ApplicationKind.CHANGE:
        effective = application.effective_date or clock.jst_date(application.decided_at)
        return (
            f"{head}一時費用の料金細目がなく、課金開始日も未登録のため、台帳に記帳した行はありません"
            f"（変更後の契約条件は{format_date(effective)}から適用）。"
        )
    if application.kind == ApplicationKind.CANCEL:
        return (
            f"{head}解約日（最終利用日）は{format_date(application.effective_date)}です。"
            "台帳に記帳した行はありません（月額料金は解約日まで日割りで計算します）。"
        )
    return f"{head}台帳に記帳した行はありません（締め済みの月の差額は次の月次締めで調整行として記帳します）。"


def billing_start_summary(contract: OptionContract) -> str:
    """The message after a 課金開始日 is entered: the 月額費用 rows it wrote."""
    rows = contract.ledger_entries.filter(
        kind=LedgerKind.MONTHLY, reverses__isnull=True, reversed_by__isnull=True
    ).order_by("effective_from", "pk")
    listed = "、".join(f"#{r.pk} 月額 {r.amount_yen:,}円（{format_date(r.effective_from)}から）" for r in rows)
    start = format_date(contract.billing_start_date)
    return f"課金開始日を{start}に登録しました。月額費用の支払義務を記帳しました: {listed}。"


@dataclass(frozen=True)
class TermsChange:
    """A later period of a contract's terms, as the contract page names it: 令和9年1月1日から 30."""

    valid_from: dt.date
    label: str


def _terms_label(period) -> str:
    parts = [str(period.quantity)]
    if period.quoted_amount_yen is not None:
        parts.append(f"見積額 {period.quoted_amount_yen:,}円")
    return "・".join(parts)


def option_contract_view(contract: OptionContract, *, on: dt.date | None = None) -> dict:
    """What the contract page shows, all from the terms timeline and the contract's dates (DOMAIN §3.16, §3.18).

    Its state today, the periods of its terms, the terms now and the changes to come, and, when `on` is given,
    the terms and the state on that date (the contract as of a date).
    """
    today = clock.today()
    rows = list(terms_rows(contract))
    periods = periods_of(contract)
    current = period_on(periods, today)
    upcoming = [p for p in periods if p.valid_from > today]
    variants = {r.pk: r for r in rows}
    view = {
        "state": contract_state_on(
            billing_start_date=contract.billing_start_date, end_date=contract.end_date, on=today
        ),
        "state_label": contract_state_label(
            billing_start_date=contract.billing_start_date, end_date=contract.end_date, on=today
        ),
        "terms_rows": rows,
        "terms_now": variants.get(current.pk) if current else None,
        "terms_upcoming": [TermsChange(p.valid_from, _terms_label(p)) for p in upcoming],
        "terms_now_label": _terms_label(current) if current else "",
        "pending_fee_changes": pending_fee_changes(contract, today=today),
    }
    if on is not None:
        then = period_on(periods, on)
        view.update(
            as_of=on,
            as_of_terms=variants.get(then.pk) if then else None,
            as_of_state_label=contract_state_label(
                billing_start_date=contract.billing_start_date, end_date=contract.end_date, on=on
            ),
        )
    return view


@dataclass(frozen=True)
class PendingFeeChange:
    """A published revision not yet in force that changes this contract's monthly fee (a pending price change)."""

    effective_on: dt.date
    amount_label: str
    revision_title: str

    def __str__(self) -> str:
        return (
            f"{format_date(self.effective_on, western=False)}から {self.amount_label}（改定案: {self.revision_title}）"
        )


def pending_fee_changes(contract: OptionContract, *, today: dt.date) -> list[PendingFeeChange]:
    """Return the monthly fee changes of published revisions not yet in force, for the terms the contract will be
    on that day (e.g. 「令和9年4月1日から 3,300円（改定案: 令和9年4月1日変更）」); none past its end date."""
    periods = periods_of(contract)
    items = (
        FeeItem.objects.filter(
            revision__status=RevisionStatus.PUBLISHED,
            revision__effective_on__gt=today,
            kind=FeeKind.MONTHLY,
            variant_id__in={p.variant_id for p in periods},
        )
        .select_related("revision")
        .order_by("revision__effective_on", "revision__amended_on", "pk")
    )
    changes = []
    for item in items:
        day = item.revision.effective_on
        period = period_on(periods, day)
        if period is None or period.variant_id != item.variant_id:
            continue
        if contract.end_date is not None and day > contract.end_date:
            continue
        if item.discontinued:
            label = "月額費用の廃止"
        else:
            try:
                priced = price(fee_item=item, quantity=period.quantity, quoted_amount_yen=period.quoted_amount_yen)
                label = f"{priced.amount_yen:,}円"
            except DomainError:
                label = item.price_label
        changes.append(PendingFeeChange(day, label, item.revision.title))
    return changes


@dataclass(frozen=True)
class RetiredOption:
    name: str
    retired_on: dt.date
    successor: str
    provision: str


def retired_options(*, on: dt.date) -> list[RetiredOption]:
    """The options no new contract can name on `on`, with what succeeds them (DOMAIN §3.19)."""
    retired = Option.objects.filter(retired_on__lte=on).prefetch_related("successions_out__to_option")
    found = []
    for option in retired.order_by("retired_on", "name", "pk"):
        succession = min(option.successions_out.all(), key=lambda s: (s.effective_on, s.pk), default=None)
        found.append(
            RetiredOption(
                option.name,
                option.retired_on,
                succession.to_option.name if succession else "",
                succession.provision if succession else "",
            )
        )
    return found


# --- Who may do what with an application (DOMAIN §3.8, §3.15) ----------------------------------------------


def application_four_eyes_refusal(application: Application, actor) -> DomainError | None:
    """Why `actor` may not decide `application` under four eyes (§3.8), or None: the approver is not the entrant,
    nor one who created the entrant's account or vice versa. The approval service raises it; screens show it."""
    if application.entered_by_id == actor.pk:
        return DomainError(
            f"申込を受け付けた職員（{staff_name(actor)}）は、同じ申込を承諾・不承諾できません。"
            "受付者とは別の承認者が決裁してください。",
            code="four_eyes",
        )
    try:
        staff_assert_independent(application.entered_by, actor, what="申込の受付者と決裁する職員")
    except DomainError as refusal:
        return refusal
    return None


@dataclass(frozen=True)
class ApplicationActions:
    """What one staff member may do with one application now; `four_eyes` says why they may not decide it."""

    is_open: bool
    is_entrant: bool
    start_review: bool
    decide: bool
    four_eyes: DomainError | None
    withdraw: bool
    quote: bool


def application_actions(application: Application, user, *, on: dt.date) -> ApplicationActions:
    is_open = application.status in OPEN_APPLICATION_STATUSES
    next_statuses = APPLICATION_TRANSITIONS[application.status]
    may_decide = user.has_perm("contracts.decide_application")
    decidable = may_decide and ApplicationStatus.APPROVED in next_statuses
    four_eyes = application_four_eyes_refusal(application, user) if decidable else None
    quoted = (
        is_open and application.kind != ApplicationKind.CANCEL and variant_is_quoted(variant=application.variant, on=on)
    )
    return ApplicationActions(
        is_open=is_open,
        is_entrant=application.entered_by_id == user.pk,
        start_review=may_decide and ApplicationStatus.UNDER_REVIEW in next_statuses,
        decide=decidable and four_eyes is None,
        four_eyes=four_eyes,
        withdraw=user.has_perm("contracts.change_application") and ApplicationStatus.WITHDRAWN in next_statuses,
        quote=quoted and (user.has_perm("contracts.change_application") or may_decide),
    )


# --- What staff may do on a subscriber's page (DOMAIN §3.15) -------------------------------------------------


@dataclass(frozen=True)
class SubscriberActions:
    """What one staff member may start from a subscriber's page; a deactivated subscriber takes nothing new."""

    edit: bool
    apply: bool
    add_base_contract: bool
    add_carrier_line: bool


def subscriber_actions(subscriber: Subscriber, user) -> SubscriberActions:
    active = subscriber.is_active
    return SubscriberActions(
        edit=user.has_perm("contracts.change_subscriber"),
        apply=active and user.has_perm("contracts.add_application"),
        add_base_contract=active and user.has_perm("contracts.add_baseservicecontract"),
        add_carrier_line=active and user.has_perm("contracts.add_carrierlinecontract"),
    )


@dataclass(frozen=True)
class BaseContractRow:
    """A base-service contract on the subscriber's page, with what the viewer may do with it."""

    contract: BaseServiceContract
    may_end: bool


@dataclass(frozen=True)
class CarrierLineRow:
    """A carrier-line contract on the subscriber's page, with what the viewer may do with it."""

    line: CarrierLineContract
    may_confirm: bool
    may_end: bool


def _not_ended(contract, on: dt.date) -> bool:
    return contract.end_date is None or contract.end_date >= on


def base_contract_rows(contracts, user, *, on: dt.date) -> list[BaseContractRow]:
    """The subscriber's base-service contracts (already fetched) with their actions: 終了 while not ended on `on`."""
    may_change = user.has_perm("contracts.change_baseservicecontract")
    return [BaseContractRow(c, may_change and _not_ended(c, on)) for c in contracts]


def carrier_line_rows(lines, user, *, on: dt.date) -> list[CarrierLineRow]:
    """The subscriber's carrier lines (already fetched) with their actions: 確認 once (第1条), 終了 while not ended."""
    may_change = user.has_perm("contracts.change_carrierlinecontract")
    return [
        CarrierLineRow(
            line,
            may_confirm=may_change and line.confirmed_at is None and _not_ended(line, on),
            may_end=may_change and _not_ended(line, on),
        )
        for line in lines
    ]


# --- Find anything: the header's search box -------------------------------------------------------------------

SEARCH_LIMIT = 20
SEARCH_QUERY_MAX = 100


@dataclass(frozen=True)
class SearchGroup:
    """One kind of record in the search results: what matched, at most SEARCH_LIMIT of them."""

    kind: str
    label: str
    rows: list
    more: bool  # more than SEARCH_LIMIT matched


# Each kind the box searches, with the permission that lets a user read it (contracts/roles.py): a user sees only
# the groups their role may view, and a role that views none of them (規程管理) gets no search box at all.
SEARCH_KINDS: tuple[tuple[str, str, str], ...] = (
    ("subscriber", "契約者", "contracts.view_subscriber"),
    ("base_contract", "基本サービス契約", "contracts.view_baseservicecontract"),
    ("carrier_line", "事業者回線契約", "contracts.view_carrierlinecontract"),
    ("option_contract", "オプション契約", "contracts.view_optioncontract"),
    ("application", "申込", "contracts.view_application"),
)
SEARCH_PERMISSIONS = tuple(perm for _, _, perm in SEARCH_KINDS)


def search_kinds_for(user) -> list[tuple[str, str]]:
    """Return (kind, label) of each kind of record `user` may search."""
    return [(kind, label) for kind, label, perm in SEARCH_KINDS if user.has_perm(perm)]


def _record_number(text: str) -> int | None:
    """Return the number in "#12", "12" or "１２" (an option contract or application number), else None."""
    digits = normalize(text).removeprefix("#")
    return int(digits) if digits.isdigit() and len(digits) <= 12 else None


def _search_rows(kind: str, text: str):
    if kind == "subscriber":
        return Subscriber.objects.matching(text).order_by("code", "pk")
    # Numbers are matched as staff typed them, in NFKC and without spaces, but with their hyphens. A contract number
    # and a line ID are keys in the code alphabet (core.text): a text outside it (a name, a フリガナ) matches none,
    # so it is not looked for (a LIKE '%…%' that no index serves would read every base contract and line).
    typed = "".join(text_for_storage(text).split())
    if kind in ("base_contract", "carrier_line") and not CODE_ALPHABET.fullmatch(typed):
        return (BaseServiceContract if kind == "base_contract" else CarrierLineContract).objects.none()
    if kind == "base_contract":
        if not typed:
            return BaseServiceContract.objects.none()
        return (
            BaseServiceContract.objects.filter(contract_number__icontains=typed)
            .select_related("subscriber", "service")
            .order_by("contract_number", "pk")
        )
    if kind == "carrier_line":
        if not typed:
            return CarrierLineContract.objects.none()
        return (
            CarrierLineContract.objects.filter(line_id__icontains=typed)
            .select_related("subscriber", "carrier_service")
            .order_by("line_id", "pk")
        )
    number = _record_number(text)
    model = OptionContract if kind == "option_contract" else Application
    if number is None:
        return model.objects.none()
    return model.objects.filter(pk=number).select_related("subscriber", "option", "variant")


def search_everything(*, text: str, user) -> list[SearchGroup]:
    """Return what `text` finds, grouped by kind, only the kinds `user` may view; a group per kind searched."""
    text = (text or "")[:SEARCH_QUERY_MAX]
    groups = []
    for kind, label in search_kinds_for(user):
        rows = list(_search_rows(kind, text)[: SEARCH_LIMIT + 1])
        groups.append(SearchGroup(kind, label, rows[:SEARCH_LIMIT], len(rows) > SEARCH_LIMIT))
    return groups


# --- Who is it: the subscriber an application is for ---------------------------------------------------------

LOOKUP_LIMIT = 20


def _with_current_base_contracts(subscribers: QuerySet[Subscriber], *, on: dt.date) -> QuerySet[Subscriber]:
    current = Q(end_date__isnull=True) | Q(end_date__gte=on)
    contracts = BaseServiceContract.objects.filter(current).select_related("service").order_by("start_date", "pk")
    prefetch = Prefetch("base_contracts", queryset=contracts, to_attr="current_base_contracts")
    return subscribers.prefetch_related(prefetch)


def subscriber_lookup(*, text: str, on: dt.date, limit: int = LOOKUP_LIMIT) -> tuple[list[Subscriber], bool]:
    """Return the subscribers whose code, name, フリガナ or phone contains `text` as staff typed it (core.search),
    at most `limit` in code order, and whether more matched. Each carries `current_base_contracts`: its base
    contracts in force on `on` or to come, which is what tells two 山田 apart and what 利用の条件 rest on."""
    rows = list(
        _with_current_base_contracts(Subscriber.objects.matching((text or "")[:SEARCH_QUERY_MAX]), on=on).order_by(
            "code", "pk"
        )[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def subscriber_by_code(code: str, *, on: dt.date) -> Subscriber | None:
    """The subscriber of exactly this code (as stored: Ｄ０００２ is D0002), with `current_base_contracts` as
    subscriber_lookup gives them, or None."""
    code = text_for_storage(code)
    if not code:
        return None
    return _with_current_base_contracts(Subscriber.objects.filter(code=code), on=on).first()


@dataclass(frozen=True)
class SubscriberFound:
    """What a text typed for "the subscriber" finds: the subscriber of that code, or the candidates it matches."""

    subscriber: Subscriber | None
    candidates: list
    more: bool


def subscriber_find(text: str, *, on: dt.date) -> SubscriberFound:
    """The subscriber whose code is `text`; else those whose code, name or フリガナ contain it (at most
    LOOKUP_LIMIT, `more` when there are more), for staff to choose from."""
    subscriber = subscriber_by_code(text, on=on)
    if subscriber is not None:
        return SubscriberFound(subscriber, [], False)
    candidates, more = subscriber_lookup(text=text, on=on)
    return SubscriberFound(None, candidates, more)


def month_close_job_latest(*, month: dt.date):
    """The latest close job of `month` (queued, running or finished), or None."""
    from contracts.models import MonthCloseJob

    return MonthCloseJob.objects.filter(month=month).select_related("requested_by").first()


def succession_unpriced_contracts(revision) -> list[tuple[int, dt.date]]:
    """Return (contract id, succession date) of every contract a succession the revision orders would move to a
    variant with no monthly fee in force on that date (counting the revision's own fees): moved onto nothing."""
    found = []
    successions = list(revision.successions.select_related("to_option"))
    if not successions:
        return []
    after = fee_schedule(kinds=[FeeKind.MONTHLY], including=revision)
    for succession in successions:
        targets = {v.code: v.pk for v in succession.to_option.variants.all()}
        for contract in succession_contracts(succession).iterator(chunk_size=2000):
            target = targets.get(contract.variant.code)
            on = succession.effective_on
            if target is None or after.in_force(variant_id=target, kind=FeeKind.MONTHLY, on=on) is None:
                found.append((contract.pk, on))
    return found


def succession_unpriced_refusal(revision) -> DomainError | None:
    """A publish guard (contracts.apps): a succession may not move a contract onto a variant without a fee."""
    return unpriced_refusal(
        succession_unpriced_contracts(revision),
        why="この改定の承継で移る先に月額費用がなく",
        remedy="承継先のサービス・細目の月額費用をこの改定に追加してから公開してください。",
    )


def succession_contracts(succession: Succession) -> QuerySet[OptionContract]:
    """Return the contracts a succession moves and has not moved yet (平成26年3月1日変更 附則第2項〜第4項): on the
    retired option, made on or before the provision's date, not ended before the succession date (nothing left
    to continue), and in force (a migrated contract not confirmed yet moves at the run after its confirmation)."""
    return (
        OptionContract.objects.filter(option=succession.from_option, contracted_on__lte=succession.contracts_made_until)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=succession.effective_on))
        .exclude(migration_pending())
        .select_related("subscriber", "variant")
        .order_by("subscriber__code", "pk")
    )
