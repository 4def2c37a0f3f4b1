"""Invariants the database holds behind the services: a row written around them (a script, a future bug) is refused.

Each test writes with the ORM directly, as only a defect would, and expects the database to refuse.
"""

import datetime as dt

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from contracts.choices import ApplicationKind, ApplicationStatus, LedgerKind, OptionContractStatus
from contracts.models import Application, LedgerEntry, OptionContract
from options.choices import FeeKind
from options.models import FeeItem
from tests.contracts import report_data as rd

pytestmark = pytest.mark.django_db

END = dt.date(2026, 3, 31)


@pytest.fixture
def contract(regulation, approver):
    return rd.contract(rd.subscriber("I000001"), approver=approver, billing_start=dt.date(2026, 2, 1))


def test_an_ended_contract_has_an_end_date_and_only_an_ended_one(contract):
    with pytest.raises(IntegrityError), transaction.atomic():
        OptionContract.objects.filter(pk=contract.pk).update(status=OptionContractStatus.ENDED)
    with pytest.raises(IntegrityError), transaction.atomic():
        OptionContract.objects.filter(pk=contract.pk).update(end_date=dt.date(2026, 3, 31))
    OptionContract.objects.filter(pk=contract.pk).update(status=OptionContractStatus.ENDED, end_date=END)


def test_one_open_contract_per_subscriber_option_and_basis(contract, approver):
    with pytest.raises(IntegrityError), transaction.atomic():
        rd.contract(contract.subscriber, approver=approver)  # the same option, no basis: the service's "already held"
    OptionContract.objects.filter(pk=contract.pk).update(status=OptionContractStatus.ENDED, end_date=END)
    again = rd.contract(contract.subscriber, approver=approver)  # once the first has ended, a new one may be made
    assert again.pk != contract.pk


def test_a_withdrawn_application_states_why(contract, clerk):
    application = Application.objects.create(
        kind=ApplicationKind.CANCEL,
        subscriber=contract.subscriber,
        option=contract.option,
        variant=contract.variant,
        option_contract=contract,
        quantity=contract.quantity,
        effective_date=dt.date(2026, 3, 31),
        entered_by=clerk,
        entered_at=rd.jst(2026, 3, 1, 10),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=application.pk).update(status=ApplicationStatus.WITHDRAWN)


@pytest.mark.postgres
def test_a_reversal_row_negates_its_original_exactly(contract, approver):
    fee_item = FeeItem.objects.filter(variant=contract.variant, kind=FeeKind.MONTHLY).first()
    original = rd.one_off(
        contract, kind=LedgerKind.INITIAL, fee_item=fee_item, arisen_at=rd.jst(2026, 2, 1, 10), actor=approver
    )
    with pytest.raises(DatabaseError, match="ちょうど打ち消す"), transaction.atomic():
        LedgerEntry.objects.create(
            **{
                f.attname: getattr(original, f.attname)
                for f in LedgerEntry._meta.concrete_fields
                if f.attname not in ("id", "created_at")
            }
            | {"amount_yen": -original.amount_yen + 1, "reverses_id": original.pk, "reason": "一部だけ取消"}
        )
    reversal = rd.reverse(original, at=rd.jst(2026, 2, 2, 10), reason="誤登録", actor=approver)
    assert reversal.amount_yen == -original.amount_yen
