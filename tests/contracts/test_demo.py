"""The demo back office of `make run`: a living office made through the services, loaded once."""

import io

import pytest
from django.core.management import call_command

from contracts.choices import ApplicationKind, ApplicationStatus, OptionContractStatus
from contracts.models import Application, LedgerEntry, OptionContract, Subscriber

pytestmark = pytest.mark.django_db


def _load():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_demo_has_applications_in_every_state_and_contracts_at_every_stage(regulation):
    _load()
    assert Subscriber.objects.filter(code__startswith="D").count() == 10
    assert set(Application.objects.values_list("status", flat=True)) == set(ApplicationStatus.values)
    rejected = Application.objects.get(status=ApplicationStatus.REJECTED)
    assert rejected.rejection_reason
    approved = Application.objects.filter(status=ApplicationStatus.APPROVED)
    assert sorted(approved.values_list("kind", flat=True)) == sorted(
        [ApplicationKind.NEW] * 3 + [ApplicationKind.CHANGE, ApplicationKind.CANCEL]
    )
    assert {a.entered_by.username for a in Application.objects.all()} == {"uketsuke"}
    assert {a.decided_by.username for a in Application.objects.exclude(decided_by=None)} == {"shonin"}
    statuses = sorted(OptionContract.objects.values_list("subscriber__code", "status"))
    assert statuses == [
        ("D0001", OptionContractStatus.BILLING),
        ("D0002", OptionContractStatus.APPROVED),
        ("D0007", OptionContractStatus.ENDED),
        ("D0008", OptionContractStatus.BILLING),
        ("D0009", OptionContractStatus.BILLING),
        ("D0010", OptionContractStatus.BILLING),
    ]
    assert OptionContract.objects.get(subscriber__code="D0001").quantity == 30
    hokuto = OptionContract.objects.get(subscriber__code="D0008")
    assert (hokuto.migrated, hokuto.option.code, hokuto.succession.provision) == (
        True,
        "flets-hikari",
        "平成26年3月1日変更 附則第4項",
    )
    # Monthly rows: D0001 from today (10) and from next month (30), D0007 from today.
    assert LedgerEntry.objects.count() == 3


def test_demo_loaded_again_changes_nothing(regulation):
    _load()
    counts = [m.objects.count() for m in (Subscriber, Application, OptionContract, LedgerEntry)]
    history = [m.history.count() for m in (Subscriber, Application, OptionContract, LedgerEntry)]
    assert _load() == "デモデータは登録済みです。\n"
    assert [m.objects.count() for m in (Subscriber, Application, OptionContract, LedgerEntry)] == counts
    assert [m.history.count() for m in (Subscriber, Application, OptionContract, LedgerEntry)] == history
