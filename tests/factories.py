"""The tests' one builder layer; the catalogue itself comes from the `regulation` fixture.

- Model factories (UserFactory, SubscriberFactory, …): bare records, for a test that needs one and no story.
- Paths through the services (subscriber_with_base, submit_new, review_and_approve, add_fee_item, …) and
  scenarios (swp_subscriber, approved_swp_contract, billing_contract, closed_month): records made as staff make
  them, by a person of the role that may, at the suite's fixed clock (tests/conftest.py).

- Contracts billed from a date (contract_approved, contract_billed_from, contract_migrated, …) and the February
  book of the report and close tests (february_report_book): the charge, close and export tests' data, made as
  staff make it, at the instants the test names (`at`).

tests.ui_data is a deprecated alias of the scenarios.
"""

import datetime as dt

import factory
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection

from contracts.models import BaseServiceContract, CarrierLineContract, Subscriber
from core.search import search_key
from options.models import CarrierService, Service


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    last_name = factory.Sequence(lambda n: f"職員{n}")
    password = factory.django.Password("pass-1234")


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscriber

    code = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Sequence(lambda n: f"株式会社テスト{n}")
    kana = factory.Sequence(lambda n: f"カブシキガイシャテスト{n}")
    # The key the subscriber services write (contracts.services.subscribers); this factory saves around them.
    search_key = factory.LazyAttribute(lambda o: search_key(o.code, o.name, o.kana, getattr(o, "phone", "")))


class BaseServiceContractFactory(factory.django.DjangoModelFactory):
    """A base-service contract; pass `service_code` (e.g. "fiberaccess-f") with the regulation loaded."""

    class Meta:
        model = BaseServiceContract
        exclude = ("service_code",)

    subscriber = factory.SubFactory(SubscriberFactory)
    service_code = "web-highgrade2"
    service = factory.LazyAttribute(lambda o: Service.objects.get(code=o.service_code))
    contract_number = factory.Sequence(lambda n: f"B{n:07d}")
    start_date = dt.date(2020, 4, 1)


class CarrierLineContractFactory(factory.django.DjangoModelFactory):
    """A carrier line, confirmed by staff unless `confirmed_by=None, confirmed_at=None` is given."""

    class Meta:
        model = CarrierLineContract
        exclude = ("carrier_service_code",)

    subscriber = factory.SubFactory(SubscriberFactory)
    carrier_service_code = "flets-next-prio1"
    carrier_service = factory.LazyAttribute(lambda o: CarrierService.objects.get(code=o.carrier_service_code))
    line_id = factory.Sequence(lambda n: f"CAF{n:08d}")
    start_date = dt.date(2020, 4, 1)
    confirmed_by = factory.SubFactory(UserFactory)
    confirmed_at = factory.LazyFunction(lambda: dt.datetime(2020, 4, 1, 1, 0, tzinfo=dt.UTC))


# --- Paths through the services: records made the way staff make them ----------------------


def option(code: str):
    from options.models import Option

    return Option.objects.get(code=code)


def variant(option_code: str, code: str):
    from options.models import OptionVariant

    return OptionVariant.objects.get(option__code=option_code, code=code)


def subscriber_with_base(service_code: str, *, actor, code: str = "", start_date=dt.date(2020, 4, 1)):
    """A subscriber (through subscriber_create) holding a base-service contract of `service_code`."""
    from contracts.services import base_contract_create, subscriber_create

    code = code or f"S{Subscriber.objects.count() + 1:05d}"
    subscriber = subscriber_create(actor=actor, code=code, name=f"株式会社{code}", kana=f"カブシキガイシャ{code}")
    base_contract_create(
        subscriber=subscriber, service=Service.objects.get(code=service_code), start_date=start_date, actor=actor
    )
    return subscriber


def subscriber_with_line(
    carrier_service_code: str = "flets-next-prio1", *, actor, confirmer, code: str = "", start_date=dt.date(2020, 4, 1)
):
    """A subscriber holding a carrier-line contract, confirmed by `confirmer` (None: unconfirmed)."""
    from contracts.services import carrier_line_confirm, carrier_line_create, subscriber_create

    code = code or f"S{Subscriber.objects.count() + 1:05d}"
    subscriber = subscriber_create(actor=actor, code=code, name=f"回線契約者{code}")
    line = carrier_line_create(
        subscriber=subscriber,
        carrier_service=CarrierService.objects.get(code=carrier_service_code),
        line_id=f"CAF{code}",
        start_date=start_date,
        actor=actor,
    )
    if confirmer is not None:
        carrier_line_confirm(carrier_line=line, actor=confirmer)
    return subscriber


