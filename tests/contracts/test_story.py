"""The whole story with a fixed clock, Kill Bill style: every ledger row asserted exactly, then every step
retried and nothing more written."""

import datetime as dt

import pytest
import time_machine

from contracts.choices import ApplicationKind, ApplicationStatus, LedgerKind, OptionContractStatus
from contracts.models import Application, BaseServiceContract, LedgerEntry, OptionContract, Subscriber
from contracts.services import (
    application_approve,
    application_start_review,
    application_submit,
    base_contract_create,
    option_contract_end,
    option_contract_set_billing_start,
    subscriber_create,
)
from core.clock import JST
from core.errors import DomainError
from options.models import Service
from tests.factories import add_fee_item, option, variant

pytestmark = pytest.mark.django_db

R8 = "令和8年2月1日変更"


def jst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


def ledger():
    return [
        (e.kind, e.amount_yen, e.quantity, e.blocks, e.revision.title, e.arisen_at, e.effective_from, e.booked_month)
        for e in LedgerEntry.objects.select_related("revision").order_by("arisen_at", "pk")
    ]


def written():
    """Everything the story writes: rows and history rows of every record it touches."""
    models = (Subscriber, BaseServiceContract, Application, OptionContract, LedgerEntry)
    return [m.objects.count() for m in models] + [m.history.count() for m in models]


def test_story_subscriber_to_cancellation_with_exact_ledger_rows_and_idempotent_retries(
    regulation, clerk, approver, tariff_manager
):
    # The company sets an initial and a one-time fee (DOMAIN §3.14: the seed has none; staff enter them).
    add_fee_item(
        "swp-accounts", "additional-accounts", "initial", 5000, revision_on=dt.date(2026, 2, 1), actor=tariff_manager
    )
    add_fee_item(
        "swp-accounts", "additional-accounts", "one_time", 1000, revision_on=dt.date(2026, 2, 1), actor=tariff_manager
    )
    swp, accounts = option("swp-accounts"), variant("swp-accounts", "additional-accounts")

    # 1. 受付担当 registers the subscriber, its Web ハイグレード2 contract and a 新規利用申込 for 10 accounts.
    with time_machine.travel(jst(2026, 3, 2, 10, 0), tick=False):
        subscriber = subscriber_create(actor=clerk, code="K0001", name="株式会社キルビル", reason="申込書の受領")
        base_contract_create(
            subscriber=subscriber,
            service=Service.objects.get(code="web-highgrade2"),
            start_date=dt.date(2026, 3, 1),
            actor=clerk,
        )
        submit = {"subscriber": subscriber, "option": swp, "variant": accounts, "quantity": 10, "actor": clerk}
        new = application_submit(kind=ApplicationKind.NEW, **submit)
        before = written()
        with pytest.raises(DomainError, match=f"新規利用申込（#{new.pk}、受付）が処理中です"):
            application_submit(kind=ApplicationKind.NEW, **submit)
        assert written() == before
    assert ledger() == []

    # 2. 承認者 approves: the contract is approved, and the 初期費用 arises at the approval instant.
    approved_at = jst(2026, 3, 3, 9, 15)
    with time_machine.travel(approved_at, tick=False):
        application_start_review(application=new, actor=approver)
        application_approve(application=new, actor=approver)
    contract = OptionContract.objects.get()
    assert (contract.status, contract.approved_at, contract.contracted_on, contract.quantity) == (
        OptionContractStatus.APPROVED,
        approved_at,
        dt.date(2026, 3, 3),
        10,
    )
    assert ledger() == [(LedgerKind.INITIAL, 5000, 10, None, R8, approved_at, None, dt.date(2026, 3, 1))]

    # 3. Billing starts on 2026-04-01: the 月額費用 obligation of 1 block arises that day.
    with time_machine.travel(jst(2026, 3, 20, 16, 0), tick=False):
        option_contract_set_billing_start(option_contract=contract, billing_start_date=dt.date(2026, 4, 1), actor=clerk)
    april = (LedgerKind.MONTHLY, 3000, 10, 1, R8, jst(2026, 4, 1), dt.date(2026, 4, 1), dt.date(2026, 4, 1))
    assert ledger()[1:] == [april]

    # 4. 契約内容変更申込 10 → 30 accounts from 2026-05-01: one-time fee at approval, 3 blocks = 9,000円/月.
    change_approved_at = jst(2026, 4, 20, 14, 0)
    with time_machine.travel(change_approved_at, tick=False):
        change = application_submit(
            subscriber=subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=contract,
            quantity=30,
            effective_date=dt.date(2026, 5, 1),
            actor=clerk,
        )
        application_start_review(application=change, actor=approver)
        application_approve(application=change, actor=approver)
    one_time = (LedgerKind.ONE_TIME, 1000, 30, None, R8, change_approved_at, None, dt.date(2026, 4, 1))
    may = (LedgerKind.MONTHLY, 9000, 30, 3, R8, jst(2026, 5, 1), dt.date(2026, 5, 1), dt.date(2026, 5, 1))
    assert ledger()[2:] == [one_time, may]

    # 5. 解約申込 with 2026-06-30 as the last day of service: the contract ends, no obligation is written.
    with time_machine.travel(jst(2026, 6, 10, 11, 0), tick=False):
        cancel = application_submit(
            subscriber=subscriber,
            kind=ApplicationKind.CANCEL,
            option_contract=contract,
            effective_date=dt.date(2026, 6, 30),
            actor=clerk,
        )
        application_start_review(application=cancel, actor=approver)
        application_approve(application=cancel, actor=approver)
    contract.refresh_from_db()
    assert (contract.status, contract.end_date, contract.quantity) == (
        OptionContractStatus.ENDED,
        dt.date(2026, 6, 30),
        30,
    )
    final = ledger()
    assert final == [
        (LedgerKind.INITIAL, 5000, 10, None, R8, approved_at, None, dt.date(2026, 3, 1)),
        april,
        one_time,
        may,
    ]
    assert {a.status for a in Application.objects.all()} == {ApplicationStatus.APPROVED}

    # 6. Every step retried (a double click, a resent request, a rerun): nothing more is written.
    before = written()
    with time_machine.travel(jst(2026, 6, 11, 9, 0), tick=False):
        for application in (new, change, cancel):
            assert application_approve(application=application, actor=approver).status == ApplicationStatus.APPROVED
            with pytest.raises(DomainError, match="既に「承諾」です"):
                application_start_review(application=application, actor=approver)
        option_contract_set_billing_start(option_contract=contract, billing_start_date=dt.date(2026, 4, 1), actor=clerk)
        option_contract_end(option_contract=contract, end_date=dt.date(2026, 6, 30), actor=approver, reason="再実行")
        with pytest.raises(DomainError, match="解約済みです"):
            application_submit(
                subscriber=subscriber,
                kind=ApplicationKind.CANCEL,
                option_contract=contract,
                effective_date=dt.date(2026, 6, 30),
                actor=clerk,
            )
    assert written() == before
    assert ledger() == final
