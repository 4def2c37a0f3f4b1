"""訂正申込 and the terms timeline (DOMAIN §3.16–§3.19), through the services as staff use them.

The clock is fixed in every test: the dates are those of the story, never today's.
"""

import datetime as dt

import pytest
import time_machine

from contracts.billing.charges import month_charges
from contracts.billing.timeline import (
    contract_state_expression,
    contract_state_label,
    contract_state_on,
    periods_of,
)
from contracts.choices import ApplicationKind, ContractState, CorrectionTarget, LedgerKind, TermsEvent
from contracts.models import LedgerEntry, OptionContract
from contracts.services import (
    application_approve,
    application_start_review,
    application_submit,
    option_contract_set_billing_start,
    successions_apply,
)
from contracts.services.month_close import month_close
from core.clock import JST
from core.errors import DomainError
from core.history_write import system_user
from tests.factories import (
    option,
    register_migrated_confirmed,
    review_and_approve,
    submit_new,
    subscriber_with_base,
    subscriber_with_line,
    variant,
)

pytestmark = pytest.mark.django_db

FEB, MAR, APR = dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)


def at(*args):
    return time_machine.travel(dt.datetime(*args, tzinfo=JST), tick=False)


def monthly_rows(contract):
    return list(
        LedgerEntry.objects.filter(option_contract=contract, kind=LedgerKind.MONTHLY)
        .order_by("pk")
        .values_list("amount_yen", "quantity", "effective_from", "reverses_id")
    )


@pytest.fixture
def swp(regulation, clerk, approver):
    """10 SWP accounts approved on 2026-02-01, billing from 2026-02-10 (entered wrongly: it was 2026-02-01)."""
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk)
    with at(2026, 2, 1, 10, 0):
        review_and_approve(
            submit_new(subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk), approver=approver
        )
        contract = OptionContract.objects.get()
        option_contract_set_billing_start(
            option_contract=contract, billing_start_date=dt.date(2026, 2, 10), actor=clerk
        )
    contract.refresh_from_db()
    return contract


def correct(contract, *, clerk, approver, target, corrected_date, on=(2026, 3, 2, 10, 0), **terms):
    with at(*on):
        application = application_submit(
            subscriber=contract.subscriber,
            kind=ApplicationKind.CORRECTION,
            option_contract=contract,
            correction_target=target,
            corrected_date=corrected_date,
            correction_reason="申込書の記載を読み違えて入力した",
            actor=clerk,
            **terms,
        )
        application_start_review(application=application, actor=approver)
        application_approve(application=application, actor=approver)
    contract.refresh_from_db()
    return application


def test_correction_of_the_billing_start_reverses_the_wrong_monthly_row_and_writes_the_corrected_one(
    swp, clerk, approver
):
    with at(2026, 2, 20, 9, 0):
        assert [line.amount_yen for line in month_charges(month=FEB)] == [2035]  # 3,000 × 19 / 28
    application = correct(
        swp, clerk=clerk, approver=approver, target=CorrectionTarget.BILLING_START, corrected_date=FEB
    )

    assert swp.billing_start_date == FEB
    wrong = LedgerEntry.objects.get(kind=LedgerKind.MONTHLY, effective_from=dt.date(2026, 2, 10), reverses=None)
    assert monthly_rows(swp) == [
        (3000, 10, dt.date(2026, 2, 10), None),
        (-3000, 10, dt.date(2026, 2, 10), wrong.pk),
        (3000, 10, FEB, None),  # the reversed row does not block its corrected row (a new constraint key)
    ]
    assert set(LedgerEntry.objects.filter(pk__gt=wrong.pk).values_list("application", flat=True)) == {application.pk}
    assert [line.amount_yen for line in month_charges(month=FEB)] == [3000]