def submit_new(subscriber, option_code: str, variant_code: str, *, actor, **kwargs):
    from contracts.choices import ApplicationKind
    from contracts.services import application_submit

    return application_submit(
        subscriber=subscriber,
        kind=ApplicationKind.NEW,
        option=option(option_code),
        variant=variant(option_code, variant_code),
        actor=actor,
        **kwargs,
    )


def review_and_approve(application, *, approver):
    from contracts.services import application_approve, application_start_review

    application_start_review(application=application, actor=approver)
    return application_approve(application=application, actor=approver)


def add_fee_item(
    option_code: str,
    variant_code: str,
    kind: str,
    amount_yen: int,
    *,
    revision_on,
    actor,
    name="",
    block_size: int | None = None,
    proration: str = "",
):
    """Enter a fee item in the revision effective on `revision_on`, creating the revision if the regulation has
    none that day — as 規程管理 staff do when the company sets a fee (DOMAIN §3.14). Fixed per contract, or per
    block of `block_size` accounts; prorated daily unless `proration` says otherwise."""
    from core.wareki import to_wareki
    from options.choices import ChargeBasis, Pricing, Proration
    from options.models import FeeItem, TariffRevision
    from options.services import fee_item_save, revision_save

    revision = TariffRevision.objects.filter(effective_on=revision_on).first()
    if revision is None:
        title = f"{to_wareki(revision_on)}変更"
        revision = revision_save(
            revision=TariffRevision(
                title=title,
                amended_on=revision_on,
                effective_on=revision_on,
                provisions=f"この契約約款は、{to_wareki(revision_on)}から実施します。",
            ),
            actor=actor,
            reason="テスト用の改定",
        )
    opt = option(option_code)
    return fee_item_save(
        fee_item=FeeItem(
            revision=revision,
            option=opt,
            variant=variant(option_code, variant_code),
            kind=kind,
            name=name or f"{opt.name} {kind}",
            pricing=Pricing.PER_BLOCK if block_size else Pricing.FIXED,
            amount_yen=amount_yen,
            block_size=block_size,
            charge_basis=ChargeBasis.PER_BLOCK if block_size else ChargeBasis.PER_CONTRACT,
            proration=proration or Proration.DAILY,
            article=opt.fee_article,
            annex_ref=opt.annex_ref,
        ),
        actor=actor,
        reason="テスト用の料金細目",
    )


def role_group(name: str):
    """Return a role's group; a transactional test's flush empties auth_group, so restore it when gone."""
    from django.contrib.auth.models import Group, Permission

    from contracts.roles import sync_roles

    if not Group.objects.filter(name=name).exists():
        sync_roles(Group, Permission)
    return Group.objects.get(name=name)


def register_migrated_confirmed(*, confirmer=None, **kwargs):
    """A migrated contract registered by `actor` and confirmed by a second person (DOMAIN §3.13): in force.

    Without `confirmer`, a 受付担当 made for the purpose confirms it.
    """
    from django.contrib.auth import get_user_model

    from contracts.roles import CLERK
    from contracts.services import option_contract_confirm_migrated, option_contract_register_migrated

    contract = option_contract_register_migrated(**kwargs)
    if confirmer is None:
        confirmer, created = get_user_model().objects.get_or_create(
            username="migration-confirmer", defaults={"last_name": "確認 担当"}
        )
        if created:
            confirmer.groups.add(role_group(CLERK))
    return option_contract_confirm_migrated(option_contract=contract, actor=confirmer)


# --- Scenarios: what staff do, step by step, through the services with real actors ------------------------------
#
# Records here are made the way the screens make them (subscriber_create, base_contract_create,
# application_submit/approve, option_contract_set_billing_start, month_close), each by a person of the role
# that may do it, at the suite's fixed clock (tests/conftest.py) unless the test moved it. The model factories
# above remain for a test that needs a bare record and says why.

SWP = "swp-accounts"  # IIJ セキュア Web プラットフォーム アカウント追加: 10 accounts a block, 3,000円 a month


