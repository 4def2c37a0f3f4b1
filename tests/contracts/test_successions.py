"""Successions (DOMAIN §1, §3.19): 平成26年3月1日変更 附則第2項〜第4項 applied by `apply_successions`."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from contracts.choices import OptionContractStatus
from contracts.models import Application, LedgerEntry, OptionContract
from contracts.services import carrier_line_create, subscriber_create
from core.errors import DomainError
from core.history_write import system_user
from options.models import CarrierService, Succession
from tests.factories import option, register_migrated_confirmed, variant

pytestmark = pytest.mark.django_db


def _migrated(code, option_code, variant_code, carrier_service_code, *, contracted_on, actor, end_date=None):
    subscriber = subscriber_create(actor=actor, code=code, name=f"移行契約者{code}")
    line = carrier_line_create(
        subscriber=subscriber,
        carrier_service=CarrierService.objects.get(code=carrier_service_code),
        line_id=f"L-{code}",
        start_date=dt.date(2009, 1, 1),
        actor=actor,
        migrated=True,
    )
    return register_migrated_confirmed(
        subscriber=subscriber,
        option=option(option_code),
        variant=variant(option_code, variant_code),
        contracted_on=contracted_on,
        billing_start_date=contracted_on,
        end_date=end_date,
        carrier_line=line,
        actor=actor,
    )


@pytest.fixture
def contracts(regulation, clerk):
    return {
        "b_flets": _migrated("M1", "b-flets", "type-e", "b-flets", contracted_on=dt.date(2010, 4, 1), actor=clerk),
        "packetone": _migrated(
            "M2", "packetone-metered", "standard", "packetone", contracted_on=dt.date(2012, 7, 1), actor=clerk
        ),
        # Ended before the succession date: nothing left to continue.
        "ended": _migrated(
            "M4",
            "b-flets",
            "type-e",
            "b-flets",
            contracted_on=dt.date(2011, 1, 1),
            end_date=dt.date(2013, 12, 31),
            actor=clerk,
        ),
    }


def _run(*args):
    out = io.StringIO()
    call_command("apply_successions", *args, stdout=out)
    return out.getvalue()


def test_successions_dry_run_lists_what_would_move_and_writes_nothing(contracts):
    b_flets, packetone = contracts["b_flets"], contracts["packetone"]
    history = OptionContract.history.count()
    out = _run("--dry-run")
    assert out.splitlines() == [
        f"移す予定（ドライラン）: 契約 #{packetone.pk} M2 移行契約者M2: PacketOne接続オプション(従量課金)機能 / 標準 → "
        "PacketWIN接続オプション(従量課金)機能 / 標準（平成26年3月1日 (2014-03-01)、平成26年3月1日変更 附則第2項）",
        f"移す予定（ドライラン）: 契約 #{b_flets.pk} M1 移行契約者M1: Bフレッツ接続オプション機能 / "
        "IIJ 接続アカウント管理サービス/タイプE → フレッツ光接続オプション機能 / IIJ 接続アカウント管理サービス/タイプE"
        "（平成26年3月1日 (2014-03-01)、平成26年3月1日変更 附則第4項）",
        "2件が対象です。ドライランのため何も書き込んでいません。",
    ]
    assert OptionContract.history.count() == history
    b_flets.refresh_from_db()
    assert b_flets.option.code == "b-flets"


def test_successions_move_contracts_to_the_successor_with_a_history_entry_citing_the_provision(contracts):
    b_flets = contracts["b_flets"]
    out = _run()
    assert out.splitlines()[-1] == "2件を承継先のオプションへ移しました。"
    b_flets.refresh_from_db()
    assert (b_flets.option, b_flets.variant, b_flets.succession) == (
        option("flets-hikari"),
        variant("flets-hikari", "type-e"),
        Succession.objects.get(from_option__code="b-flets"),
    )
    # Nothing else about the contract changes: same dates, same status, no new application, no new fee.
    assert (b_flets.contracted_on, b_flets.billing_start_date, b_flets.status) == (
        dt.date(2010, 4, 1),
        dt.date(2010, 4, 1),
        OptionContractStatus.BILLING,
    )
    assert Application.objects.count() == 0
    assert LedgerEntry.objects.count() == 0
    entry = b_flets.history.latest()
    assert entry.history_change_reason == (
        "平成26年3月1日変更 附則第4項によりフレッツ光接続オプション機能として存続（平成26年3月1日 (2014-03-01)から）"
    )
    assert entry.history_user == system_user()
    packetone = contracts["packetone"]
    packetone.refresh_from_db()
    assert (packetone.option.code, packetone.variant.code) == ("packetwin-metered", "standard")
    assert packetone.history.latest().history_change_reason.startswith("平成26年3月1日変更 附則第2項により")


def test_successions_leave_contracts_ended_before_it(contracts):
    _run()
    contract = contracts["ended"]
    contract.refresh_from_db()
    assert (contract.option.code, contract.succession) == ("b-flets", None)


def test_retired_option_no_contract_formed_on_or_after_its_retirement_is_registered(regulation, clerk):
    """DOMAIN §3.19: made after 平成26年2月28日, a Bフレッツ contract is not one the provision continues."""
    with pytest.raises(DomainError) as refused:
        _migrated("M3", "b-flets", "type-a", "b-flets", contracted_on=dt.date(2014, 3, 1), actor=clerk)
    assert refused.value.article == "平成26年3月1日変更 附則第4項"
    retired = "Bフレッツ接続オプション機能は平成26年3月1日 (2014-03-01)に廃止されたため、同日以後に成立する契約は"
    assert retired in str(refused.value)
    assert not OptionContract.objects.filter(option__code="b-flets").exists()
    # The day before is a contract the provision speaks of.
    made = _migrated("M5", "b-flets", "type-a", "b-flets", contracted_on=dt.date(2014, 2, 28), actor=clerk)
    assert made.option.code == "b-flets"


def test_successions_applied_twice_change_nothing(contracts):
    _run()
    history = OptionContract.history.count()
    assert _run() == "承継の対象となる契約はありません。\n"
    assert _run("--dry-run") == "承継の対象となる契約はありません。\n"
    assert OptionContract.history.count() == history


def test_a_succession_onto_an_option_already_held_on_the_same_line_refuses_and_moves_nothing(contracts, approver):
    b_flets = contracts["b_flets"]
    target = variant("flets-hikari", "type-e")
    held = OptionContract.objects.create(  # the successor already held on the same line (made around the services)
        subscriber=b_flets.subscriber,
        option=target.option,
        variant=target,
        carrier_line=b_flets.carrier_line,
        quantity=1,
        contracted_on=dt.date(2015, 1, 1),
        approved_at=dt.datetime(2015, 1, 1, tzinfo=dt.UTC),
        approved_by=approver,
        status=OptionContractStatus.APPROVED,
    )
    history = OptionContract.history.count()
    with pytest.raises(CommandError, match=f"契約 #{b_flets.pk}.*既に契約しています（契約 #{held.pk}）"):
        _run()
    b_flets.refresh_from_db()
    assert b_flets.option.code == "b-flets"
    assert OptionContract.history.count() == history
