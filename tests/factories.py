"""Factories for contracts records; the catalogue itself comes from the `regulation` fixture."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from contracts.models import BaseServiceContract, CarrierLineContract, Subscriber
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