def staff_member(username: str, role: str, *, last_name: str = ""):
    """A person of `role`, made once per test database (e.g. the entry clerk of a builder called without one)."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"last_name": last_name})
    if created:
        user.groups.add(role_group(role))
    return user


def entry_clerk():
    """The 受付担当 who enters a scenario's subscriber when the test names none."""
    from contracts.roles import CLERK

    return staff_member("entry-clerk", CLERK, last_name="受付 担当")


def swp():
    """The SWP account option and its one variant."""
    from options.models import OptionVariant

    opt = option(SWP)
    return opt, OptionVariant.objects.get(option=opt)


def swp_subscriber(*, actor=None, code: str = "", name: str = "", kana: str = "", start_date=dt.date(2020, 4, 1)):
    """A subscriber holding IIJ Web ハイグレード2 (so 第3条 lets them use the SWP add-on), entered by `actor`."""
    from contracts.services import base_contract_create, subscriber_create

    actor = actor or entry_clerk()
    code = code or f"S{Subscriber.objects.count() + 1:05d}"
    subscriber = subscriber_create(
        actor=actor, code=code, name=name or f"株式会社{code}", kana=kana or f"カブシキガイシャ{code}"
    )
    base_contract_create(
        subscriber=subscriber, service=Service.objects.get(code="web-highgrade2"), start_date=start_date, actor=actor
    )
    return subscriber


def submit_swp(*, subscriber, actor, quantity: int = 30):
    """A new SWP application for `quantity` accounts, submitted by `actor` (受付担当)."""
    return submit_new(subscriber, SWP, "additional-accounts", quantity=quantity, actor=actor)


def approved_swp_contract(*, clerk, approver, quantity: int = 30, subscriber=None):
    """An SWP contract a 受付担当 applied for and a second person (承認者) approved: APPROVED, not yet billed."""
    subscriber = subscriber or swp_subscriber(actor=clerk)
    application = review_and_approve(
        submit_swp(subscriber=subscriber, actor=clerk, quantity=quantity), approver=approver
    )
    application.refresh_from_db()
    return application.option_contract


def billing_contract(*, clerk, approver, quantity: int = 30, billing_start=None):
    """An approved SWP contract whose 課金開始日 the clerk set (today by default): one MONTHLY ledger row."""
    from contracts.services import option_contract_set_billing_start
    from core import clock

    contract = approved_swp_contract(clerk=clerk, approver=approver, quantity=quantity)
    option_contract_set_billing_start(
        option_contract=contract, billing_start_date=billing_start or clock.today(), actor=clerk
    )
    contract.refresh_from_db()
    return contract


def closed_month(month: dt.date, *, actor):
    """Month `month` closed by 経理 (`actor`), as the 月次締め button does; the month must have ended."""
    from contracts.services.month_close import month_close

    return month_close(month=month, actor=actor)


# --- Contracts billed from a date: the charge, close and export tests' builders -----------------------------------
#
# Each goes through the services at the instants the test names (`at`): application by a 受付担当, review and
# approval by a 承認者 (the initial fees in force then are owed at that instant), the 課金開始日 entered by the
# clerk (the 月額費用 owed from it), an end by the approver. The default instant of an approval is 09:00 JST on the
# day billing starts.

SWP_ACCOUNTS = ("swp-accounts", "additional-accounts")  # 10アカウントあたり 3,000円 / 月; rests on Web ハイグレード2
TYPE_A = ("flets-hikari", "type-a")  # 個別見積, 1契約アカウントあたり; rests on a フレッツ光ネクスト プライオ1 line
IPV6 = ("ipv6", "fiberaccess-f")  # 0円; rests on IIJ FiberAccess/F

# What each option's contract rests on (第1・3・5条): a base service, or a carrier line ("line:" + its service).
_BASIS_OF = {"swp-accounts": "web-highgrade2", "ipv6": "fiberaccess-f", "flets-hikari": "line:flets-next-prio1"}


def jst(*args) -> dt.datetime:
    from core import clock

    return dt.datetime(*args, tzinfo=clock.JST)


def at(instant: dt.datetime):
    """Stand the clock at `instant` for the block (nested inside the suite's fixed clock, which it restores)."""
    return time_machine.travel(instant, tick=False)


