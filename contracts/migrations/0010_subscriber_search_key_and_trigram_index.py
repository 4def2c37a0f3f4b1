"""The subscriber's search key (core.search), filled for every subscriber, and on PostgreSQL its trigram index.

Why pg_trgm and not pg_bigm: pg_bigm (2-grams, made for Japanese) is not packaged in Debian's PostgreSQL, which this
back office installs and runs on; pg_trgm ships with PostgreSQL's contrib, is a trusted extension (PostgreSQL 13+),
so the database owner that runs `migrate` may create it without being a superuser, and the app role
(security/dbroles.py) only reads through the index. With a UTF-8 LC_CTYPE (C.UTF-8, ja_JP.UTF-8) kana and kanji
count as word characters, so Japanese keys give trigrams.

A trigram needs three characters: a query of three or more (やまだ, 山田太郎, 0002) is served by the GIN index; a
query of one or two characters (山, 山田) yields no trigram and is not served by it. PostgreSQL then walks the code
index and filters, stopping at the search's row limit: fast for a common character, a full scan for a rare one.
EXPLAIN ANALYZE at 200,000 generated subscribers (PostgreSQL 15, a busy 2-core machine; BENCHMARKS.md, search):
ヤマダ 0.15 ms, 山田太郎 0.18 ms, 0002 (245 rows) 1.3 ms, 031234 0.9 ms by the index; 山 0.1 ms, 山田 0.8 ms by the
code index; 鷹 (no match) 177 ms, ヴヵ 213 ms by a parallel sequential scan. The index is 44 MB beside a 21 MB table.
"""

from django.db import migrations, models

from core.search import search_key

BATCH = 2000


def fill_search_keys(apps, schema_editor):
    # The same fields the subscriber services key on (contracts.services.subscribers._set_search_key).
    Subscriber = apps.get_model("contracts", "Subscriber")
    rows = Subscriber.objects.using(schema_editor.connection.alias).order_by("pk")
    batch = []
    for subscriber in rows.only("pk", "code", "name", "kana", "phone").iterator(chunk_size=BATCH):
        subscriber.search_key = search_key(subscriber.code, subscriber.name, subscriber.kana, subscriber.phone)
        batch.append(subscriber)
        if len(batch) >= BATCH:
            Subscriber.objects.bulk_update(batch, ["search_key"])
            batch = []
    if batch:
        Subscriber.objects.bulk_update(batch, ["search_key"])


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS subscriber_search_key_trgm ON contracts_subscriber "
        "USING gin (search_key gin_trgm_ops)"
    )
    # Line IDs and base-service contract numbers are searched with icontains, i.e. UPPER(col::text) LIKE UPPER(…).
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS carrier_line_line_id_trgm ON contracts_carrierlinecontract "
        "USING gin ((UPPER(line_id::text)) gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS base_contract_number_trgm ON contracts_baseservicecontract "
        "USING gin ((UPPER(contract_number::text)) gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ("subscriber_search_key_trgm", "carrier_line_line_id_trgm", "base_contract_number_trgm"):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    # The extension stays: other databases objects may use it, and dropping it is the owner's call.


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0009_option_contract_and_application_invariants"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscriber",
            name="search_key",
            field=models.TextField(blank=True, db_default="", default="", editable=False, verbose_name="検索キー"),
        ),
        migrations.RunPython(fill_search_keys, migrations.RunPython.noop),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
