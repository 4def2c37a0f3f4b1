"""Invariants the database holds behind the services: a row written around them (a script, a future bug) is refused.

The data each test starts from is made through the services (tests.factories); then the test writes with the ORM
directly, as only a defect would, and expects the database to refuse.
"""

import datetime as dt

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from contracts.choices import ApplicationKind, ApplicationStatus, LedgerKind, OptionContractStatus
from contracts.models import Application, LedgerEntry, OptionContract
from options.choices import FeeKind
from tests.factories import SWP_ACCOUNTS, add_fee_item, contract_billed_from, jst, ledger_reverse_at

pytestmark = pytest.mark.django_db

END = dt.date(2026, 3, 31)


@pytest.fixture
def contract(regulation, approver, tariff_manager):
    add_fee_item(*SWP_ACCOUNTS, FeeKind.INITIAL, 5000, revision_on=dt.date(2026, 2, 1), actor=tariff_manager)
    return contract_billed_from(dt.date(2026, 2, 1), code="I000001", approver=approver)


def _written_around_the_services(contract: OptionContract) -> OptionContract:
    """A second open contract of the same option on the same basis: the service would say "already held"."""
    fields = {
        f.attname: getattr(contract, f.attname)
        for f in OptionContract._meta.concrete_fields
        if f.attname not in ("id", "origin_application_id")
    }
    return OptionContract.objects.create(**fields)


def test_an_ended_contract_has_an_end_date_and_only_an_ended_one(contract):
    with pytest.raises(IntegrityError), transaction.atomic():
        OptionContract.objects.filter(pk=contract.pk).update(status=OptionContractStatus.ENDED)
    with pytest.raises(IntegrityError), transaction.atomic():
        OptionContract.objects.filter(pk=contract.pk).update(end_date=dt.date(2026, 3, 31))
    OptionContract.objects.filter(pk=contract.pk).update(status=OptionContractStatus.ENDED, end_date=END)


def test_one_open_contract_per_subscriber_option_and_basis(contract):
    with pytest.raises(IntegrityError, match="option_contract_one_open_per_basis"), transaction.atomic():
        _written_around_the_services(contract)
    OptionContract.objects.filter(pk=contract.pk).update(status=OptionContractStatus.ENDED, end_date=END)
    again = _written_around_the_services(contract)  # once the first has ended, a new one may be made
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
        entered_at=jst(2026, 3, 1, 10),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=application.pk).update(status=ApplicationStatus.WITHDRAWN)


@pytest.mark.postgres
def test_a_reversal_row_negates_its_original_exactly(contract, approver2):
    original = contract.ledger_entries.get(kind=LedgerKind.INITIAL)  # owed at the approval
    with pytest.raises(DatabaseError, match="ちょうど打ち消す"), transaction.atomic():
        LedgerEntry.objects.create(
            **{
                f.attname: getattr(original, f.attname)
                for f in LedgerEntry._meta.concrete_fields
                if f.attname not in ("id", "created_at")
            }
            | {"amount_yen": -original.amount_yen + 1, "reverses_id": original.pk, "reason": "一部だけ取消"}
        )
    reversal = ledger_reverse_at(original, actor=approver2, at_instant=jst(2026, 2, 2, 10), reason="誤登録")
    assert reversal.amount_yen == -original.amount_yen
