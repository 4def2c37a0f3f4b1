"""On PostgreSQL the database itself refuses UPDATE, DELETE and TRUNCATE of the ledger (append-only).

A database administrator (and the test suite's flush between transactional tests) may lift the guard
for one transaction only with `SET LOCAL backoffice.ledger_maintenance = 'on'`; the application never does.
"""

from django.db import migrations

CREATE = """
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

CREATE TRIGGER contracts_ledgerentry_no_update_delete
    BEFORE UPDATE OR DELETE ON contracts_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION contracts_ledger_append_only();

CREATE TRIGGER contracts_ledgerentry_no_truncate
    BEFORE TRUNCATE ON contracts_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION contracts_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS contracts_ledgerentry_no_truncate ON contracts_ledgerentry;
DROP TRIGGER IF EXISTS contracts_ledgerentry_no_update_delete ON contracts_ledgerentry;
DROP FUNCTION IF EXISTS contracts_ledger_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
