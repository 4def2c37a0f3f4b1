"""Records the screen tests look at, made through the services as staff would make them."""

import datetime as dt

from contracts.services.applications import application_approve, application_start_review, application_submit
from contracts.services.option_contracts import option_contract_set_billing_start
from core import clock
from options.models import Option, OptionVariant
from tests.factories import BaseServiceContractFactory, SubscriberFactory

SWP = "swp-accounts"


def swp():
    option = Option.objects.get(code=SWP)
    return option, OptionVariant.objects.get(option=option)


def swp_subscriber(**kwargs):
    """A subscriber holding IIJ Web ハイグレード2, so 第3条 lets them use the SWP account add-on."""
    subscriber = SubscriberFactory(**kwargs)
    BaseServiceContractFactory(subscriber=subscriber, service_code="web-highgrade2", start_date=dt.date(2020, 4, 1))
    return subscriber


def submit_swp(*, subscriber, actor, quantity=30):
    option, variant = swp()
    return application_submit(
        subscriber=subscriber, kind="new", option=option, variant=variant, quantity=quantity, actor=actor
    )


def approve(application, *, approver):
    application_start_review(application=application, actor=approver)
    return application_approve(application=application, actor=approver)


def billing_contract(*, clerk, approver, quantity=30):
    """An approved SWP contract with its 課金開始日 set today: one MONTHLY ledger row."""
    application = approve(submit_swp(subscriber=swp_subscriber(), actor=clerk, quantity=quantity), approver=approver)
    application.refresh_from_db()
    contract = application.option_contract
    option_contract_set_billing_start(option_contract=contract, billing_start_date=clock.today(), actor=clerk)
    contract.refresh_from_db()
    return contract
