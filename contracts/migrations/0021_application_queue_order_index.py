"""The application queues' index in their whole order (status, entered_at, id), replacing (status, entered_at).

Built and dropped CONCURRENTLY on PostgreSQL, so a deploy does not lock the applications against writes while the
index builds (atomic = False: CONCURRENTLY cannot run in a transaction). On SQLite the same operations are plain.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models
from django.db.migrations.operations import AddIndex, RemoveIndex


class AddIndexOnPostgresConcurrently(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain AddIndex elsewhere (SQLite builds no index concurrently)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        base = AddIndexConcurrently if schema_editor.connection.vendor == "postgresql" else AddIndex
        base.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        base = AddIndexConcurrently if schema_editor.connection.vendor == "postgresql" else AddIndex
        base.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexOnPostgresConcurrently(RemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL; a plain RemoveIndex elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        base = RemoveIndexConcurrently if schema_editor.connection.vendor == "postgresql" else RemoveIndex
        base.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        base = RemoveIndexConcurrently if schema_editor.connection.vendor == "postgresql" else RemoveIndex
        base.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contracts", "0018_report_figures"),
    ]

    operations = [
        AddIndexOnPostgresConcurrently(
            model_name="application",
            index=models.Index(fields=["status", "entered_at", "id"], name="application_queue_order_idx"),
        ),
        RemoveIndexOnPostgresConcurrently(model_name="application", name="application_queue_idx"),
    ]
