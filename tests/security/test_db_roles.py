"""The app's database role: it may only read and append to the ledger, the month close, the history
tables and the auth log, and has no way around their guards; the owner (the test suite) still resets them."""

import datetime as dt
import uuid
from contextlib import contextmanager

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, MonthClose, Subscriber
from contracts.services import ledger_entry_reverse, subscriber_create
from contracts.services.month_close import month_close
from security.dbroles import DbRoleError, append_only_tables, grant_app_role
from security.models import AuthEvent, AuthEventKind
from tests.factories import contract_billed_from, jst

pytestmark = pytest.mark.django_db

ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
INSUFFICIENT_PRIVILEGE = "42501"
LEDGER = LedgerEntry._meta.db_table
AUTH_LOG = AuthEvent._meta.db_table
FEB = dt.date(2026, 2, 1)


def test_the_declaration_covers_the_ledger_the_month_close_the_auth_log_and_every_history_table():
    tables = set(append_only_tables())
    tracked = [m for m in apps.get_models() if getattr(m._meta, "simple_history_manager_attribute", None)]
    assert len(tracked) >= 18
    assert {m.history.model._meta.db_table for m in tracked} <= tables
    assert {LEDGER, MonthClose._meta.db_table, AUTH_LOG, "options_historicaleligibilityrule_services"} <= tables
    assert not {"contracts_optioncontract", "contracts_contractterms", "django_session", "auth_user"} & tables


@pytest.mark.skipif(not ON_SQLITE, reason="SQLite での拒否の確認です（PostgreSQL では下のテストが動きます）")
def test_the_command_refuses_sqlite_in_japanese():
    with pytest.raises(CommandError, match="PostgreSQL でのみ設定できます"):
        call_command("db_grant_app_role", role="backoffice_app")


# --- PostgreSQL: a throwaway role, granted as the app role is, inside the test's transaction ------------------


def _sqlstate(sql: str, params=None) -> str | None:
    """Run `sql` in a savepoint; return the SQLSTATE it failed with, None if it succeeded (then roll it back)."""

    class Succeeded(Exception):
        pass

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            raise Succeeded
    except Succeeded:
        return None
    except DatabaseError as error:
        return getattr(error.__cause__, "sqlstate", None) or "?"


