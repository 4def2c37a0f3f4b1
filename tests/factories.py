"""The tests' one builder layer; the catalogue itself comes from the `regulation` fixture.

- Model factories (UserFactory, SubscriberFactory, …): bare records, for a test that needs one and no story.
- Paths through the services (subscriber_with_base, submit_new, review_and_approve, add_fee_item, …) and
  scenarios (swp_subscriber, approved_swp_contract, billing_contract, closed_month): records made as staff make
  them, by a person of the role that may, at the suite's fixed clock (tests/conftest.py).

tests.ui_data is a deprecated alias of the scenarios. tests.contracts.report_data still writes contracts and
ledger rows around the services, on purpose and said so in its docstring.
"""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

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


def add_fee_item(option_code: str, variant_code: str, kind: str, amount_yen: int, *, revision_on, actor, name=""):
    """Enter a fixed fee item (per contract) in the revision effective on `revision_on`, creating the revision
    if the regulation has none that day — as 規程管理 staff do when the company sets a fee (DOMAIN §3.14)."""
    from core.wareki import to_wareki
    from options.choices import ChargeBasis, Pricing
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
            pricing=Pricing.FIXED,
            amount_yen=amount_yen,
            charge_basis=ChargeBasis.PER_CONTRACT,
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


def close_from_preview(client, month: dt.date, **extra):
    """Post the close of `month` as the 仮締め page's button does: with the signed digest of the preview shown."""
    from django.urls import reverse

    page = client.get(reverse("contracts:close_preview"), {"month": f"{month:%Y-%m}"})
    token = page.context["token"] if page.context and "token" in page.context else ""
    return client.post(
        reverse("contracts:month_close"), {"month": f"{month:%Y-%m}", "preview": token, **extra}, follow=True
    )
