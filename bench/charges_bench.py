"""月額 (the charges part of the monthly report) benchmark: the app's stream against one set-based SQL statement
computing the same rows, open month and closed month, on PostgreSQL.

    .venv/bin/python bench/charges_bench.py --contracts 10000,100000
    .venv/bin/python bench/charges_bench.py --contracts 10000,100000 --before /work/main   # and the old code

For each N: fills the book of bench/close_bench.py (N subscribers, N SWP contracts in billing from days of 2026-03,
1 in 7 with a second terms period from 2026-03-20), then, each in a child process of its own (its own peak RSS):
- sql         — the baseline: one SELECT computing 月額's rows (same columns, same days and yen, the report's
                order: subscriber code by code point, contract), read through a server-side cursor, nothing kept;
- rows        — `monthly_report(2026-03).charge_rows` consumed, nothing kept;
- csv         — the 月額 CSV download (`export_response_chunks(part="charges")`) consumed;
- xlsx        — the whole workbook (集計, 月額 and 明細 sheets: `export_response_chunks(fmt="xlsx")`) consumed;
- job         — the same workbook as a large month gets it: an ExportJob queued by `export_job_request` and run
                by `export_job_run` as the worker does (the file's chunks written to the database);
then closes 2026-03 (`month_close`) and runs the closed month's paths:
- sql-closed  — the baseline: the frozen rows with the same joins and order, through a server-side cursor;
- rows-closed, csv-closed, xlsx-closed, job-closed — as above, from the ledger.
With --before DIR, rows/csv/rows-closed/csv-closed also run on the code checked out in DIR (marked "old ").
Prints seconds, the ratio to the matching baseline, peak RSS and its growth, rows and total yen (checked equal).
Runs against DATABASE_URL (default postgres://postgres@127.0.0.1:5432/backoffice_charges_bench).
"""

import argparse
import json
import os
import time

import close_bench
import harness

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/backoffice_charges_bench"
MONTH = "2026-03-01"
OPEN_PATHS = ("sql", "rows", "csv", "xlsx", "job")
CLOSED_PATHS = ("sql-closed", "rows-closed", "csv-closed", "xlsx-closed", "job-closed")
APP_PATHS = ("rows", "csv", "rows-closed", "csv-closed")

# 月額's 16 columns for the bench book, computed set-based: one row per contract (its periods prorated and summed;
# quantity, blocks and monthly amount of its last period, as the engine reports them).
OPEN_SQL = """
WITH periods AS (
    SELECT t.option_contract_id, t.quantity,
           greatest(t.valid_from, c.billing_start_date, DATE '2026-03-01') AS first_day,
           least(coalesce(t.valid_until, DATE '2026-03-31'), coalesce(c.end_date, DATE '2026-03-31'),
                 DATE '2026-03-31') AS last_day
    FROM contracts_contractterms t JOIN contracts_optioncontract c ON c.id = t.option_contract_id
    WHERE t.superseded_at IS NULL AND c.billing_start_date <= DATE '2026-03-31'
      AND (c.end_date IS NULL OR c.end_date >= DATE '2026-03-01')
), per_contract AS (
    SELECT option_contract_id,
           sum(last_day - first_day + 1) AS days,
           sum(CASE WHEN last_day - first_day + 1 = 31 THEN 3000 * (quantity / 10)
                    ELSE 3000 * (quantity / 10) * (last_day - first_day + 1) / 31 END) AS amount,
           (array_agg(quantity ORDER BY first_day DESC))[1] AS quantity
    FROM periods WHERE last_day >= first_day GROUP BY option_contract_id
)
SELECT p.option_contract_id, s.code, s.name, o.name, v.name, %(label)s, DATE '2026-03-01', p.quantity,
       p.quantity / 10, 3000 * (p.quantity / 10), p.days, 31, p.amount, r.title, f.article, ''
FROM per_contract p
JOIN contracts_optioncontract c ON c.id = p.option_contract_id
JOIN contracts_subscriber s ON s.id = c.subscriber_id
JOIN options_feeitem f ON f.id = %(fee)s
JOIN options_tariffrevision r ON r.id = f.revision_id
JOIN options_option o ON o.id = f.option_id
JOIN options_optionvariant v ON v.id = f.variant_id
ORDER BY s.code COLLATE "C", p.option_contract_id
"""

CLOSED_SQL = """
SELECT e.option_contract_id, s.code, s.name, o.name, v.name, %(label)s, e.charge_month, e.quantity, e.blocks,
       e.unit_amount_yen, e.days_billed, e.days_in_month, e.amount_yen, r.title, e.article, e.reason
FROM contracts_ledgerentry e
JOIN contracts_optioncontract c ON c.id = e.option_contract_id
JOIN contracts_subscriber s ON s.id = c.subscriber_id
JOIN options_feeitem f ON f.id = e.fee_item_id
JOIN options_tariffrevision r ON r.id = e.revision_id
JOIN options_option o ON o.id = f.option_id
JOIN options_optionvariant v ON v.id = f.variant_id
WHERE e.booked_month = DATE '2026-03-01' AND e.kind IN ('monthly_charge', 'adjustment')
ORDER BY s.code COLLATE "C", e.option_contract_id, e.charge_month, e.kind, r.effective_on, e.fee_item_id, e.id
"""


