"""On PostgreSQL the database itself refuses UPDATE and DELETE of the auth log (append-only).

A database administrator may lift the guard for one transaction (e.g. to prune old rows) with
`SET LOCAL backoffice.auth_log_maintenance = 'on'`; the application never does. TRUNCATE is left to the
database owner (the test suite's flush between transactional tests uses it).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION security_auth_log_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('backoffice.auth_log_maintenance', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '認証ログは追記のみです（% は禁止されています）', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER security_authevent_no_update_delete
    BEFORE UPDATE OR DELETE ON security_authevent
    FOR EACH ROW EXECUTE FUNCTION security_auth_log_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS security_authevent_no_update_delete ON security_authevent;
DROP FUNCTION IF EXISTS security_auth_log_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
