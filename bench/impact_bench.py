"""Impact preview benchmark (issue 12): a draft revision touching every contract of the book, previewed by the app
beside one set-based SQL statement computing the same differences, on PostgreSQL.

    .venv/bin/python bench/impact_bench.py --contracts 10000,100000,1000000

For each N: fills the book of bench/close_bench.py (N subscribers, N SWP contracts in billing from days of 2026-03,
1 in 7 with a second terms period from 2026-03-20), adds a draft revision effective 2026-04-15 that raises
追加アカウント使用料 from 3,000円 to 3,300円 per 10 accounts (so every contract is touched: April prorated by day on
both fees, May wholly on the new one), then, each in a child process of its own (its own peak RSS):
- sql      — the baseline: one SELECT computing, per contract, April's and May's charges without and with the
             draft (each period × fee version prorated on its own, as the close does) and keeping the contracts
             whose charges differ, read through a server-side cursor, nothing kept;
- preview  — `revision_impact(...).contracts()` read to the end (what the screen and the command do: every
             contract's before/after and the totals per option, kind and tax rate);
- csv      — the preview's 契約別 CSV download (`impact_export_chunks(part="contracts")`) consumed.
Prints seconds, the ratio to the SQL, peak RSS and its growth, contracts touched and the two months' differences in
yen (checked equal to the SQL's). Runs against DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/backoffice_impact_bench).
"""

import argparse
import json
import os
import time

import close_bench
import harness

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/backoffice_impact_bench"
PATHS = ("sql", "preview", "csv")
EFFECTIVE_ON = "2026-04-15"
NEW_AMOUNT = 3300

# Per contract and month of the window, its charges under the fee versions of each scenario ("before": the
# published revisions; "after": the same with the draft), each (terms period × fee version) overlap prorated on its
# own (monthly × days ÷ days in month, rounded down) and summed, as the close prorates. Only the contracts whose
# charges differ in a month are kept, as the preview keeps them.
BASELINE_SQL = """
WITH months (month, first_day, last_day, dim) AS (
    VALUES (DATE '2026-04-01', DATE '2026-04-01', DATE '2026-04-30', 30),
           (DATE '2026-05-01', DATE '2026-05-01', DATE '2026-05-31', 31)
), versions AS (
    SELECT s.scenario, f.variant_id, f.amount_yen, f.block_size, f.discontinued, r.effective_on AS valid_from,
           lead(r.effective_on) OVER (PARTITION BY s.scenario, f.variant_id
                                      ORDER BY r.effective_on, r.amended_on, f.id) - 1 AS valid_until
    FROM options_feeitem f
    JOIN options_tariffrevision r ON r.id = f.revision_id
    CROSS JOIN (VALUES ('before'), ('after')) AS s (scenario)
    WHERE f.kind = 'monthly'
      AND ((r.status = 'published' AND r.id <> %(revision)s) OR (s.scenario = 'after' AND r.id = %(revision)s))
), touched AS (
    SELECT variant_id FROM options_feeitem WHERE revision_id = %(revision)s AND kind = 'monthly'
), segments AS (
    SELECT t.option_contract_id, v.scenario, m.month, m.dim, v.amount_yen * (t.quantity / v.block_size) AS monthly,
           least(coalesce(t.valid_until, m.last_day), coalesce(c.end_date, m.last_day),
                 coalesce(v.valid_until, m.last_day), m.last_day)
           - greatest(t.valid_from, c.billing_start_date, v.valid_from, m.first_day) + 1 AS days
    FROM contracts_contractterms t
    JOIN contracts_optioncontract c ON c.id = t.option_contract_id
    JOIN months m ON t.valid_from <= m.last_day AND (t.valid_until IS NULL OR t.valid_until >= m.first_day)
    JOIN versions v ON v.variant_id = t.variant_id AND NOT v.discontinued AND v.valid_from <= m.last_day
                   AND (v.valid_until IS NULL OR v.valid_until >= m.first_day)
    WHERE t.superseded_at IS NULL AND t.variant_id IN (SELECT variant_id FROM touched)
      AND c.billing_start_date <= DATE '2026-05-31' AND (c.end_date IS NULL OR c.end_date >= DATE '2026-04-01')
)
SELECT * FROM (
    SELECT option_contract_id,
           sum(CASE WHEN month = DATE '2026-04-01' THEN sign * amount ELSE 0 END) AS april,
           sum(CASE WHEN month = DATE '2026-05-01' THEN sign * amount ELSE 0 END) AS may
    FROM (SELECT option_contract_id, month, CASE scenario WHEN 'after' THEN 1 ELSE -1 END AS sign,
                 monthly * days / dim AS amount
          FROM segments WHERE days > 0) p
    GROUP BY option_contract_id
) d
WHERE april <> 0 OR may <> 0
ORDER BY option_contract_id
"""


