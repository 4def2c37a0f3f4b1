"""The auth log's maintenance flag works only for the table's owner (a member of it, or a superuser).

The app role holds no UPDATE/DELETE on the log, so the flag could not help it; honouring it only for the
owner keeps it that way if such a privilege is ever granted by mistake (see contracts 0007 for the ledger).
"""

from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION security_auth_log_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('backoffice.auth_log_maintenance', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '認証ログは追記のみです（% は禁止されています）', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

GUARD_BEFORE = """
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
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_BEFORE, params=None)


class Migration(migrations.Migration):
    dependencies = [("security", "0002_auth_log_append_only_trigger")]

    operations = [migrations.RunPython(forwards, backwards)]