@contextmanager
def _as(role: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {connection.ops.quote_name(role)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.fixture
def app_role(db):
    """A NOLOGIN role granted by grant_app_role; dropped at the end (and the test's rollback undoes it too)."""
    name = f"dbroles_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOLOGIN")
    try:
        grant_app_role(role=name)
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute(f"DROP OWNED BY {name}")
            cursor.execute(f"DROP ROLE {name}")


@pytest.fixture
def billed(regulation, approver):
    """A contract billed from 2026-02-01, its monthly obligation in the ledger (written as the owner)."""
    return contract_billed_from(FEB, code="C000001", name="株式会社ロール", approver=approver)


def _first_column(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = 1", [table])
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.parametrize("table", append_only_tables())
def test_the_app_role_cannot_update_delete_truncate_lock_or_untrigger_an_append_only_table(app_role, table):
    column = connection.ops.quote_name(_first_column(table))
    name = connection.ops.quote_name(table)
    statements = [
        f"UPDATE {name} SET {column} = {column}",
        f"DELETE FROM {name}",
        f"TRUNCATE {name}",
        f"SELECT 1 FROM {name} FOR UPDATE",
        f"LOCK TABLE {name} IN SHARE ROW EXCLUSIVE MODE",
        f"ALTER TABLE {name} DISABLE TRIGGER ALL",
        f"DROP TABLE {name}",
    ]
    with _as(app_role):
        assert _sqlstate(f"SELECT count(*) FROM {name}") is None
        assert {sql: _sqlstate(sql) for sql in statements} == {sql: INSUFFICIENT_PRIVILEGE for sql in statements}


@pytest.mark.postgres
def test_the_app_role_cannot_drop_the_triggers_replicate_around_them_or_use_the_maintenance_flags(app_role):
    statements = [
        f"DROP TRIGGER contracts_ledgerentry_no_update_delete ON {LEDGER}",
        f"DROP TRIGGER contracts_ledgerentry_no_truncate ON {LEDGER}",
        f"DROP TRIGGER security_authevent_no_update_delete ON {AUTH_LOG}",
        # A superuser-only setting: with it, triggers would not fire.
        "SET session_replication_role = replica",
        f"SET LOCAL backoffice.ledger_maintenance = 'on'; DELETE FROM {LEDGER}",
        f"SET LOCAL backoffice.ledger_maintenance = 'on'; TRUNCATE {LEDGER}",
        f"SET LOCAL backoffice.auth_log_maintenance = 'on'; DELETE FROM {AUTH_LOG}",
        "CREATE TABLE public.dbroles_probe (id int)",
        "SELECT contracts_lock_share_row_exclusive(ARRAY['pg_class'::regclass])",
    ]
    with _as(app_role):
        assert {sql: _sqlstate(sql) for sql in statements} == {sql: INSUFFICIENT_PRIVILEGE for sql in statements}


@pytest.mark.postgres
def test_the_maintenance_flag_works_for_the_owner_only_even_after_a_mistaken_grant(app_role, billed):
    AuthEvent.objects.create(kind=AuthEventKind.LOGIN, username="keiri")
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE, DELETE ON {LEDGER}, {AUTH_LOG} TO {app_role}")
    flagged_delete = f"SET LOCAL backoffice.ledger_maintenance = 'on'; DELETE FROM {LEDGER}"
    with _as(app_role):
        with pytest.raises(DatabaseError, match="支払義務台帳は追記のみです"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(flagged_delete)
        with pytest.raises(DatabaseError, match="認証ログは追記のみです"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL backoffice.auth_log_maintenance = 'on'; DELETE FROM {AUTH_LOG}")
    # The owner's way to reset data (the suite's flush between transactional tests) still works.
    assert _sqlstate(flagged_delete) is None
    assert LedgerEntry.objects.exists() and AuthEvent.objects.exists()


@pytest.mark.postgres
def test_the_app_role_closes_a_month_reverses_a_row_and_logs_through_the_services(
    app_role, billed, accounting, approver2
):
    with _as(app_role):
        with time_machine.travel(jst(2026, 3, 2, 9, 30), tick=False):
            close = month_close(month=FEB, actor=accounting)
        charge = LedgerEntry.objects.get(kind=LedgerKind.MONTHLY_CHARGE)
        reversal = ledger_entry_reverse(entry=charge, reason="ロールの確認", actor=approver2)
        AuthEvent.objects.create(kind=AuthEventKind.LOGIN, username="keiri")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == app_role

    assert (close.charge_rows, MonthClose.objects.get().month) == (1, FEB)
    assert reversal.reverses_id == charge.pk and reversal.amount_yen == -charge.amount_yen
    assert LedgerEntry.history.filter(id=reversal.pk).exists()
    assert AuthEvent.objects.filter(username="keiri").exists()


@pytest.mark.postgres
def test_granting_again_changes_nothing_and_strips_a_privilege_granted_by_hand(app_role):
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT TRUNCATE, TRIGGER ON {LEDGER} TO {app_role}")
    result = grant_app_role(role=app_role)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(%s, %s, 'TRUNCATE'), has_table_privilege(%s, %s, 'TRIGGER'), "
            "has_table_privilege(%s, %s, 'INSERT'), has_table_privilege(%s, 'contracts_optioncontract', 'UPDATE')",
            [app_role, LEDGER] * 3 + [app_role],
        )
        assert cursor.fetchone() == (False, False, True, True)
    assert LEDGER in result.append_only and result.tables > len(result.append_only)


@pytest.mark.postgres
def test_the_command_refuses_a_missing_role_or_the_owner_itself_in_japanese():
    with pytest.raises(CommandError, match="ロール「dbroles_no_such_role」がデータベースサーバーにありません"):
        call_command("db_grant_app_role", role="dbroles_no_such_role")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(DbRoleError, match="スーパーユーザー|所有者ロール"):
        grant_app_role(role=owner)


@pytest.mark.postgres
def test_the_app_role_cannot_delete_a_staff_account_that_has_history(app_role, clerk):
    subscriber_create(actor=clerk, code="C000002", name="株式会社履歴", reason="履歴の作成")
    with _as(app_role), pytest.raises(DatabaseError) as raised, transaction.atomic():
        clerk.delete()  # simple-history would set history_user to NULL: an UPDATE of a history table
    assert raised.value.__cause__.sqlstate == INSUFFICIENT_PRIVILEGE
    assert Subscriber.history.filter(history_user=clerk).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--role", "backoffice_app", "--database", "nosuch"],
            "データベース設定「nosuch」はありません（設定済み: default）。",
        ),
        (
            ["--role", "backoffice_app", "--database", "replica"],
            "レプリカは読み取り専用です。権限は主データベース（default）で付与してください（レプリカへは複製されます）。",
        ),
        (["--role", "a\x00b"], "ロール名は1〜63バイトで、NUL を含まない名前を指定してください。"),
        (["--role", "r" * 64], "ロール名は1〜63バイトで、NUL を含まない名前を指定してください。"),
        (["--role", ""], "ロール名は1〜63バイトで、NUL を含まない名前を指定してください。"),
    ],
)
def test_db_grant_app_role_refuses_an_unknown_database_and_a_role_name_no_server_holds(args, message):
    with pytest.raises(CommandError) as refused:
        call_command("db_grant_app_role", *args)
    assert (str(refused.value), refused.value.returncode) == (message, 1)