def subscriber_for(
    key=SWP_ACCOUNTS, *keys, code: str = "", name: str = "", kana: str = "", clerk=None, since=dt.date(2010, 4, 1)
):
    """A subscriber entered by a 受付担当, holding since `since` what the options of `key` (and `keys`) rest on."""
    from contracts.services import base_contract_create, carrier_line_confirm, carrier_line_create, subscriber_create

    clerk = clerk or entry_clerk()
    code = code or f"S{Subscriber.objects.count() + 1:05d}"
    subscriber = subscriber_create(
        actor=clerk, code=code, name=name or f"株式会社{code}", kana=kana or f"カブシキガイシャ{code}"
    )
    for basis in dict.fromkeys(_BASIS_OF[k[0]] for k in (key, *keys)):
        if basis.startswith("line:"):
            line = carrier_line_create(
                subscriber=subscriber,
                carrier_service=CarrierService.objects.get(code=basis.removeprefix("line:")),
                line_id=f"CAF{code}",
                start_date=since,
                actor=clerk,
            )
            carrier_line_confirm(carrier_line=line, actor=clerk)
        else:
            base_contract_create(
                subscriber=subscriber, service=Service.objects.get(code=basis), start_date=since, actor=clerk
            )
    return subscriber


def contract_approved(
    key=SWP_ACCOUNTS,
    *,
    approver,
    approved_at: dt.datetime,
    subscriber=None,
    code: str = "",
    name: str = "",
    quantity: int = 10,
    quoted: int | None = None,
    clerk=None,
):
    """A new-use application for `key` entered by the clerk and approved by `approver` at `approved_at`."""
    clerk = clerk or entry_clerk()
    subscriber = subscriber or subscriber_for(key, code=code, name=name, clerk=clerk)
    with at(approved_at):
        application = submit_new(subscriber, *key, quantity=quantity, quoted_amount_yen=quoted, actor=clerk)
        review_and_approve(application, approver=approver)
    application.refresh_from_db()
    return application.option_contract


def contract_billed_from(
    billing_start: dt.date,
    key=SWP_ACCOUNTS,
    *,
    approver,
    approved_at: dt.datetime | None = None,
    end_date: dt.date | None = None,
    subscriber=None,
    code: str = "",
    name: str = "",
    quantity: int = 10,
    quoted: int | None = None,
    clerk=None,
):
    """A contract approved (by default at 09:00 JST on `billing_start`), its 課金開始日 `billing_start` entered by
    the clerk at the same instant, and, with `end_date`, ended on that day by the approver."""
    from contracts.services import option_contract_end, option_contract_set_billing_start

    clerk = clerk or entry_clerk()
    approved_at = approved_at or jst(billing_start.year, billing_start.month, billing_start.day, 9, 0)
    contract = contract_approved(
        key,
        approver=approver,
        approved_at=approved_at,
        subscriber=subscriber,
        code=code,
        name=name,
        quantity=quantity,
        quoted=quoted,
        clerk=clerk,
    )
    with at(approved_at):
        option_contract_set_billing_start(option_contract=contract, billing_start_date=billing_start, actor=clerk)
        if end_date is not None:
            option_contract_end(option_contract=contract, end_date=end_date, actor=approver, reason="解約の申出")
    contract.refresh_from_db()
    return contract


def contract_migrated(billing_start: dt.date, key=SWP_ACCOUNTS, *, code: str = "", quantity: int = 10, clerk=None):
    """A contract from before the system (DOMAIN §3.13), billed from `billing_start`, registered and confirmed."""
    clerk = clerk or entry_clerk()
    subscriber = subscriber_for(key, code=code, clerk=clerk, since=min(billing_start, dt.date(2010, 4, 1)))
    return register_migrated_confirmed(
        subscriber=subscriber,
        option=option(key[0]),
        variant=variant(*key),
        contracted_on=billing_start,
        billing_start_date=billing_start,
        quantity=quantity,
        base_contract=subscriber.base_contracts.first(),
        carrier_line=subscriber.carrier_lines.first(),
        actor=clerk,
    )


def contract_change(contract, *, approver, approved_at: dt.datetime, effective_date: dt.date, clerk=None, **terms):
    """A 契約内容変更申込 (quantity, variant or quote from `effective_date`) entered and approved at `approved_at`."""
    from contracts.choices import ApplicationKind
    from contracts.services import application_submit

    clerk = clerk or entry_clerk()
    with at(approved_at):
        application = application_submit(
            subscriber=contract.subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=contract,
            effective_date=effective_date,
            actor=clerk,
            **terms,
        )
        review_and_approve(application, approver=approver)
    contract.refresh_from_db()
    return application


