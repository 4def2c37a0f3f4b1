"""台帳の封印 (電子帳簿保存法): every close seals its month's rows in a hash chain; `verify_ledger` recomputes the chain
and names the first month, and the first row, that no longer match (contracts.billing.seal, docs/ledger_seal.md)."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from contracts.billing.seal import SEALED_FIELDS, canonical_row, ledger_verify, seal_hash_of
from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, MonthClose, MonthSeal
from contracts.services.month_close import month_close
from tests.factories import contract_billed_from, jst, ledger_reverse_at

pytestmark = pytest.mark.django_db

FEB, MAR, APR, MAY = (dt.date(2026, m, 1) for m in (2, 3, 4, 5))
LEDGER = LedgerEntry._meta.db_table


def _at(*args):
    return time_machine.travel(jst(*args), tick=False)


def _verify(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out)
    except CommandError as error:
        return 1, out.getvalue() + str(error)
    return 0, out.getvalue()


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


def _behind_the_apps_back(sql: str, params=()) -> None:
    """A change the services never make. SQLite has no append-only trigger; on PostgreSQL the test's connection is the
    table's owner, whose maintenance flag lets it through (the last test below goes around the trigger instead)."""
    if connection.vendor == "postgresql":
        _raw("SET LOCAL backoffice.ledger_maintenance = 'on'")
    _raw(sql, params)


@pytest.fixture
def two_months(regulation, approver, approver2, accounting):
    return _two_months(approver, approver2, accounting)


def _two_months(approver, approver2, accounting):
    """A contract billed from 2026-02-15 (its 月額費用 row is booked in February, before the first close), two from
    March; March closed on 4/2; a March charge refunded (a reversal booked in April); April closed on 5/2."""
    early = contract_billed_from(dt.date(2026, 2, 15), code="C000001", name="株式会社二月", approver=approver)
    contracts = [
        contract_billed_from(dt.date(2026, 3, d), code=f"C00000{n}", name=f"株式会社{n}", approver=approver)
        for n, d in ((2, 1), (3, 15))
    ]
    with _at(2026, 4, 2, 9, 30):
        first = month_close(month=MAR, actor=accounting)
    refunded = LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE, booked_month=MAR).order_by("pk").last()
    ledger_reverse_at(refunded, actor=approver2, at_instant=jst(2026, 4, 10, 11, 0), reason="返金（障害のため）")
    with _at(2026, 5, 2, 9, 30):
        second = month_close(month=APR, actor=accounting)
    return {"first": first, "second": second, "early": early, "contracts": contracts, "refunded": refunded}


def _march_charge() -> LedgerEntry:
    return LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE, booked_month=MAR).order_by("pk").first()


def test_the_sealed_fields_are_every_column_of_the_ledger():
    columns = {f.attname for f in LedgerEntry._meta.concrete_fields}
    assert set(SEALED_FIELDS) == columns and len(SEALED_FIELDS) == len(columns)


def test_the_canonical_row_is_one_json_array_per_line_in_utc():
    row = (7, "monthly_charge", 1, None, 2, 3, "第4条", 10, 1, 3000, 3000, jst(2026, 3, 1), FEB, None, FEB, 28, 28,
           None, "理由\t改行\nあり", 5, jst(2026, 3, 2, 9, 30, 0, 120))  # fmt: skip
    assert (
        canonical_row(row)
        == (
            '[7,"monthly_charge",1,null,2,3,"第4条",10,1,3000,3000,"2026-02-28T15:00:00.000000+00:00","2026-02-01",null,'
            '"2026-02-01",28,28,null,"理由\\t改行\\nあり",5,"2026-03-02T00:30:00.000120+00:00"]\n'
        ).encode()
    )


def test_each_close_seals_its_months_rows_chained_to_the_previous_close(two_months):
    first, second = MonthSeal.objects.get(close=two_months["first"]), MonthSeal.objects.get(close=two_months["second"])
    assert (first.previous_hash, second.previous_hash) == ("", first.seal_hash)
    assert not first.as_found and not second.as_found
    assert first.sealed_by == two_months["first"].closed_by
    # March: its 月額費用 rows (booked at their billing starts) and its three charges; February's row is before the
    # first close and belongs to no closed month.
    march_rows = LedgerEntry.objects.filter(booked_month=MAR)
    assert first.row_count == march_rows.count() == 2 + 3
    # April: its charges and the refund of a March charge (a reversal booked in April).
    assert second.row_count == LedgerEntry.objects.filter(booked_month=APR).count() == 3 + 1
    assert LedgerEntry.objects.filter(booked_month=APR, reverses=two_months["refunded"]).exists()
    assert first.seal_hash == seal_hash_of(
        previous_hash="", month=MAR, row_count=first.row_count, rows_hash=first.rows_hash
    )
    assert first.history.get().history_change_reason == "令和8年3月 (2026-03)の月次締めの封印"