def test_correction_four_eyes_the_entrant_cannot_approve_it(swp, sysadmin):
    with at(2026, 3, 2, 10, 0):
        application = application_submit(
            subscriber=swp.subscriber,
            kind=ApplicationKind.CORRECTION,
            option_contract=swp,
            correction_target=CorrectionTarget.BILLING_START,
            corrected_date=FEB,
            correction_reason="入力誤り",
            actor=sysadmin,  # holds both permissions: may enter, but then not decide
        )
        application_start_review(application=application, actor=sysadmin)
        with pytest.raises(DomainError, match="同じ申込を承諾・不承諾できません"):
            application_approve(application=application, actor=sysadmin)
    swp.refresh_from_db()
    assert swp.billing_start_date == dt.date(2026, 2, 10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"correction_target": "", "corrected_date": FEB}, "訂正する項目を選択してください。"),
        (
            {"correction_target": CorrectionTarget.BILLING_START, "corrected_date": None},
            "訂正後の日付を入力してください。",
        ),
        (
            {"correction_target": CorrectionTarget.BILLING_START, "corrected_date": dt.date(2026, 2, 10)},
            "訂正後の課金開始日が現在の課金開始日",
        ),
        (
            {"correction_target": CorrectionTarget.BILLING_START, "corrected_date": dt.date(2026, 1, 31)},
            r"は承諾日（令和8年2月1日 \(2026-02-01\)）より前にできません",
        ),
        (
            {"correction_target": CorrectionTarget.END_DATE, "corrected_date": FEB},
            "解約日が登録されていないため訂正できません",
        ),
        (
            {"correction_target": CorrectionTarget.TERMS, "corrected_date": dt.date(2026, 2, 5), "quantity": 20},
            "訂正する期間の開始日を選んでください（この契約の契約条件の期間の開始日: 令和8年2月1日 \\(2026-02-01\\)）",
        ),
        (
            {"correction_target": CorrectionTarget.TERMS, "corrected_date": FEB, "quantity": 25},
            "10アカウント単位で申し込んでください",
        ),
        ({"correction_target": CorrectionTarget.TERMS, "corrected_date": FEB, "quantity": 10}, "訂正内容がありません"),
    ],
)
def test_correction_refusals_name_what_is_wrong_and_write_nothing(swp, clerk, kwargs, message):
    with at(2026, 3, 2, 10, 0), pytest.raises(DomainError, match=message):
        application_submit(
            subscriber=swp.subscriber,
            kind=ApplicationKind.CORRECTION,
            option_contract=swp,
            correction_reason="入力誤り",
            actor=clerk,
            **kwargs,
        )
    assert not swp.applications.filter(kind=ApplicationKind.CORRECTION).exists()


def test_correction_needs_its_reason(swp, clerk):
    with at(2026, 3, 2, 10, 0), pytest.raises(DomainError, match="訂正の理由を入力してください。"):
        application_submit(
            subscriber=swp.subscriber,
            kind=ApplicationKind.CORRECTION,
            option_contract=swp,
            correction_target=CorrectionTarget.BILLING_START,
            corrected_date=FEB,
            correction_reason=" ",
            actor=clerk,
        )


def test_correction_of_the_quantity_reaches_a_closed_month_as_an_adjustment_at_the_next_close(
    swp, clerk, approver, accounting
):
    with at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    frozen = list(LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE).values_list("amount_yen", flat=True))
    assert frozen == [2035]

    correct(swp, clerk=clerk, approver=approver, target=CorrectionTarget.TERMS, corrected_date=FEB, quantity=20)

    [period] = periods_of(swp)
    assert (period.quantity, period.valid_from, period.event) == (20, FEB, TermsEvent.CORRECTION)
    assert swp.quantity == 20
    # The 月額費用 row of the billing start was priced on 10 accounts: reversed and written again on 20.
    first = LedgerEntry.objects.get(kind=LedgerKind.MONTHLY, quantity=10, reverses=None)
    assert monthly_rows(swp) == [
        (3000, 10, dt.date(2026, 2, 10), None),
        (-3000, 10, dt.date(2026, 2, 10), first.pk),
        (6000, 20, dt.date(2026, 2, 10), None),
    ]
    # February stays as it was closed; the difference is booked in March, the month closed next.
    with at(2026, 4, 1, 9, 0):
        month_close(month=MAR, actor=accounting)
    march = LedgerEntry.objects.filter(booked_month=MAR, kind__in=[LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT])
    assert sorted(march.values_list("kind", "charge_month", "amount_yen")) == [
        (LedgerKind.ADJUSTMENT, FEB, 4071 - 2035),  # 6,000 × 19 / 28 = 4,071 owed for February
        (LedgerKind.MONTHLY_CHARGE, MAR, 6000),
    ]


def test_correction_of_the_end_date_backwards_credits_the_closed_month_once(swp, clerk, approver, accounting):
    with at(2026, 3, 2, 10, 0):
        cancel = application_submit(
            subscriber=swp.subscriber,
            kind=ApplicationKind.CANCEL,
            option_contract=swp,
            effective_date=dt.date(2026, 3, 31),
            actor=clerk,
        )
        review_and_approve(cancel, approver=approver)
    with at(2026, 4, 1, 9, 0):
        month_close(month=FEB, actor=accounting)
        month_close(month=MAR, actor=accounting)
    swp.refresh_from_db()
    correct(
        swp,
        clerk=clerk,
        approver=approver,
        target=CorrectionTarget.END_DATE,
        corrected_date=dt.date(2026, 2, 28),
        on=(2026, 4, 2, 10, 0),
    )
    assert swp.end_date == dt.date(2026, 2, 28)
    with at(2026, 5, 1, 9, 0):
        month_close(month=APR, actor=accounting)
        month_close(month=APR, actor=accounting)  # again: nothing more
    adjustments = LedgerEntry.objects.filter(kind=LedgerKind.ADJUSTMENT)
    assert list(adjustments.values_list("booked_month", "charge_month", "amount_yen")) == [(APR, MAR, -3000)]


