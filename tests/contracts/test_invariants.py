"""Invariants of the ledger on random books (tests/contracts/book_machine.py), and the key scenarios by name.

`make test` runs a bounded, derandomized machine (seconds). With INVARIANTS_LONG=1 (CI on PostgreSQL) it runs
longer: once derandomized (a fixed seed: the same books every run) and once on a random seed, printed and
attached to the failure (set INVARIANTS_SEED to replay it); a failure also prints the @reproduce_failure blob.
INVARIANTS_STRICT=1 adds the machine's two timeline checks, which the known defects below break today.

The machine's tests name the `transactional_db` fixture: the services commit (each is a durable transaction), each
example starts by flushing the database, and tests/conftest.py lifts the ledger's append-only trigger for the
flushes of tests that name it (PostgreSQL).

Then the key scenarios by name, and the defects the machine's checks found, as strict xfails with their
reproduction: when one is fixed its test passes, fails as XPASS, and the xfail (and the opt-in) can go.
"""

import datetime as dt
import os
import random

import pytest
import time_machine
from hypothesis import HealthCheck, seed, settings
from hypothesis.stateful import get_state_machine_test, run_state_machine_as_test

from contracts.billing.timeline import periods_of
from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, OptionContract
from contracts.services import (
    application_approve,
    application_start_review,
    application_submit,
    carrier_line_confirm,
    carrier_line_create,
    ledger_entry_reverse,
    option_contract_set_billing_start,
    subscriber_create,
    successions_apply,
)
from contracts.services.month_close import month_close
from core import clock
from core.errors import DomainError
from options.models import CarrierService, Option, OptionVariant
from tests.factories import register_migrated_confirmed, review_and_approve, submit_new, subscriber_with_base

from .book_machine import (
    OUTCOMES,
    SWP,
    BookMachine,
    charge_identity,
    closed_months,
    describe_difference,
    month_net,
    monthly_obligation_problems,
    report_files,
    timeline_problems,
)

LONG = os.environ.get("INVARIANTS_LONG") == "1"


class ShortBookMachine(BookMachine):
    """The bounded run's books: the clock stops at 2026-07-31 (at most five closed months to regenerate)."""

    last_day = dt.date(2026, 7, 31)


_COMMON = {
    "deadline": None,
    "database": None,  # nothing written to .hypothesis/: a failure is replayed from its seed or blob
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
}
BOUNDED = settings(max_examples=10, stateful_step_count=25, derandomize=True, **_COMMON)
LONG_FIXED = settings(max_examples=15, stateful_step_count=40, derandomize=True, **_COMMON)
LONG_RANDOM = settings(max_examples=15, stateful_step_count=40, derandomize=False, **_COMMON)


def _print_outcomes(title: str) -> None:
    """What the machine did (pytest -s, or the captured output of a failure): how often each service did or refused."""
    print(f"{title}: {sum(n for k, n in OUTCOMES.items() if not k.startswith(('book', 'ledger has')))} calls")
    for outcome, count in sorted(OUTCOMES.items()):
        print(f"  {count:6d}  {outcome}")
    OUTCOMES.clear()


@pytest.mark.django_db(transaction=True)
def test_invariants_hold_on_random_books(transactional_db):
    OUTCOMES.clear()
    try:
        if LONG:
            run_state_machine_as_test(BookMachine, settings=LONG_FIXED)
        else:
            run_state_machine_as_test(ShortBookMachine, settings=BOUNDED)
    finally:
        _print_outcomes("BookMachine (derandomized)")


