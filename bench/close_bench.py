"""Month-close and charges benchmark: the terms-timeline engine in bounded memory, on PostgreSQL.

    .venv/bin/python bench/close_bench.py --contracts 10000,100000
    make bench-close BENCH_ARGS="--contracts 10000,100000,1000000"

For each N: fills a book set-based (N subscribers, N SWP contracts in billing from days of 2026-03, each with its
one terms period, 1 in 7 with a second period from 2026-03-20), then runs, each in a child process of its own (so
each has its own peak RSS):
- sql        — the baseline: one set-based SELECT computing the same charge rows (same days, same yen), fetched;
- insert-sql — the close's baseline: that SELECT written as ledger rows by one INSERT … SELECT, and their history
               rows by a second (rolled back, so the close below starts from the same book);
- charges  — the app's `contract_charges` for 2026-03, every line consumed, nothing kept;
- close    — `month_close(2026-03)`: the charge rows and their history written in batches, in one transaction.
Prints seconds, the ratio to the baseline, peak RSS and its growth during the run, and rows. The close's
charge-row count and total are checked against the baseline's. Record results in BENCHMARKS.md.
Runs against DATABASE_URL (default postgres://postgres@127.0.0.1:5432/backoffice_close_bench).
"""

import argparse
import json
import os
import time
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/backoffice_close_bench"
MONTH = "2026-03-01"
PATHS = ("sql", "insert-sql", "charges", "close")

BASELINE_SQL = """
WITH periods AS (
    SELECT t.option_contract_id, t.quantity,
           greatest(t.valid_from, c.billing_start_date, DATE '2026-03-01') AS first_day,
           least(coalesce(t.valid_until, DATE '2026-03-31'), coalesce(c.end_date, DATE '2026-03-31'),
                 DATE '2026-03-31') AS last_day
    FROM contracts_contractterms t JOIN contracts_optioncontract c ON c.id = t.option_contract_id
    WHERE t.superseded_at IS NULL AND c.billing_start_date <= DATE '2026-03-31'
      AND (c.end_date IS NULL OR c.end_date >= DATE '2026-03-01')
)
SELECT option_contract_id,
       sum((last_day - first_day + 1)) AS days,
       sum(CASE WHEN last_day - first_day + 1 = 31 THEN 3000 * (quantity / 10)
                ELSE 3000 * (quantity / 10) * (last_day - first_day + 1) / 31 END) AS amount
FROM periods WHERE last_day >= first_day
GROUP BY option_contract_id ORDER BY option_contract_id
"""


def _insert_select(cursor) -> tuple[int, int]:
    """Write the baseline's rows and their history set-based, as the close would; return (rows, total yen)."""
    from contracts.models import LedgerEntry
    from core.history_write import system_user
    from options.models import FeeItem

    fee = FeeItem.objects.get(variant__option__code="swp-accounts", variant__code="additional-accounts", kind="monthly")
    user = system_user()
    cursor.execute(
        f"""
        INSERT INTO contracts_ledgerentry (kind, option_contract_id, fee_item_id, revision_id, article, quantity,
            blocks, unit_amount_yen, amount_yen, arisen_at, booked_month, charge_month, days_billed, days_in_month,
            reason, created_by_id, created_at)
        SELECT 'monthly_charge', b.option_contract_id, %s, %s, %s, c.quantity, c.quantity / 10,
               3000 * (c.quantity / 10), b.amount, TIMESTAMPTZ '2026-03-01 00:00+09', DATE '2026-03-01',
               DATE '2026-03-01', b.days, 31, '', %s, now()
        FROM ({BASELINE_SQL}) b JOIN contracts_optioncontract c ON c.id = b.option_contract_id
        """,
        [fee.pk, fee.revision_id, fee.article, user.pk],
    )
    columns = [f.column for f in LedgerEntry._meta.concrete_fields]
    listed = ", ".join(columns)
    cursor.execute(
        f"""
        INSERT INTO contracts_historicalledgerentry ({listed}, history_date, history_change_reason, history_type,
            history_user_id)
        SELECT {listed}, now(), '2026年3月の月次締め', '+', %s FROM contracts_ledgerentry
        WHERE booked_month = DATE '2026-03-01' AND kind = 'monthly_charge'
        """,
        [user.pk],
    )
    cursor.execute(
        "SELECT count(*), coalesce(sum(amount_yen), 0) FROM contracts_ledgerentry WHERE kind = 'monthly_charge'"
    )
    return cursor.fetchone()


