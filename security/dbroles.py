"""The two database roles, and the one declaration of what the app role may only append to.

The owner role owns the schema and runs `migrate`; the app role (the app servers' DATABASE_URL) owns nothing.
`grant_app_role` gives the app role SELECT, INSERT, UPDATE and DELETE on every table of the schema except the
append-only ones, where it keeps only SELECT and INSERT. Run it as the owner after every `migrate` (a new
table has no grant until then): it starts from nothing each time, so running it again changes nothing.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import connections, transaction
from django.db.models import Model
from simple_history.models import HistoricalChanges

# The ledger, the month close (only ever INSERTed: a closed month is never reopened or edited) and its stored
# 集計 and its seal (台帳の封印), the export log, the auth log and the record of who created each staff account.
# Every simple-history table (the audit trail) is append-only as well: see append_only_models().
APPEND_ONLY_MODELS = (
    "contracts.LedgerEntry",
    "contracts.MonthClose",
    "contracts.MonthCloseSummary",
    "contracts.MonthSeal",
    "exports.ExportLog",  # the export log (電子帳簿保存法)
    "security.AuthEvent",
    "security.StaffAccount",
)

# Functions the app role may call (each created by a migration, EXECUTE revoked from PUBLIC there).
APP_FUNCTIONS = ("contracts_lock_share_row_exclusive(regclass[])",)

SCHEMA = "public"


class DbRoleError(Exception):
    """A grant that cannot be made; the message is for the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class GrantResult:
    role: str
    tables: int
    append_only: tuple[str, ...]


def append_only_models() -> list[type[Model]]:
    """Return the declared models plus every simple-history model (m2m history included), in label order."""
    declared = [apps.get_model(label) for label in APPEND_ONLY_MODELS]
    history = [m for m in apps.get_models() if issubclass(m, HistoricalChanges)]
    return sorted({*declared, *history}, key=lambda m: m._meta.label)


def append_only_tables() -> list[str]:
    return sorted(m._meta.db_table for m in append_only_models())


def grant_app_role(*, role: str, using: str = "default") -> GrantResult:
    """Grant `role` what the app needs and no more; refuse (DbRoleError) a role that would defeat the point."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise DbRoleError(
            f"データベースのロールは PostgreSQL でのみ設定できます（現在のデータベース: {connection.vendor}）。"
            "DATABASE_URL に所有者ロールの PostgreSQL の URL を指定して実行してください。"
        )
    tables = append_only_tables()
    with transaction.atomic(using=using), connection.cursor() as cursor:
        _check_role(cursor, role)
        existing = set(connection.introspection.table_names(cursor))
        missing = [t for t in tables if t not in existing]
        if missing:
            raise DbRoleError(
                f"追記のみのテーブルがありません（{', '.join(missing)}）。"
                "先に所有者ロールで migrate を実行してください。"
            )
        q = connection.ops.quote_name
        who = q(role)
        append_only = ", ".join(q(t) for t in tables)
        statements = [
            # Nobody but the owner creates objects in the schema (PostgreSQL 15 already defaults to this).
            f"REVOKE CREATE ON SCHEMA {SCHEMA} FROM PUBLIC",
            f"REVOKE CREATE ON SCHEMA {SCHEMA} FROM {who}",
            f"GRANT USAGE ON SCHEMA {SCHEMA} TO {who}",
            # From nothing, so an earlier grant by hand (TRUNCATE, TRIGGER, a column) does not survive.
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM {who}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {SCHEMA} FROM {who}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO {who}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {append_only} FROM {who}",
            f"REVOKE ALL ON {append_only} FROM PUBLIC",
            # nextval for inserts; never setval (UPDATE).
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {who}",
            *(f"GRANT EXECUTE ON FUNCTION {f} TO {who}" for f in APP_FUNCTIONS),
        ]
        for statement in statements:
            cursor.execute(statement)
        _verify(cursor, role, tables)
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND has_table_privilege(%s, "
            "quote_ident(schemaname) || '.' || quote_ident(tablename), 'SELECT')",
            [SCHEMA, role],
        )
        (granted,) = cursor.fetchone()
    return GrantResult(role=role, tables=granted, append_only=tuple(tables))


def _check_role(cursor, role: str) -> None:
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None:
        raise DbRoleError(
            f"ロール「{role}」がデータベースサーバーにありません。"
            f"先に CREATE ROLE {role} LOGIN PASSWORD '…'; で作成してから実行してください。"
        )
    if row[0] or row[1]:
        raise DbRoleError(
            f"ロール「{role}」はスーパーユーザー（または BYPASSRLS）です。権限を持たないロールを指定してください。"
        )
    cursor.execute("SELECT current_user, pg_has_role(%s, current_user, 'MEMBER')", [role])
    current, member = cursor.fetchone()
    if role == current or member:
        raise DbRoleError(
            f"ロール「{role}」は実行中の所有者ロール（{current}）そのもの、またはそのメンバーです。"
            "アプリ用には所有者と別のロールを指定してください。"
        )
    cursor.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
        [SCHEMA, role],
    )
    (owned,) = cursor.fetchone()
    if owned:
        raise DbRoleError(
            f"ロール「{role}」は {SCHEMA} スキーマのテーブルなど {owned} 個を所有しています。"
            "アプリ用のロールは何も所有しないロールにしてください（所有者は migrate を実行するロールです）。"
        )


def _verify(cursor, role: str, tables: list[str]) -> None:
    """Read the privileges back as PostgreSQL sees them (memberships included) and refuse if one is left."""
    cursor.execute(
        "SELECT t, p FROM unnest(%s::text[]) AS t, unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p "
        "WHERE has_table_privilege(%s, quote_ident(t), p) ORDER BY t, p",
        [tables, role],
    )
    left = [f"{t} の {p}" for t, p in cursor.fetchall()]
    if left:
        raise DbRoleError(
            f"ロール「{role}」には追記のみのテーブルへの権限が残っています（{'、'.join(left)}）。"
            "そのロールが所属するロール（GRANT 先）の権限を確認してください。"
        )