@pytest.mark.skipif(not LONG, reason="INVARIANTS_LONG=1 のときだけ実行します（CI の PostgreSQL）")
@pytest.mark.django_db(transaction=True)
def test_invariants_hold_on_random_books_from_a_random_seed(transactional_db):
    chosen = int(os.environ.get("INVARIANTS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"BookMachine: INVARIANTS_SEED={chosen}")
    test = seed(chosen)(get_state_machine_test(BookMachine, settings=LONG_RANDOM))
    OUTCOMES.clear()
    try:
        test()
    except BaseException as error:
        error.add_note(f"再現: INVARIANTS_LONG=1 INVARIANTS_SEED={chosen} で同じ乱数の実行になります。")
        raise
    finally:
        _print_outcomes(f"BookMachine (seed {chosen})")


# --- The key scenarios, by name, through the services ------------------------------------------------------

FEB, MAR, APR = (dt.date(2026, m, 1) for m in (2, 3, 4))


def _at(*args):
    return time_machine.travel(dt.datetime(*args, tzinfo=clock.JST), tick=False)


def _swp_billed_from_february(clerk, approver, quantity=10):
    """A SWP contract of `quantity` accounts approved and billed from 2026-02-01 (3,000円 a block of 10 a month)."""
    with _at(2026, 2, 1, 10, 0):
        subscriber = subscriber_with_base("web-highgrade2", actor=clerk, code="K0001")
        application = submit_new(subscriber, *SWP, quantity=quantity, actor=clerk)
        review_and_approve(application, approver=approver)
        contract = OptionContract.objects.get(origin_application=application)
        option_contract_set_billing_start(option_contract=contract, billing_start_date=FEB, actor=clerk)
    return contract


def _close(month, actor, *instant):
    with _at(*instant):
        close = month_close(month=month, actor=actor)
        files = report_files(month)
    return close, files


def _approve(application, approver):
    application_start_review(application=application, actor=approver)
    return application_approve(application=application, actor=approver)


def _charge_rows(contract, month):
    """(kind, booked month, amount, is a reversal) of the contract's charge rows for `month`, oldest first."""
    rows = LedgerEntry.objects.filter(option_contract=contract, charge_month=month).order_by("pk")
    return [
        (kind, booked, amount, reverses is not None)
        for kind, booked, amount, reverses in rows.values_list("kind", "booked_month", "amount_yen", "reverses_id")
    ]


def _assert_book_holds(frozen: dict):
    """Invariants 1 and 2 of the machine, on a named scenario."""
    for month, files in frozen.items():
        with _at(2026, 6, 1, 9, 0):
            now = report_files(month)
        assert now == files, describe_difference(files, now)
    assert charge_identity(closed_months()) == ([], [])


@pytest.mark.django_db
@pytest.mark.parametrize("backdated_by", ["cancel", "end-date correction"])
def test_a_refund_of_a_closed_months_charge_then_a_backdated_cancellation_credits_the_month_once(
    backdated_by, regulation, clerk, approver, approver2, accounting
):
    contract = _swp_billed_from_february(clerk, approver)
    frozen = {}
    _close_feb, frozen[FEB] = _close(FEB, accounting, 2026, 3, 2, 9, 0)
    _close_mar, frozen[MAR] = _close(MAR, accounting, 2026, 4, 1, 9, 0)
    march_charge = LedgerEntry.objects.get(option_contract=contract, kind=LedgerKind.MONTHLY_CHARGE, charge_month=MAR)
    assert march_charge.amount_yen == 3000

    # The subscriber is given March back (a refund of the frozen charge row, by an approver).
    with _at(2026, 4, 3, 11, 0):
        ledger_entry_reverse(entry=march_charge, reason="3月分の返金", actor=approver2)
    # Then it turns out the service ended on 2026-02-28: March was never owed.
    with _at(2026, 4, 10, 15, 0):
        end = dt.date(2026, 2, 28) if backdated_by == "cancel" else dt.date(2026, 4, 30)
        cancel = application_submit(
            subscriber=contract.subscriber, kind="cancel", option_contract=contract, effective_date=end, actor=clerk
        )
        _approve(cancel, approver)
        if backdated_by == "end-date correction":
            correction = application_submit(
                subscriber=contract.subscriber,
                kind="correction",
                option_contract=contract,
                correction_target="end_date",
                corrected_date=dt.date(2026, 2, 28),
                correction_reason="解約日の入力誤り（最終利用日は2月28日）",
                actor=clerk,
            )
            _approve(correction, approver)
    contract.refresh_from_db()
    assert contract.end_date == dt.date(2026, 2, 28)

    close_apr, frozen[APR] = _close(APR, accounting, 2026, 5, 1, 9, 0)

    # March: charged 3,000, refunded 3,000, and no further credit: its net is 0, not −3,000.
    assert month_net(contract.pk, MAR) == 0
    assert _charge_rows(contract, MAR) == [
        (LedgerKind.MONTHLY_CHARGE, MAR, 3000, False),
        (LedgerKind.MONTHLY_CHARGE, APR, -3000, True),
    ]
    assert close_apr.adjustment_rows == 0
    assert month_net(contract.pk, FEB) == 3000  # February was owed whole, ending on its last day
    assert _charge_rows(contract, APR) == []  # nothing is charged after the end
    _assert_book_holds(frozen)


@pytest.mark.django_db
def test_a_quantity_correction_of_a_period_reaches_a_closed_month_as_an_adjustment_at_the_next_close(
    regulation, clerk, approver, accounting
):
    contract = _swp_billed_from_february(clerk, approver)
    frozen = {}
    _close_feb, frozen[FEB] = _close(FEB, accounting, 2026, 3, 2, 9, 0)

    # The period from 2026-02-01 was entered as 10 accounts; it was 20 from the start.
    with _at(2026, 3, 10, 14, 0):
        correction = application_submit(
            subscriber=contract.subscriber,
            kind="correction",
            option_contract=contract,
            correction_target="terms",
            corrected_date=FEB,
            quantity=20,
            correction_reason="数量の入力誤り（申込書は20アカウント）",
            actor=clerk,
        )
        _approve(correction, approver)
    with _at(2026, 3, 20, 9, 0):
        assert report_files(FEB) == frozen[FEB]  # the closed month is not rewritten

    close_mar, frozen[MAR] = _close(MAR, accounting, 2026, 4, 1, 9, 0)

    # February's difference (+3,000) is booked into March, the month being closed, as an adjustment of February.
    assert _charge_rows(contract, FEB) == [
        (LedgerKind.MONTHLY_CHARGE, FEB, 3000, False),
        (LedgerKind.ADJUSTMENT, MAR, 3000, False),
    ]
    assert _charge_rows(contract, MAR) == [(LedgerKind.MONTHLY_CHARGE, MAR, 6000, False)]
    assert (close_mar.charge_rows, close_mar.adjustment_rows) == (1, 1)
    monthly = LedgerEntry.objects.filter(option_contract=contract, kind=LedgerKind.MONTHLY).order_by("pk")
    assert [(r.amount_yen, r.effective_from, r.application_id, r.reverses_id is not None) for r in monthly] == [
        (3000, FEB, contract.origin_application_id, False),
        (-3000, FEB, correction.pk, True),
        (6000, FEB, correction.pk, False),
    ]
    # Closing March again writes nothing.
    rows = LedgerEntry.objects.count()
    with _at(2026, 4, 2, 9, 0):
        assert month_close(month=MAR, actor=accounting) == close_mar
    assert LedgerEntry.objects.count() == rows
    _assert_book_holds(frozen)


@pytest.mark.django_db
def test_a_refund_stands_when_a_later_correction_raises_what_the_month_owed(
    regulation, clerk, approver, approver2, accounting
):
    contract = _swp_billed_from_february(clerk, approver)
    frozen = {}
    _close_feb, frozen[FEB] = _close(FEB, accounting, 2026, 3, 2, 9, 0)
    february_charge = LedgerEntry.objects.get(option_contract=contract, kind=LedgerKind.MONTHLY_CHARGE)
    with _at(2026, 3, 5, 10, 0):
        ledger_entry_reverse(entry=february_charge, reason="2月分の返金（サービス障害）", actor=approver2)
        correction = application_submit(
            subscriber=contract.subscriber,
            kind="correction",
            option_contract=contract,
            correction_target="terms",
            corrected_date=FEB,
            quantity=20,
            correction_reason="数量の入力誤り",
            actor=clerk,
        )
        _approve(correction, approver)
    _close_mar, frozen[MAR] = _close(MAR, accounting, 2026, 4, 1, 9, 0)

    # February now owes 6,000; the 3,000 refunded stays given back: the month is charged the other 3,000 only.
    assert _charge_rows(contract, FEB) == [
        (LedgerKind.MONTHLY_CHARGE, FEB, 3000, False),
        (LedgerKind.MONTHLY_CHARGE, MAR, -3000, True),
        (LedgerKind.ADJUSTMENT, MAR, 3000, False),
    ]
    assert month_net(contract.pk, FEB) == 3000
    _assert_book_holds(frozen)


# --- Defects the machine's strict checks found (INVARIANTS_STRICT=1), fixed: their reproductions stay as tests ---


def _approved_swp(clerk, approver, *, on=(2026, 2, 2, 10, 0)):
    with _at(*on):
        subscriber = subscriber_with_base("web-highgrade2", actor=clerk, code="K0001")
        application = submit_new(subscriber, *SWP, quantity=10, actor=clerk)
        review_and_approve(application, approver=approver)
    return OptionContract.objects.get(origin_application=application)


@pytest.mark.django_db
def test_a_corrected_change_made_before_billing_is_owed_from_its_own_date_once_billing_starts(
    regulation, clerk, approver
):
    contract = _approved_swp(clerk, approver)
    with _at(2026, 2, 3, 10, 0):
        change = application_submit(
            subscriber=contract.subscriber,
            kind="change",
            option_contract=contract,
            quantity=20,
            effective_date=dt.date(2026, 2, 20),
            actor=clerk,
        )
        _approve(change, approver)
        correction = application_submit(
            subscriber=contract.subscriber,
            kind="correction",
            option_contract=contract,
            correction_target="terms",
            corrected_date=dt.date(2026, 2, 20),
            quantity=30,
            correction_reason="変更後の数量の入力誤り",
            actor=clerk,
        )
        _approve(correction, approver)
        option_contract_set_billing_start(
            option_contract=contract, billing_start_date=dt.date(2026, 2, 10), actor=clerk
        )
    # Owed: 3,000円 from 2026-02-10, 9,000円 from 2026-02-20 (the corrected change). Only the first row is written.
    assert monthly_obligation_problems() == []


@pytest.mark.django_db
def test_a_billing_start_corrected_back_before_a_change_keeps_the_change_owed_from_its_date(
    regulation, clerk, approver
):
    contract = _approved_swp(clerk, approver)
    with _at(2026, 2, 3, 10, 0):
        change = application_submit(
            subscriber=contract.subscriber,
            kind="change",
            option_contract=contract,
            quantity=20,
            effective_date=dt.date(2026, 2, 15),
            actor=clerk,
        )
        _approve(change, approver)
        option_contract_set_billing_start(
            option_contract=contract, billing_start_date=dt.date(2026, 2, 20), actor=clerk
        )
        correction = application_submit(
            subscriber=contract.subscriber,
            kind="correction",
            option_contract=contract,
            correction_target="billing_start",
            corrected_date=dt.date(2026, 2, 5),
            correction_reason="課金開始日の誤り",
            actor=clerk,
        )
        _approve(correction, approver)
    # Owed: 3,000円 from 2026-02-05 and 6,000円 from the change's 2026-02-15; only the 2026-02-05 row stands.
    assert monthly_obligation_problems() == []


@pytest.mark.django_db
def test_after_the_succession_a_retired_options_contract_bills_as_its_successor_whatever_was_changed_before(
    regulation, clerk, clerk2, approver
):
    with _at(2026, 2, 2, 10, 0):
        subscriber = subscriber_create(actor=clerk, code="K0001", name="株式会社Bフレッツ", kana="カブシキガイシャ")
        line = carrier_line_create(
            subscriber=subscriber,
            carrier_service=CarrierService.objects.get(code="b-flets"),
            line_id="CAF0001",
            start_date=dt.date(2010, 1, 1),
            actor=clerk,
            migrated=True,
        )
        carrier_line_confirm(carrier_line=line, actor=clerk2)
        b_flets = Option.objects.get(code="b-flets")
        contract = register_migrated_confirmed(
            subscriber=subscriber,
            option=b_flets,
            variant=OptionVariant.objects.get(option=b_flets, code="type-a"),
            contracted_on=dt.date(2012, 4, 1),
            quantity=1,
            quoted_amount_yen=800,
            carrier_line=line,
            actor=clerk,
            reason="移行データ",
        )
        try:  # a change of the retired option in 2026: refusing it is one way to hold the rule below
            change = application_submit(
                subscriber=subscriber,
                kind="change",
                option_contract=contract,
                variant=OptionVariant.objects.get(option=b_flets, code="type-e"),
                effective_date=dt.date(2026, 3, 1),
                actor=clerk,
            )
            _approve(change, approver)
        except DomainError:
            pass
        successions_apply(actor=clerk)
    # From 2014-03-01 the contract is a フレッツ光接続オプション (附則第4項); today the 2026-03-01 period still
    # names Bフレッツ (no fee: the contract cannot be billed) while the contract row names the successor.
    retired = [p for p in periods_of(contract) if p.valid_from >= dt.date(2014, 3, 1) and p.option_id == b_flets.pk]
    assert retired == []
    assert timeline_problems() == []


@pytest.mark.django_db
def test_a_migrated_type_a_contract_without_its_quote_is_given_it_by_a_correction_and_the_month_then_closes(
    regulation, clerk, clerk2, approver, accounting
):
    with _at(2026, 2, 2, 10, 0):
        subscriber = subscriber_create(actor=clerk, code="K0001", name="株式会社フレッツ", kana="カブシキガイシャ")
        line = carrier_line_create(
            subscriber=subscriber,
            carrier_service=CarrierService.objects.get(code="flets-next-prio1"),
            line_id="CAF0001",
            start_date=dt.date(2019, 1, 1),
            actor=clerk,
            migrated=True,
        )
        carrier_line_confirm(carrier_line=line, actor=clerk2)
        flets = Option.objects.get(code="flets-hikari")
        contract = register_migrated_confirmed(
            subscriber=subscriber,
            option=flets,
            variant=OptionVariant.objects.get(option=flets, code="type-a"),
            contracted_on=dt.date(2020, 1, 1),
            quantity=2,
            billing_start_date=dt.date(2020, 2, 1),
            carrier_line=line,
            actor=clerk,
            reason="移行データ（見積額の記載漏れ）",
        )
    with _at(2026, 3, 2, 10, 0):
        with pytest.raises(DomainError) as refused:
            month_close(month=FEB, actor=accounting)
        assert refused.value.code == "unpriced_contracts"  # as designed: the close names the contract
        # The fix the refusal asks for: enter the quote, by a correction of the period (DOMAIN §3.17). Today it is
        # refused: 「…タイプA」の料金は見積の対象ではありません (the check reads the fee in force on 2020-01-01).
        correction = application_submit(
            subscriber=subscriber,
            kind="correction",
            option_contract=contract,
            correction_target="terms",
            corrected_date=dt.date(2020, 1, 1),
            quoted_amount_yen=800,
            correction_reason="見積額の登録漏れ",
            actor=clerk,
        )
        _approve(correction, approver)
        month_close(month=FEB, actor=accounting)
    assert month_net(contract.pk, FEB) == 1600