def contract_correct(
    contract, *, approver, approved_at: dt.datetime, target: str, corrected_date: dt.date, clerk=None, **terms
):
    """A 訂正申込 (DOMAIN §3.17) of `target` entered and approved at `approved_at`."""
    from contracts.choices import ApplicationKind
    from contracts.services import application_submit

    clerk = clerk or entry_clerk()
    with at(approved_at):
        application = application_submit(
            subscriber=contract.subscriber,
            kind=ApplicationKind.CORRECTION,
            option_contract=contract,
            correction_target=target,
            corrected_date=corrected_date,
            correction_reason="申込書の記載を読み違えて入力した",
            actor=clerk,
            **terms,
        )
        review_and_approve(application, approver=approver)
    contract.refresh_from_db()
    return application


def monthly_row(contract, effective_from: dt.date | None = None):
    """The contract's standing 月額費用 row from `effective_from` (its 課金開始日 by default)."""
    from contracts.choices import LedgerKind

    return contract.ledger_entries.get(
        kind=LedgerKind.MONTHLY,
        effective_from=effective_from or contract.billing_start_date,
        reverses__isnull=True,
        reversed_by__isnull=True,
    )


def ledger_reverse_at(entry, *, actor, at_instant: dt.datetime, reason: str):
    """The reversal (取消) of `entry` made by `actor` at `at_instant` (ledger_entry_reverse)."""
    from contracts.services import ledger_entry_reverse

    with at(at_instant):
        return ledger_entry_reverse(entry=entry, reason=reason, actor=actor)


def numbering_from(start: int, *models) -> None:
    """Number the next rows of each of `models` from `start`, as a fresh database would from 1.

    The golden exports print 台帳番号 and 契約番号; the services choose no primary key, so a test that compares
    bytes fixes where the table's own counter stands (PostgreSQL's identity sequence, SQLite's sqlite_sequence).
    """
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            if connection.vendor == "postgresql":
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, start])
            else:
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start - 1])


def february_report_book(*, clerk, approver, approver2, tariff_manager) -> dict:
    """February 2026 as staff made it, numbered from fixed values, so that its exports compare byte for byte.

    Subscribers from 900001, contracts from 900101, ledger rows from 900201. 明細: a quoted fee from 2/1; a
    contract of 20 accounts billed from 2/1 and ended on 2/20, whose 初期費用 is reversed on 2/25 with a reason
    holding a comma and a line break; 10 accounts for the same subscriber approved on 2/3 (初期費用), billed from
    2/15 and changed to 20 from 3/1 on 2/27 (一時費用); a 0円 fee from 2/10. Texts that CSV must quote or
    neutralise (a formula, a double quote, a comma) and 髙 (cp932 holds it) are among the names.
    """
    from contracts.models import LedgerEntry, OptionContract
    from contracts.services import option_contract_end
    from options.choices import FeeKind

    feb = dt.date(2026, 2, 1)
    add_fee_item(
        *SWP_ACCOUNTS, FeeKind.INITIAL, 5000, revision_on=feb, actor=tariff_manager, name="追加アカウント初期費用"
    )
    add_fee_item(
        *SWP_ACCOUNTS, FeeKind.ONE_TIME, 2000, revision_on=feb, actor=tariff_manager, name="アカウント追加作業費"
    )
    numbering_from(900001, Subscriber)
    numbering_from(900101, OptionContract)
    numbering_from(900201, LedgerEntry)
    sakura = subscriber_for(SWP_ACCOUNTS, code="C000101", name="株式会社さくら", clerk=clerk)
    formula = subscriber_for(TYPE_A, code="C000102", name='=HYPERLINK("http://example.com","詳細")', clerk=clerk)
    takahashi = subscriber_for(IPV6, code="C000103", name="髙橋商店, 本店", clerk=clerk)

    # 900101: 3 accounts quoted at 1,200円 from 2/1 (月額費用 900201).
    quoted = contract_billed_from(
        feb, TYPE_A, subscriber=formula, quantity=3, quoted=1200, approver=approver, clerk=clerk
    )
    # 900102: 20 accounts from 2/1 (初期費用 900202 at the approval, 月額費用 900203), its end on 2/20 entered on 2/2.
    ending = contract_billed_from(feb, subscriber=sakura, quantity=20, approver=approver, clerk=clerk)
    with at(jst(2026, 2, 2, 9, 0)):
        option_contract_end(option_contract=ending, end_date=dt.date(2026, 2, 20), actor=approver, reason="解約の申出")
    # 900103: 10 accounts approved on 2/3 10:15 (初期費用 900204), billed from 2/15 (900205).
    swp = contract_billed_from(
        dt.date(2026, 2, 15), subscriber=sakura, approved_at=jst(2026, 2, 3, 10, 15), approver=approver, clerk=clerk
    )
    # 900104: IPv6, 0円, from 2/10 (900206).
    ipv6 = contract_billed_from(
        dt.date(2026, 2, 10), IPV6, subscriber=takahashi, quantity=1, approver=approver, clerk=clerk
    )
    # 900207: the reversal of 900202 by a second approver; 900208: the change's 一時費用 (月額費用 from 3/1: 900209).
    ledger_reverse_at(
        ending.ledger_entries.get(kind="initial"),
        actor=approver2,
        at_instant=jst(2026, 2, 25, 17, 30),
        reason="重複計上のため取消,\n経理確認済み",
    )
    contract_change(
        swp,
        approver=approver,
        approved_at=jst(2026, 2, 27, 14, 5, 9),
        effective_date=dt.date(2026, 3, 1),
        quantity=20,
        clerk=clerk,
    )
    ending.refresh_from_db()
    return {"subscribers": [sakura, formula, takahashi], "contracts": [quoted, ending, swp, ipv6]}