def test_change_approved_before_billing_starts_applies_from_its_own_effective_date(regulation, clerk, approver):
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk)
    with at(2026, 3, 2, 10, 0):
        review_and_approve(
            submit_new(subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk), approver=approver
        )
        contract = OptionContract.objects.get()
        change = application_submit(
            subscriber=subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=contract,
            quantity=20,
            effective_date=dt.date(2026, 3, 20),
            actor=clerk,
        )
        review_and_approve(change, approver=approver)
        option_contract_set_billing_start(
            option_contract=contract, billing_start_date=dt.date(2026, 3, 10), actor=clerk
        )

    # 10 accounts from 3/10 to 3/19, 20 accounts from 3/20: the change did not reach back to the billing start.
    [line] = month_charges(month=MAR)
    assert (line.quantity, line.days_billed, line.amount_yen) == (20, 22, 3000 * 10 // 31 + 6000 * 12 // 31)
    assert [(amount, qty, start) for amount, qty, start, _ in monthly_rows(contract)] == [
        (3000, 10, dt.date(2026, 3, 10)),
        (6000, 20, dt.date(2026, 3, 20)),
    ]


def test_succeeded_migrated_contract_is_charged_on_its_successor_from_the_succession_date(regulation, clerk):
    """The demo's D0008: a Bフレッツ contract of 2010, moved by 平成26年3月1日変更 附則第4項."""
    subscriber = subscriber_with_line("b-flets", actor=clerk, confirmer=None, start_date=dt.date(2010, 3, 1))
    with at(2026, 3, 2, 10, 0):
        contract = register_migrated_confirmed(
            subscriber=subscriber,
            option=option("b-flets"),
            variant=variant("b-flets", "type-e"),
            contracted_on=dt.date(2010, 4, 1),
            billing_start_date=dt.date(2010, 5, 1),
            carrier_line=subscriber.carrier_lines.get(),
            actor=clerk,
        )
        successions_apply(actor=system_user())

    periods = periods_of(contract)
    assert [(p.valid_from, p.valid_until, p.event) for p in periods] == [
        (dt.date(2010, 4, 1), dt.date(2014, 2, 28), TermsEvent.MIGRATION),
        (dt.date(2014, 3, 1), None, TermsEvent.SUCCESSION),
    ]
    assert periods[0].option_id == option("b-flets").pk
    assert periods[1].variant_id == variant("flets-hikari", "type-e").pk
    [line] = month_charges(month=FEB)
    assert (line.fee_item.option.code, line.amount_yen) == ("flets-hikari", 0)


@pytest.mark.parametrize(
    ("billing_start", "end", "on", "state", "label"),
    [
        (None, None, dt.date(2026, 12, 1), ContractState.WAITING, "課金開始待ち"),
        (
            dt.date(2026, 12, 10),
            None,
            dt.date(2026, 12, 1),
            ContractState.WAITING,
            "課金開始待ち（令和8年12月10日 (2026-12-10)から）",
        ),
        (dt.date(2026, 12, 10), None, dt.date(2026, 12, 10), ContractState.BILLING, "課金中"),
        (
            dt.date(2026, 12, 10),
            dt.date(2027, 3, 20),
            dt.date(2026, 12, 1),
            ContractState.ENDING,
            "解約予定（令和9年3月20日 (2027-03-20)）",
        ),
        (
            dt.date(2026, 12, 10),
            dt.date(2027, 3, 20),
            dt.date(2027, 3, 20),
            ContractState.ENDING,
            "解約予定（令和9年3月20日 (2027-03-20)）",
        ),
        (dt.date(2026, 12, 10), dt.date(2027, 3, 20), dt.date(2027, 3, 21), ContractState.ENDED, "解約済"),
    ],
)
def test_state_on_a_date_comes_from_the_contract_dates(swp, billing_start, end, on, state, label):
    dates = {"billing_start_date": billing_start, "end_date": end}
    assert contract_state_on(**dates, on=on) == state
    assert contract_state_label(**dates, on=on) == label
    # The database expression that lists filter and show by gives the same answer.
    stage = "ended" if end is not None else "approved" if billing_start is None else "billing"
    OptionContract.objects.filter(pk=swp.pk).update(status=stage, **dates)  # set straight, only to compare
    annotated = OptionContract.objects.annotate(s=contract_state_expression(on)).get(pk=swp.pk)
    assert annotated.s == state
