"""Factories for contracts records; the catalogue itself comes from the `regulation` fixture."""

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