def draft_revision(effective_on: dt.date, *, actor, title: str = "", amended_on: dt.date | None = None):
    """A draft revision taking effect on `effective_on`, drafted by `actor` (規程管理) in the staff screens."""
    from core.wareki import to_wareki
    from options.models import TariffRevision
    from options.services.revisions import revision_draft_save

    return revision_draft_save(
        revision=TariffRevision(
            title=title or f"{to_wareki(effective_on)}変更（案）",
            amended_on=amended_on or effective_on,
            effective_on=effective_on,
            provisions=f"この改正規定は、{to_wareki(effective_on)}から実施します。",
        ),
        actor=actor,
        reason="改定の起案",
    )


def draft_swp_fee(revision, amount_yen: int | None, *, actor):
    """The draft's SWP 追加アカウント使用料 (per 10 accounts): a new amount, or discontinued when None."""
    from options.choices import ChargeBasis, FeeKind, Pricing
    from options.models import FeeItem
    from options.services.revisions import draft_fee_item_save

    opt = option(SWP)
    return draft_fee_item_save(
        fee_item=FeeItem(
            revision=revision,
            option=opt,
            variant=variant(SWP, "additional-accounts"),
            kind=FeeKind.MONTHLY,
            name="IIJ セキュア Web プラットフォーム追加アカウント使用料",
            pricing=Pricing.PER_BLOCK,
            amount_yen=amount_yen,
            block_size=None if amount_yen is None else 10,
            charge_basis=ChargeBasis.PER_BLOCK,
            discontinued=amount_yen is None,
            article=opt.fee_article,
            annex_ref=opt.annex_ref,
        ),
        actor=actor,
        reason="料金の改定案",
    )


def publish_revision(revision, *, drafter, publisher, reason: str = "規程管理の確認済み"):
    """Send the draft for review (its drafter) and publish it (a colleague): the four eyes."""
    from options.choices import RevisionStatus
    from options.services.revisions import revision_transition

    revision_transition(revision=revision, to=RevisionStatus.REVIEW, actor=drafter, reason="確認を依頼します")
    return revision_transition(revision=revision, to=RevisionStatus.PUBLISHED, actor=publisher, reason=reason)


def close_from_preview(client, month: dt.date, **extra):
    """Post the close of `month` as the 仮締め page's button does: with the signed digest of the preview shown."""
    from django.urls import reverse

    page = client.get(reverse("contracts:close_preview"), {"month": f"{month:%Y-%m}"})
    token = page.context["token"] if page.context and "token" in page.context else ""
    return client.post(
        reverse("contracts:month_close"), {"month": f"{month:%Y-%m}", "preview": token, **extra}, follow=True
    )
