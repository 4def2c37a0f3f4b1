"""Exactly once (DOMAIN §3.9): concurrent approvals of one application give one approval
and one set of ledger rows — by the row locks, and by the database constraints alone when they are bypassed.
"""

import datetime as dt
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from contracts import roles
from contracts.choices import ApplicationStatus, LedgerKind
from contracts.models import Application, LedgerEntry, OptionContract
from contracts.services import application_start_review
from contracts.services import applications as application_services
from contracts.services.locks import lock_application
from core.errors import DomainError
from options.choices import FeeKind
from tests.factories import add_fee_item, review_and_approve, role_group, submit_new, subscriber_with_base

TRIALS = 20
THREADS = 4


def _users():
    # Superusers: two approvers who may decide, without depending on the role groups.
    model = get_user_model()
    entrant = model.objects.create_user(username="entrant", last_name="受付")
    entrant.groups.add(role_group(roles.CLERK))  # services check their actor: entering needs the clerk's role
    approvers = [model.objects.create_superuser(username=f"approver{i}", last_name=f"承認{i}") for i in (1, 2)]
    return entrant, approvers


def _under_review(code, *, entrant, reviewer):
    subscriber = subscriber_with_base("web-highgrade2", actor=entrant, code=code)
    application = submit_new(subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=entrant)
    return application_start_review(application=application, actor=reviewer)


def _race(application_pk, actors, *, barrier=None):
    """Run application_approve once per actor, each in its own thread and database connection, all at once."""
    barrier = barrier or threading.Barrier(len(actors))
    outcomes = []

    def approve(actor):
        try:
            stale = Application.objects.get(pk=application_pk)  # each request read the page before the others
            barrier.wait(timeout=30)
            application_services.application_approve(application=stale, actor=actor)
            outcomes.append(("approved", actor.pk))
        except DomainError as error:
            outcomes.append((error.code, actor.pk))
        except IntegrityError:
            outcomes.append(("integrity_error", actor.pk))
        except Exception as error:  # noqa: BLE001 - any other failure is reported by the assertion below
            outcomes.append((repr(error), actor.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def initial_fee(regulation):
    # The seed has no initial fee; with one, "one set of ledger rows" is one 初期費用 row per approval.
    from core.history_write import system_user

    add_fee_item(
        "swp-accounts",
        "additional-accounts",
        FeeKind.INITIAL,
        2000,
        revision_on=dt.date(2026, 2, 1),
        actor=system_user(),
        name="初期設定料",
    )


@pytest.mark.postgres
def test_exactly_once_concurrent_approvals_give_one_approval_and_one_set_of_ledger_rows(transactional_db, initial_fee):
    entrant, (first, second) = _users()
    # Two approvers, each also double-clicking (or resending the POST).
    actors = [first, second, first, second]
    assert len(actors) == THREADS
    for trial in range(TRIALS):
        application = _under_review(f"X{trial:03d}", entrant=entrant, reviewer=first)
        outcomes = _race(application.pk, actors)

        application.refresh_from_db()
        assert application.status == ApplicationStatus.APPROVED
        winner = application.decided_by_id
        loser = second.pk if winner == first.pk else first.pk
        # The winner's two requests both succeed (the retry writes nothing); the other approver is told.
        assert sorted(outcomes) == sorted(
            [("approved", winner), ("approved", winner), ("already_decided", loser), ("already_decided", loser)]
        ), f"trial {trial}: {outcomes}"
        contract = OptionContract.objects.get(origin_application=application)
        rows = LedgerEntry.objects.filter(application=application)
        assert list(rows.values_list("kind", "amount_yen", "option_contract")) == [
            (LedgerKind.INITIAL, 2000, contract.pk)
        ]
        assert application.history.filter(status=ApplicationStatus.APPROVED).count() == 1
    assert OptionContract.objects.count() == TRIALS
    assert LedgerEntry.objects.count() == TRIALS


@pytest.mark.postgres
def test_exactly_once_the_database_alone_holds_when_the_lock_and_status_check_are_bypassed(
    transactional_db, initial_fee, monkeypatch
):
    entrant, (first, second) = _users()
    actors = [first, second, first, second]
    applications = [_under_review(f"Y{trial:03d}", entrant=entrant, reviewer=first) for trial in range(TRIALS)]
    gate = {}

    def no_lock(application):
        # Read without locking, and let every request pass the status check before any of them writes.
        fresh = Application.objects.select_related("option", "variant").get(pk=application.pk)
        gate["barrier"].wait(timeout=30)
        return fresh, None

    monkeypatch.setattr(application_services, "_lock_tree", no_lock)
    # The "already holds this option" check reads committed contracts; bypass it too, so only the database is left.
    monkeypatch.setattr(application_services, "option_contract_assert_not_held", lambda *args, **kwargs: None)
    for trial, application in enumerate(applications):
        gate["barrier"] = threading.Barrier(THREADS)
        outcomes = _race(application.pk, actors)
        # One request wins; the others fail on OptionContract.origin_application (one-to-one) and roll back whole.
        assert sorted(o for o, _ in outcomes) == [
            "approved",
            "integrity_error",
            "integrity_error",
            "integrity_error",
        ], f"trial {trial}: {outcomes}"
        assert OptionContract.objects.filter(origin_application=application).count() == 1
        assert LedgerEntry.objects.filter(application=application).count() == 1
        application.refresh_from_db()
        assert application.history.filter(status=ApplicationStatus.APPROVED).count() == 1


@pytest.mark.django_db
def test_exactly_once_one_contract_per_application_is_a_database_constraint(regulation, clerk, approver):
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk)
    application = submit_new(subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    review_and_approve(application, approver=approver)
    contract = OptionContract.objects.get()
    duplicate = OptionContract(
        subscriber=subscriber,
        option=contract.option,
        variant=contract.variant,
        contracted_on=contract.contracted_on,
        approved_at=contract.approved_at,
        approved_by=approver,
        origin_application=application,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


@pytest.mark.django_db
def test_exactly_once_one_initial_fee_row_per_application_and_fee_item_is_a_database_constraint(
    initial_fee, clerk, approver
):
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk)
    application = submit_new(subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    review_and_approve(application, approver=approver)
    row = LedgerEntry.objects.get()
    copy = LedgerEntry(
        **{f.attname: getattr(row, f.attname) for f in LedgerEntry._meta.concrete_fields if f.attname != "id"}
    )
    with pytest.raises(IntegrityError, match="ledger_once_per_application_fee|UNIQUE"), transaction.atomic():
        copy.save()


@pytest.mark.django_db
def test_exactly_once_a_decided_application_is_locked_and_reread(regulation, clerk, approver, approver2):
    # The lock helper returns the row as it is in the database, not the caller's stale copy.
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk)
    application = submit_new(subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    stale = Application.objects.get(pk=application.pk)
    review_and_approve(application, approver=approver)
    with transaction.atomic():
        assert lock_application(stale).status == ApplicationStatus.APPROVED
    with pytest.raises(DomainError, match="既に「承諾」です"):
        application_services.application_approve(application=stale, actor=approver2)