def _fill(contracts: int) -> float:
    from django.core.management import call_command
    from django.db import connection, transaction

    from core.history_write import system_user
    from options.models import OptionVariant

    call_command("migrate", verbosity=0, skip_checks=True)
    call_command("load_regulation", stdout=open(os.devnull, "w"))
    user = system_user()
    variant = OptionVariant.objects.get(option__code="swp-accounts", code="additional-accounts")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        params = {"n": contracts, "option": variant.option_id, "variant": variant.pk, "user": user.pk}
        cursor.execute(
            """
            INSERT INTO contracts_subscriber (code, name, kana, kind, email, phone, address, note, is_active,
                created_at)
            SELECT 'B' || lpad(i::text, 8, '0'), '株式会社ベンチ' || i, 'ベンチ', 'corporate', '', '', '', '',
                   true, now()
            FROM generate_series(1, %(n)s) AS i
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO contracts_optioncontract (subscriber_id, option_id, variant_id, quantity, status,
                contracted_on, approved_at, approved_by_id, billing_start_date, migrated, created_at)
            SELECT s.id, %(option)s, %(variant)s, 10 * (1 + s.id %% 5), 'billing', DATE '2026-02-20',
                   TIMESTAMPTZ '2026-02-20 10:00+09', %(user)s, DATE '2026-03-01' + (s.id %% 28)::int, false, now()
            FROM contracts_subscriber s ORDER BY s.id
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO contracts_contractterms (option_contract_id, option_id, variant_id, quantity,
                quoted_amount_yen, valid_from, valid_until, event, provision, created_by_id, created_at)
            SELECT c.id, c.option_id, c.variant_id, c.quantity, NULL::integer, c.contracted_on,
                   CASE WHEN c.id %% 7 = 0 THEN DATE '2026-03-19' END, 'approval', '', %(user)s, now()
            FROM contracts_optioncontract c
            UNION ALL
            SELECT c.id, c.option_id, c.variant_id, c.quantity + 10, NULL::integer, DATE '2026-03-20', NULL,
                   'change', '',
                   %(user)s, now()
            FROM contracts_optioncontract c WHERE c.id %% 7 = 0
            """,
            params,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def _measure(path: str) -> dict:
    harness.django_setup()
    import datetime as dt

    from django.conf import settings
    from django.db import connection, transaction

    from contracts.billing.charges import contract_charges
    from contracts.services.month_close import month_close
    from core.history_write import system_user

    settings.DEBUG = False  # as in production: with DEBUG, Django keeps every statement's SQL in memory
    connection.ensure_connection()
    actor = system_user()
    baseline = harness.rss_mb("VmRSS")
    harness.peak_reset()
    started = time.perf_counter()
    rows = total = 0
    month = dt.date.fromisoformat(MONTH)
    if path == "sql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL)
            while batch := cursor.fetchmany(5000):
                rows += len(batch)
                total += sum(r[2] for r in batch)
    elif path == "insert-sql":
        with transaction.atomic(), connection.cursor() as cursor:
            rows, total = _insert_select(cursor)
            transaction.set_rollback(True)
    elif path == "charges":
        with transaction.atomic():
            for result in contract_charges(first_month=month, last_month=month):
                for line in result.lines:
                    rows += 1
                    total += line.amount_yen
    else:
        import time_machine

        with time_machine.travel(dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))):
            close = month_close(month=month, actor=actor)
        rows = close.charge_rows
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(amount_yen), 0) FROM contracts_ledgerentry WHERE kind = 'monthly_charge'"
            )
            total = cursor.fetchone()[0]
    seconds = time.perf_counter() - started
    peak = harness.rss_mb("VmHWM")
    return {
        "path": path,
        "seconds": seconds,
        "peak_mb": peak,
        "growth_mb": peak - baseline,
        "rows": rows,
        "total": int(total),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", default="10000,100000", help="comma-separated book sizes")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    harness.environment(url)
    if args.measure:
        print(json.dumps(_measure(args.measure)))
        return
    print(
        f"{'contracts':>10} {'path':<10} {'seconds':>8} {'× sql':>6} {'× insert':>8} {'peak MB':>8} {'growth MB':>10}"
        f" {'rows':>9}"
        " total yen"
    )
    for n in [int(x) for x in args.contracts.split(",")]:
        harness.database_ensure(url, fresh=True)
        harness.django_setup()
        fill = _fill(n)
        from django.db import connections

        connections.close_all()
        results = {path: harness.run_child(__file__, path) for path in PATHS}
        base, insert = results["sql"], results["insert-sql"]
        for path in PATHS:
            r = results[path]
            print(
                f"{n:>10,} {path:<10} {r['seconds']:>8.2f} {r['seconds'] / base['seconds']:>6.2f} "
                f"{r['seconds'] / insert['seconds']:>8.2f} {r['peak_mb']:>8.0f} {r['growth_mb']:>10.1f} "
                f"{r['rows']:>9,} {r['total']:,}"
            )
        if len({results[p]["total"] for p in PATHS}) != 1:
            raise SystemExit(f"totals differ: {[results[p]['total'] for p in PATHS]}")
        print(f"{'':>10} (fill {fill:.1f} s; the engine's yen equal the SQL's)")


if __name__ == "__main__":
    main()