def test_verify_ledger_passes_on_an_untouched_book(two_months):
    code, out = _verify()
    assert code == 0, out
    assert "令和8年3月 (2026-03): 一致（5行" in out
    assert "令和8年4月 (2026-04): 一致（4行" in out
    assert "台帳の検証: 2か月の締めがすべて封印と一致しました（9行、最後の封印 " in out
    assert MonthSeal.objects.get(close=two_months["second"]).seal_hash in out


def test_a_row_changed_behind_the_apps_back_is_reported_in_its_month_with_its_id(two_months):
    row = _march_charge()
    _behind_the_apps_back(f"UPDATE {LEDGER} SET amount_yen = amount_yen + 1 WHERE id = %s", [row.pk])

    code, out = _verify()
    assert code == 1
    assert (
        f"令和8年3月 (2026-03): 台帳の行が封印と一致しません。最初に違う行: #{row.pk}（締め後に変更されています）。"
        in out
    )
    assert f"台帳の検証: 令和8年3月 (2026-03)の台帳が封印と一致しません（最初に違う行: #{row.pk}）。" in out
    # The chain: April is checked against the seal March had, so it still matches on its own rows.
    checks = ledger_verify()
    assert [(c.month, c.ok) for c in checks] == [(MAR, False), (APR, True)]
    assert _verify("--month", "2026-04")[0] == 0
    assert _verify("--month", "R8.3")[0] == 1


def test_a_row_deleted_behind_the_apps_back_is_reported(two_months):
    row = _march_charge()
    _behind_the_apps_back(f"DELETE FROM {LEDGER} WHERE id = %s", [row.pk])

    code, out = _verify()
    assert code == 1
    assert f"最初に違う行: #{row.pk}（締め後に削除されたか、この月から外されています）" in out


def test_a_row_added_to_a_closed_month_is_reported(two_months):
    """February's row (before the first close, in no closed month) moved into March behind the app's back."""
    row = two_months["early"].ledger_entries.get(kind=LedgerKind.MONTHLY)
    assert row.booked_month == FEB
    _behind_the_apps_back(f"UPDATE {LEDGER} SET booked_month = %s WHERE id = %s", [MAR, row.pk])

    code, out = _verify()
    assert code == 1
    assert f"最初に違う行: #{row.pk}（締め後に追加されたか、この月に移されています）" in out


def test_a_reversal_changed_in_the_next_month_breaks_that_month_not_the_one_before(two_months):
    reversal = LedgerEntry.objects.get(reverses=two_months["refunded"])
    _behind_the_apps_back(f"UPDATE {LEDGER} SET reason = %s WHERE id = %s", ["返金", reversal.pk])
    assert [(c.month, c.ok, c.row_id) for c in ledger_verify()] == [(MAR, True, None), (APR, False, reversal.pk)]


def test_a_seal_rewritten_to_match_a_changed_month_is_found_at_the_next_link(two_months):
    """Whoever changes March and writes March's seal again to match must also rewrite April's."""
    row = _march_charge()
    _behind_the_apps_back(f"UPDATE {LEDGER} SET amount_yen = 0 WHERE id = %s", [row.pk])
    from contracts.billing.closed_scope import closes_for
    from contracts.billing.seal import month_seal_compute

    forged = month_seal_compute(closes_for(MAR), previous_hash="")
    chunks = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    _behind_the_apps_back(
        f"UPDATE {MonthSeal._meta.db_table} SET rows_hash = %s, chunks = {chunks}, seal_hash = %s WHERE close_id = %s",
        [forged.rows_hash, json.dumps(forged.chunks), forged.seal_hash, two_months["first"].pk],
    )
    checks = ledger_verify()
    assert [(c.month, c.ok) for c in checks] == [(MAR, True), (APR, False)]
    assert "封印の連鎖が切れています" in checks[1].message


def test_a_changed_seal_record_is_reported(two_months):
    _behind_the_apps_back(
        f"UPDATE {MonthSeal._meta.db_table} SET row_count = 4 WHERE close_id = %s", [two_months["first"].pk]
    )
    code, out = _verify()
    assert code == 1 and "令和8年3月 (2026-03): 封印の記録そのものが書き換えられています。" in out