def _sql(sql: str) -> tuple[int, int]:
    from django.db import connection, transaction

    from contracts.choices import LedgerKind
    from options.models import FeeItem

    fee = FeeItem.objects.get(variant__option__code="swp-accounts", variant__code="additional-accounts", kind="monthly")
    rows = total = 0
    with transaction.atomic():
        connection.ensure_connection()
        with connection.connection.cursor(name="baseline") as cursor:  # server-side, as the app reads
            cursor.itersize = 2000
            cursor.execute(sql, {"label": LedgerKind.MONTHLY_CHARGE.label, "fee": fee.pk})
            while batch := cursor.fetchmany(2000):
                rows += len(batch)
                total += sum(row[12] for row in batch)
    return rows, total


def _measure(path: str) -> dict:
    harness.django_setup()
    import datetime as dt

    from django.conf import settings
    from django.db import connection

    settings.DEBUG = False  # as in production: with DEBUG, Django keeps every statement's SQL in memory
    connection.ensure_connection()
    month = dt.date.fromisoformat(MONTH)
    baseline = harness.rss_mb("VmRSS")
    harness.peak_reset()
    started = time.perf_counter()
    rows = total = size = 0
    if path.startswith("sql"):
        rows, total = _sql(CLOSED_SQL if path == "sql-closed" else OPEN_SQL)
    elif path.startswith("rows"):
        from contracts.reports import monthly_report
        from contracts.reports.exports import report_snapshot

        with report_snapshot():
            for row in monthly_report(month=month).charge_rows:
                rows += 1
                total += row.amount_yen
    elif path.startswith("job"):
        from core.history_write import system_user
        from exports.models import ExportJob
        from exports.services import export_job_request, export_job_run

        job = export_job_request(kind="report", data={"month": MONTH[:7], "fmt": "xlsx"}, actor=system_user())
        export_job_run(job_id=job.pk)
        job = ExportJob.objects.get(pk=job.pk)
        if job.status != "done":
            raise SystemExit(f"job {job.pk}: {job.status} {job.message}")
        rows, size = job.row_count, job.size
    elif path.startswith("xlsx"):
        from contracts.reports import export_response_chunks

        _name, _type, chunks = export_response_chunks(month=month, fmt="xlsx")
        for chunk in chunks:
            size += len(chunk)
    else:
        from contracts.reports import export_response_chunks

        _name, _type, chunks = export_response_chunks(month=month, fmt="csv", part="charges")
        for chunk in chunks:
            size += len(chunk)
            rows += chunk.count(b"\n")
        rows -= 1  # the header
    seconds = time.perf_counter() - started
    peak = harness.rss_mb("VmHWM")
    return {
        "path": path,
        "seconds": seconds,
        "peak_mb": peak,
        "growth_mb": peak - baseline,
        "rows": rows,
        "total": int(total),
        "mb": size / 1e6,
    }


def _print(n: int, label: str, r: dict, base: dict) -> None:
    total = f"{r['total']:,}" if r["total"] else ""
    print(
        f"{n:>10,} {label:<15} {r['seconds']:>8.2f} {r['seconds'] / base['seconds']:>6.2f} {r['peak_mb']:>8.0f} "
        f"{r['growth_mb']:>10.1f} {r['rows']:>9,} {total:>14} {r['mb']:>8.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", default="10000,100000", help="comma-separated book sizes")
    parser.add_argument("--before", help="a checkout of the old code to measure beside this one")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    harness.environment(url)
    if args.measure:
        print(json.dumps(_measure(args.measure)))
        return
    harness.database_ensure(url, fresh=True)
    harness.django_setup()
    print(harness.machine())
    print(
        f"{'contracts':>10} {'path':<15} {'seconds':>8} {'× sql':>6} {'peak MB':>8} {'growth MB':>10} {'rows':>9}"
        f" {'total yen':>14} {'file MB':>8}"
    )
    from django.db import connections

    for n in [int(x) for x in args.contracts.split(",")]:
        connections.close_all()
        harness.database_ensure(url, fresh=True)
        fill = close_bench._fill(n)
        connections.close_all()
        totals = {}
        for paths in (OPEN_PATHS, CLOSED_PATHS):
            if paths is CLOSED_PATHS:
                close = harness.close_month_timed(MONTH)
                connections.close_all()
            base = None
            for path in paths:
                runs = [(path, None)] + ([(f"old {path}", args.before)] if args.before and path in APP_PATHS else [])
                for label, code in runs:
                    r = harness.run_child(__file__, path, code=code)
                    base = base or r
                    _print(n, label, r, base)
                    if not path.startswith(("xlsx", "job")):  # a workbook's rows are its three sheets'
                        totals[label] = (r["rows"], None if "csv" in path else r["total"])
        yen = {t for _, t in totals.values() if t is not None}
        if len({rows for rows, _ in totals.values()}) != 1 or len(yen) != 1:
            raise SystemExit(f"rows or totals differ: {totals}")
        print(f"{'':>10} (fill {fill:.1f} s, close {close:.1f} s; every path's rows and yen equal the SQL's)")


if __name__ == "__main__":
    main()
