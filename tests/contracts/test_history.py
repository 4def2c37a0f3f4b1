"""Every write records the acting user and a change reason; commands act as the system user."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from contracts.choices import ApplicationKind
from contracts.models import (
    Application,
    BaseServiceContract,
    CarrierLineContract,
    ContractTerms,
    LedgerEntry,
    OptionContract,
    Subscriber,
)
from contracts.services import (
    application_reject,
    application_set_quote,
    application_start_review,
    application_submit,
    application_withdraw,
    base_contract_end,
    carrier_line_end,
    ledger_entry_reverse,
    option_contract_end,
    option_contract_set_billing_start,
    subscriber_deactivate,
    subscriber_update,
)
from core.history_write import system_user
from options.choices import FeeKind
from tests.factories import add_fee_item, review_and_approve, submit_new, subscriber_with_base, subscriber_with_line

pytestmark = pytest.mark.django_db

TRACKED = (
    Subscriber,
    BaseServiceContract,
    CarrierLineContract,
    Application,
    OptionContract,
    ContractTerms,
    LedgerEntry,
)


def _history_rows():
    return [row for model in TRACKED for row in model.history.select_related("history_user")]


def test_history_every_service_write_records_the_acting_user_and_a_reason(
    regulation, clerk, clerk2, approver, approver2, tariff_manager
):
    add_fee_item(
        "swp-accounts",
        "additional-accounts",
        FeeKind.INITIAL,
        2000,
        revision_on=dt.date(2026, 2, 1),
        actor=tariff_manager,
    )
    web = subscriber_with_base("web-highgrade2", actor=clerk)
    subscriber_update(subscriber=web, actor=clerk, reason="住所変更届", address="東京都千代田区")
    swp = submit_new(web, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    review_and_approve(swp, approver=approver)
    contract = OptionContract.objects.get()
    option_contract_set_billing_start(option_contract=contract, billing_start_date=contract.contracted_on, actor=clerk)
    ledger_entry_reverse(entry=LedgerEntry.objects.get(kind="initial"), reason="初期費用の誤り", actor=approver2)
    change = application_submit(
        subscriber=web, kind=ApplicationKind.CHANGE, option_contract=contract, quantity=20, actor=clerk
    )
    application_withdraw(application=change, reason="お客様の都合", actor=clerk)
    option_contract_end(option_contract=contract, end_date=contract.contracted_on, actor=approver, reason="即日解約")
    base_contract_end(base_contract=web.base_contracts.get(), end_date=dt.date(2030, 3, 31), actor=clerk, reason="解約")
    subscriber_deactivate(subscriber=web, actor=clerk, reason="退会")

    flets = subscriber_with_line(actor=clerk, confirmer=clerk2)
    quoted = submit_new(flets, "flets-hikari", "type-a", quantity=2, actor=clerk)
    application_start_review(application=quoted, actor=approver)
    application_set_quote(application=quoted, amount_yen=900, actor=clerk)
    application_reject(application=quoted, reason="見積額にご同意いただけませんでした", actor=approver)
    carrier_line_end(carrier_line=flets.carrier_lines.get(), end_date=dt.date(2030, 3, 31), actor=clerk, reason="解約")

    rows = _history_rows()
    # 4 subscriber, 2 base, 3 line, 9 application, 3 contract, 1 terms period, 3 ledger
    assert len(rows) == 25
    missing = [(r._meta.model_name, r.history_id) for r in rows if r.history_user is None]
    assert missing == []
    unexplained = [(r._meta.model_name, r.history_id) for r in rows if not (r.history_change_reason or "").strip()]
    assert unexplained == []
    assert {(r.history_user.username, r.history_change_reason) for r in LedgerEntry.history.all()} >= {
        ("approver2", f"支払義務 #{LedgerEntry.objects.order_by('pk').first().pk} の取消: 初期費用の誤り"),
    }
    decided = Application.history.filter(status="approved").get()
    assert (decided.history_user, decided.history_change_reason) == (approver, f"申込 #{swp.pk}（新規利用申込）の承諾")


def test_history_command_writes_carry_the_named_system_user(regulation):
    fixtures = Path(__file__).parent / "fixtures"
    call_command("import_contracts", str(fixtures / "contracts_good.csv"), stdout=io.StringIO())
    call_command("apply_successions", stdout=io.StringIO())
    system = system_user()
    assert (system.username, system.is_active, system.has_usable_password()) == ("system", False, False)
    rows = _history_rows()
    assert rows
    assert {r.history_user for r in rows} == {system}
    assert all(r.history_change_reason for r in rows)