def test_closes_made_before_seals_are_sealed_as_found_once(two_months):
    _behind_the_apps_back(f"DELETE FROM {MonthSeal.history.model._meta.db_table}")
    _behind_the_apps_back(f"DELETE FROM {MonthSeal._meta.db_table}")
    code, out = _verify()
    assert code == 1 and "令和8年3月 (2026-03): 封印がありません" in out

    out = io.StringIO()
    call_command("seal_ledger", stdout=out)
    assert "令和8年3月 (2026-03)を封印しました（5行" in out.getvalue()
    assert "令和8年4月 (2026-04)を封印しました（4行" in out.getvalue()
    assert list(MonthSeal.objects.values_list("as_found", flat=True)) == [True, True]
    again = io.StringIO()
    call_command("seal_ledger", stdout=again)
    assert again.getvalue() == "封印のない締めはありません。何も書き込んでいません。\n"
    assert MonthSeal.objects.count() == 2

    code, out = _verify()
    assert code == 0, out
    assert "（封印の導入後に、封印した時点の台帳のまま封印）" in out


def test_a_close_after_unsealed_closes_seals_them_first(two_months, accounting):
    _behind_the_apps_back(f"DELETE FROM {MonthSeal.history.model._meta.db_table}")
    _behind_the_apps_back(f"DELETE FROM {MonthSeal._meta.db_table}")
    with _at(2026, 6, 2, 9, 30):
        may = month_close(month=MAY, actor=accounting)
    seals = list(MonthSeal.objects.order_by("close__month").values_list("close__month", "as_found"))
    assert seals == [(MAR, True), (APR, True), (MAY, False)]
    assert may.seal.previous_hash == MonthSeal.objects.get(close__month=APR).seal_hash
    assert _verify()[0] == 0


def test_verify_ledger_refuses_a_month_not_closed_and_bad_months(two_months):
    assert _verify("--month", "2026-06") == (
        1,
        "令和8年6月 (2026-06)は締められていないため、検証する封印がありません。",
    )
    code, out = _verify("--month", "2026-13")
    assert code == 1 and out


def test_verify_ledger_on_a_book_without_closes():
    assert _verify() == (0, "締め済みの月がないため、検証する封印はありません。\n")
    assert MonthClose.objects.count() == 0


# --- PostgreSQL: the table owner changes a row behind the append-only trigger -----------------------------------

TRIGGER = "contracts_ledgerentry_no_update_delete"


@pytest.fixture
def two_months_closed_at_a_snapshot(transactional_db, regulation, approver, approver2, accounting):
    """The same book, its closes on the real path (watermarks under a short lock, then a REPEATABLE READ snapshot)."""
    return _two_months(approver, approver2, accounting)


@pytest.mark.postgres
def test_on_postgresql_rows_the_owner_changes_behind_the_trigger_are_found(two_months_closed_at_a_snapshot):
    assert connection.vendor == "postgresql"
    march, april = (
        LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE, booked_month=m).order_by("pk").first()
        for m in (MAR, APR)
    )
    assert _verify()[0] == 0
    # The app cannot: the trigger refuses an UPDATE, even from the owner.
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="追記のみ"), transaction.atomic():
        _raw(f"UPDATE {LEDGER} SET amount_yen = amount_yen + 1 WHERE id = %s", [march.pk])

    # The owner disables the trigger, changes March's amount and enables it again: nothing in the table says so.
    _raw(f"ALTER TABLE {LEDGER} DISABLE TRIGGER {TRIGGER}")
    _raw(f"UPDATE {LEDGER} SET amount_yen = amount_yen + 1000 WHERE id = %s", [march.pk])
    _raw(f"ALTER TABLE {LEDGER} ENABLE TRIGGER {TRIGGER}")
    # A superuser skips every trigger for its session and changes April's reason.
    _raw("SET session_replication_role = replica")
    _raw(f"UPDATE {LEDGER} SET reason = %s WHERE id = %s", ["（書き換え）", april.pk])
    _raw("RESET session_replication_role")
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = %s", [TRIGGER])
        assert cursor.fetchone() == ("O",)

    code, out = _verify()
    assert code == 1
    assert (
        f"令和8年3月 (2026-03): 台帳の行が封印と一致しません。最初に違う行: #{march.pk}（締め後に変更されています）。"
        in out
    )
    assert (
        f"令和8年4月 (2026-04): 台帳の行が封印と一致しません。最初に違う行: #{april.pk}（締め後に変更されています）。"
        in out
    )
    assert f"台帳の検証: 令和8年3月 (2026-03)の台帳が封印と一致しません（最初に違う行: #{march.pk}）。" in out
