"""The ledger's maintenance flag works only for the table's owner; the app role takes the month-close locks.

- The app role (docs: README "データベースのロール") holds no UPDATE/DELETE/TRUNCATE on the ledger, so the flag could
  not help it anyway. Honouring it only for a role with the owner's privileges (the owner, a member of it, a
  superuser) keeps it that way if such a privilege is ever granted by mistake; the owner could drop the trigger
  in any case, so it loses nothing. The test suite's flush runs as the owner.
- `LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE` (the month close, contracts.services.month_close) needs UPDATE,
  DELETE or TRUNCATE on each table before PostgreSQL 17. `contracts_lock_share_row_exclusive` takes that lock
  as its owner (SECURITY DEFINER) in the caller's transaction, on tables of the public schema only; it is only
  a lock, it reads and writes nothing. EXECUTE is revoked from PUBLIC; `db_grant_app_role` grants it.
"""

from django.db import migrations

LEDGER_GUARD = """
CREATE OR REPLACE FUNCTION contracts_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('backoffice.ledger_maintenance', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '支払義務台帳は追記のみです（% は禁止されています）', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

LEDGER_GUARD_BEFORE = """
CREATE OR REPLACE FUNCTION contracts_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('backoffice.ledger_maintenance', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '支払義務台帳は追記のみです（% は禁止されています）', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

CLOSE_LOCK = """
CREATE OR REPLACE FUNCTION contracts_lock_share_row_exclusive(tables regclass[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t regclass;
BEGIN
    FOREACH t IN ARRAY tables LOOP
        IF NOT EXISTS (
            SELECT 1 FROM pg_class c
            WHERE c.oid = t AND c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace
        ) THEN
            RAISE EXCEPTION 'public スキーマのテーブルではないためロックできません: %', t
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', t);
    END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION contracts_lock_share_row_exclusive(regclass[]) FROM PUBLIC;
"""

DROP_CLOSE_LOCK = "DROP FUNCTION IF EXISTS contracts_lock_share_row_exclusive(regclass[]);"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LEDGER_GUARD, params=None)
        schema_editor.execute(CLOSE_LOCK, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_CLOSE_LOCK, params=None)
        schema_editor.execute(LEDGER_GUARD_BEFORE, params=None)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0006_backfill_terms_timeline")]

    operations = [migrations.RunPython(forwards, backwards)]
