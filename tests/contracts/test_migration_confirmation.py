"""A migrated contract takes effect when a second person confirms it (§3.13, §3.8): until then its terms
are not in the timeline, it is not billed, and nothing is done on it."""

import datetime as dt
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from contracts import roles
from contracts.billing.charges import month_charges
from contracts.choices import ApplicationKind, LedgerKind
from contracts.models import ContractTerms, LedgerEntry, OptionContract
from contracts.services import (
    application_submit,
    option_contract_confirm_migrated,
    option_contract_end,
    option_contract_register_migrated,
)
from contracts.services.month_close import month_close
from core.clock import JST
from core.errors import DomainError
from security.accounts import staff_account_create
from tests.factories import option, role_group, subscriber_with_base, variant

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-04-10T10:00+09:00")]  # NOW, when staff work

FIXTURES = Path(__file__).parent / "fixtures"
NOW = dt.datetime(2026, 4, 10, 10, 0, tzinfo=JST)
MARCH = dt.date(2026, 3, 1)


@pytest.fixture
def pending(regulation, clerk):
    """SWP 20 accounts, billed since 2026-03-01 in the old system, registered by the clerk."""
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk, start_date=dt.date(2025, 4, 1))
    with time_machine.travel(NOW, tick=False):
        return option_contract_register_migrated(
            subscriber=subscriber,
            option=option("swp-accounts"),
            variant=variant("swp-accounts", "additional-accounts"),
            quantity=20,
            contracted_on=MARCH,
            billing_start_date=MARCH,
            base_contract=subscriber.base_contracts.get(),
            actor=clerk,
        )


def _refused(code, call, **kwargs):
    with pytest.raises(DomainError) as refused, time_machine.travel(NOW, tick=False):
        call(**kwargs)
    assert refused.value.code == code, refused.value.message
    return refused.value.message


def test_option_contract_assert_confirmed_an_unconfirmed_migrated_contract_is_not_in_force(pending, clerk, approver):
    pending.refresh_from_db()
    assert (pending.registered_by, pending.confirmed_by, pending.confirmed_at) == (clerk, None, None)
    assert not ContractTerms.objects.filter(option_contract=pending).exists()
    with time_machine.travel(NOW, tick=False):
        assert month_charges(month=MARCH) == []  # not billed
    message = _refused(
        "migration_unconfirmed",
        application_submit,
        subscriber=pending.subscriber,
        kind=ApplicationKind.CHANGE,
        option_contract=pending,
        quantity=30,
        actor=clerk,
    )
    assert message.startswith(f"オプション契約 #{pending.pk} は移行データの確認待ちです。")
    _refused(
        "migration_unconfirmed",
        option_contract_end,
        option_contract=pending,
        end_date=dt.date(2026, 4, 30),
        reason="解約",
        actor=approver,
    )


def test_option_contract_confirm_migrated_the_registrant_cannot_confirm_and_nothing_is_written(pending, clerk):
    history = pending.history.count()
    message = _refused("four_eyes", option_contract_confirm_migrated, option_contract=pending, actor=clerk)
    assert "登録した職員は、同じ移行データを確認できません" in message
    pending.refresh_from_db()
    assert pending.confirmed_at is None and pending.history.count() == history
    assert not ContractTerms.objects.filter(option_contract=pending).exists()


def test_option_contract_confirm_migrated_one_who_created_the_registrants_account_cannot_confirm(regulation, sysadmin):
    made = staff_account_create(username="made", password=None, roles=[role_group(roles.CLERK)], actor=sysadmin)
    subscriber = subscriber_with_base("web-highgrade2", actor=made, start_date=dt.date(2025, 4, 1))
    contract = option_contract_register_migrated(
        subscriber=subscriber,
        option=option("swp-accounts"),
        variant=variant("swp-accounts", "additional-accounts"),
        quantity=10,
        contracted_on=MARCH,
        base_contract=subscriber.base_contracts.get(),
        actor=made,
    )
    message = _refused(
        "four_eyes_not_independent", option_contract_confirm_migrated, option_contract=contract, actor=sysadmin
    )
    assert message.startswith("移行データの登録者と確認者は互いに独立していません")


def test_option_contract_confirm_migrated_a_second_person_puts_it_in_force_and_it_bills_from_its_dates(
    pending, clerk2, accounting
):
    with time_machine.travel(NOW, tick=False):
        confirmed = option_contract_confirm_migrated(option_contract=pending, actor=clerk2)
        assert (confirmed.confirmed_by, confirmed.confirmed_at) == (clerk2, NOW)
        [terms] = ContractTerms.objects.filter(option_contract=pending, superseded_at__isnull=True)
        assert (terms.valid_from, terms.quantity, terms.created_by) == (MARCH, 20, clerk2)
        [line] = month_charges(month=MARCH)
        assert line.amount_yen == 6000  # 2 blocks × 3,000円, the whole month
        history = pending.history.count()
        assert option_contract_confirm_migrated(option_contract=pending, actor=clerk2) == confirmed  # once
        assert pending.history.count() == history
        month_close(month=MARCH, actor=accounting)
    charge = LedgerEntry.objects.get(option_contract=pending, kind=LedgerKind.MONTHLY_CHARGE)
    assert charge.amount_yen == 6000


def test_month_close_leaves_an_unconfirmed_migrated_contract_out(pending, accounting):
    with time_machine.travel(NOW, tick=False):
        month_close(month=MARCH, actor=accounting)
    assert not LedgerEntry.objects.filter(option_contract=pending).exists()


def test_the_contract_page_offers_confirmation_to_a_second_person_only(client, pending, clerk, clerk2):
    url = reverse("contracts:optioncontract_detail", args=[pending.pk])
    confirm = reverse("contracts:optioncontract_confirm_migrated", args=[pending.pk])
    client.force_login(clerk)
    html = client.get(url).content.decode()
    assert "確認待ち" in html and confirm not in html
    assert "あなたが登録した移行データのため、確認は別の職員が行います。" in html
    assert reverse("contracts:optioncontract_billing_start", args=[pending.pk]) not in html
    response = client.post(confirm)
    assert response.status_code == 200
    assert "同じ移行データを確認できません" in response.content.decode()
    client.force_login(clerk2)
    home = client.get(reverse("home")).content.decode()
    assert 'id="queue-migrations"' in home and url in home
    assert confirm in client.get(url).content.decode()
    with time_machine.travel(NOW, tick=False):
        response = client.post(confirm, follow=True)
    assert "移行データ（オプション契約" in response.content.decode()
    pending.refresh_from_db()
    assert pending.confirmed_by == clerk2


def test_import_leaves_the_contracts_waiting_for_confirmation(regulation):
    out = io.StringIO()
    call_command("import_contracts", str(FIXTURES / "contracts_good.csv"), stdout=out)
    assert "確認待ち" in out.getvalue()
    imported = OptionContract.objects.filter(migrated=True)
    assert imported.exists()
    assert not imported.exclude(confirmed_at__isnull=True).exists()
    assert not ContractTerms.objects.filter(option_contract__in=imported).exists()