def _draft() -> None:
    """The draft revision of the benchmark: 追加アカウント使用料 at 3,300円 from 2026-04-15."""
    import datetime as dt

    from options.choices import RevisionStatus
    from options.models import FeeItem, TariffRevision

    fee = FeeItem.objects.get(variant__option__code="swp-accounts", variant__code="additional-accounts", kind="monthly")
    revision = TariffRevision.objects.create(
        title="令和8年4月15日変更（ベンチ）",
        amended_on=dt.date(2026, 4, 1),
        effective_on=dt.date.fromisoformat(EFFECTIVE_ON),
        provisions="この改正規定は、令和8年4月15日から実施します。",
        status=RevisionStatus.DRAFT,
    )
    fee.pk = None
    fee.revision = revision
    fee.amount_yen = NEW_AMOUNT
    fee.save()


def _revision():
    from options.choices import RevisionStatus
    from options.models import TariffRevision

    return TariffRevision.objects.get(status=RevisionStatus.DRAFT)


def _measure(path: str) -> dict:
    harness.django_setup()
    import datetime as dt

    from django.conf import settings
    from django.db import connection, transaction

    settings.DEBUG = False  # as in production: with DEBUG, Django keeps every statement's SQL in memory
    connection.ensure_connection()
    revision = _revision()
    april, may = dt.date(2026, 4, 1), dt.date(2026, 5, 1)
    baseline = harness.rss_mb("VmRSS")
    harness.peak_reset()
    started = time.perf_counter()
    rows = size = 0
    differences = [0, 0]
    if path == "sql":
        with transaction.atomic():
            with connection.connection.cursor(name="baseline") as cursor:  # server-side, as the app reads
                cursor.itersize = 2000
                cursor.execute(BASELINE_SQL, {"revision": revision.pk})
                while batch := cursor.fetchmany(2000):
                    rows += len(batch)
                    differences[0] += sum(row[1] for row in batch)
                    differences[1] += sum(row[2] for row in batch)
    elif path == "preview":
        from contracts.reports.impact import revision_impact

        impact = revision_impact(revision=revision)
        with transaction.atomic():
            for _ in impact.contracts():
                rows += 1
        differences = [impact.totals.difference_yen(april), impact.totals.difference_yen(may)]
    else:
        from contracts.reports.impact import impact_export_chunks, revision_impact

        impact = revision_impact(revision=revision)
        _name, _type, chunks = impact_export_chunks(impact=impact, fmt="csv", part="contracts")
        for chunk in chunks:
            size += len(chunk)
            rows += chunk.count(b"\n")
        rows -= 1  # the header
        differences = [impact.totals.difference_yen(april), impact.totals.difference_yen(may)]
    seconds = time.perf_counter() - started
    peak = harness.rss_mb("VmHWM")
    return {
        "path": path,
        "seconds": seconds,
        "peak_mb": peak,
        "growth_mb": peak - baseline,
        "rows": rows,
        "april": int(differences[0]),
        "may": int(differences[1]),
        "mb": size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", default="10000,100000", help="comma-separated book sizes")
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated paths to measure")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    harness.environment(url)
    if args.measure:
        print(json.dumps(_measure(args.measure)))
        return
    harness.database_ensure(url, fresh=True)
    harness.django_setup()
    from django.db import connections

    print(harness.machine())
    print(
        f"{'contracts':>10} {'path':<8} {'seconds':>8} {'× sql':>6} {'peak MB':>8} {'growth MB':>10} {'touched':>9}"
        f" {'April diff yen':>15} {'May diff yen':>15}"
    )
    paths = args.paths.split(",")
    for n in [int(x) for x in args.contracts.split(",")]:
        connections.close_all()
        harness.database_ensure(url, fresh=True)
        fill = close_bench._fill(n)
        _draft()
        connections.close_all()
        results = {path: harness.run_child(__file__, path) for path in paths}
        base = results.get("sql") or next(iter(results.values()))
        for path in paths:
            r = results[path]
            print(
                f"{n:>10,} {path:<8} {r['seconds']:>8.2f} {r['seconds'] / base['seconds']:>6.2f} {r['peak_mb']:>8.0f} "
                f"{r['growth_mb']:>10.1f} {r['rows']:>9,} {r['april']:>15,} {r['may']:>15,}",
                flush=True,
            )
        if len({(r["rows"], r["april"], r["may"]) for r in results.values()}) != 1:
            raise SystemExit(f"contracts or differences differ: {results}")
        print(f"{'':>10} (fill {fill:.1f} s; every path's contracts and yen equal the SQL's)", flush=True)


if __name__ == "__main__":
    main()
