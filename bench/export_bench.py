"""Export benchmark for the monthly report: the app's CSV and XLSX paths against COPY, on PostgreSQL.

    make bench                                  # 100,000 ledger rows
    make bench BENCH_ARGS="--rows 1000000"
    .venv/bin/python bench/export_bench.py --rows 100000,1000000 --repeat 3

Fills one month (2026-03) with N ledger rows in one INSERT … SELECT generate_series (the append-only trigger
allows inserts), then runs each path in a subprocess of its own (so that each has its own peak RSS) and prints
seconds, the ratio to `COPY (the same SELECT) TO STDOUT CSV`, time to first byte, peak RSS growth and output
size. The paths consume exactly the iterator the download view streams (`export_response_chunks`).
Runs against DATABASE_URL (default postgres://postgres@127.0.0.1:5432/backoffice_bench) with
config.settings.local; creates, migrates and loads that database when needed. Record results in BENCHMARKS.md.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/backoffice_bench"
MONTH = "2026-03-01"
BILLING_CONTRACTS = 5000  # contracts in billing in the month: the 月額 sheet, the same for every N
PATHS = ("copy", "csv", "csv-cp932", "csv-python", "xlsx")
_WIDTHS = ("<12", ">9", ">8", ">12", ">12", ">13", ">7", ">11")


def _prepare() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)
    call_command("load_regulation", stdout=open(os.devnull, "w"))


def _bench_catalogue():
    """The bench user and the fee items its rows cite (an initial and a one-time fee beside the seed's monthly)."""
    import datetime as dt

    from django.contrib.auth import get_user_model

    from options.choices import ChargeBasis, FeeKind, Pricing
    from options.models import FeeItem, OptionVariant, TariffRevision

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"last_name": "ベンチ"})
    variant = OptionVariant.objects.select_related("option").get(code="additional-accounts")
    revision = TariffRevision.objects.get(effective_on=dt.date(2026, 2, 1))
    items = {}
    for kind, amount, name in ((FeeKind.INITIAL, 5000, "追加アカウント初期費用"), (FeeKind.ONE_TIME, 2000, "作業費")):
        items[kind], _ = FeeItem.objects.get_or_create(
            revision=revision,
            variant=variant,
            kind=kind,
            defaults=dict(
                option=variant.option,
                name=name,
                pricing=Pricing.FIXED,
                amount_yen=amount,
                charge_basis=ChargeBasis.PER_CONTRACT,
                article=variant.option.fee_article,
            ),
        )
    return user, variant, revision, items


def _fill(rows: int, *, closed: bool) -> float:
    """Replace the bench data with `rows` ledger rows booked in MONTH; return the seconds it took.

    The data of an earlier run is reused when it has as many rows, and is not closed when an open month is
    wanted (a close cannot be undone).
    """
    from django.db import DatabaseError, connection, transaction

    user, variant, revision, items = _bench_catalogue()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM contracts_ledgerentry WHERE booked_month = %s AND kind IN ('initial', 'one_time')",
            [MONTH],
        )
        same_rows = cursor.fetchone()[0] == rows
        cursor.execute("SELECT count(*) FROM contracts_monthclose")
        if same_rows and (closed or not cursor.fetchone()[0]):
            return 0.0
    started = time.perf_counter()
    subscribers = max(BILLING_CONTRACTS, rows // 10)
    reversals = rows // 100
    with transaction.atomic(), connection.cursor() as cursor:
        # The ledger refuses TRUNCATE from the application; a benchmark database is maintained, not used.
        cursor.execute("SET LOCAL backoffice.ledger_maintenance = 'on'")
        # The rows below are consistent by construction: skip the per-row foreign-key triggers (half the fill
        # time) when the bench runs as a superuser; otherwise PostgreSQL checks them at commit as usual.
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            pass
        cursor.execute(
            "TRUNCATE contracts_ledgerentry, contracts_historicalledgerentry, contracts_monthclose, "
            "contracts_historicalmonthclose, contracts_optioncontract, contracts_historicaloptioncontract, "
            "contracts_subscriber, contracts_historicalsubscriber CASCADE"
        )
        cursor.execute(
            """
            INSERT INTO contracts_subscriber
                (code, name, kana, kind, email, phone, address, note, is_active, created_at)
            SELECT 'B' || lpad(i::text, 7, '0'),
                   CASE WHEN i %% 97 = 0 THEN '=ベンチ' ELSE '株式会社ベンチ' END || i || '商事（髙﨑支店）',
                   'ベンチ', 'corporate', '', '', '', '', true, now()
            FROM generate_series(1, %(subscribers)s) AS i
            """,
            {"subscribers": subscribers},
        )
        cursor.execute(
            """
            INSERT INTO contracts_optioncontract (subscriber_id, option_id, variant_id, quantity, status,
                contracted_on, approved_at, approved_by_id, billing_start_date, migrated, created_at)
            SELECT s.id, %(option)s, %(variant)s, 10 * (1 + s.id %% 5),
                   CASE WHEN s.id <= min_id + %(billing)s THEN 'billing' ELSE 'approved' END,
                   DATE '2026-02-20', TIMESTAMPTZ '2026-02-20 10:00+09', %(user)s,
                   CASE WHEN s.id <= min_id + %(billing)s THEN DATE '2026-03-01' + (s.id %% 28)::int END,
                   false, now()
            FROM contracts_subscriber AS s, (SELECT min(id) - 1 AS min_id FROM contracts_subscriber) AS m
            ORDER BY s.id
            """,
            {"option": variant.option_id, "variant": variant.pk, "user": user.pk, "billing": BILLING_CONTRACTS},
        )
        cursor.execute(
            """
            INSERT INTO contracts_ledgerentry (kind, option_contract_id, fee_item_id, revision_id, article, quantity,
                unit_amount_yen, amount_yen, arisen_at, booked_month, reason, created_by_id, created_at)
            SELECT CASE WHEN g %% 3 = 0 THEN 'one_time' ELSE 'initial' END,
                   c.min_id + (g %% c.n),
                   CASE WHEN g %% 3 = 0 THEN %(one_time)s ELSE %(initial)s END,
                   %(revision)s, %(article)s, 10,
                   CASE WHEN g %% 3 = 0 THEN 2000 ELSE 5000 END,
                   CASE WHEN g %% 3 = 0 THEN 2000 ELSE 5000 END,
                   TIMESTAMPTZ '2026-03-01 00:00+09' + g * (INTERVAL '2678399 seconds' / %(rows)s),
                   DATE %(month)s, '', %(user)s, now()
            FROM generate_series(1, %(rows)s) AS g,
                 (SELECT min(id) AS min_id, count(*) AS n FROM contracts_optioncontract) AS c
            ORDER BY g
            """,
            {
                "one_time": items["one_time"].pk,
                "initial": items["initial"].pk,
                "revision": revision.pk,
                "article": variant.option.fee_article,
                "rows": rows - reversals,
                "month": MONTH,
                "user": user.pk,
            },
        )
        cursor.execute(
            """
            INSERT INTO contracts_ledgerentry (kind, option_contract_id, fee_item_id, revision_id, article, quantity,
                unit_amount_yen, amount_yen, arisen_at, booked_month, reverses_id, reason, created_by_id, created_at)
            SELECT kind, option_contract_id, fee_item_id, revision_id, article, quantity, unit_amount_yen,
                   -amount_yen, arisen_at + INTERVAL '1 hour', booked_month, id, '重複計上のため取消, 確認済み',
                   created_by_id, now()
            FROM contracts_ledgerentry WHERE booked_month = %(month)s ORDER BY id LIMIT %(reversals)s
            """,
            {"month": MONTH, "reversals": reversals},
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def _close() -> None:
    """Close MONTH (and nothing else): the first close may be any month that has ended."""
    import datetime as dt

    from contracts.services.month_close import month_close
    from core.history_write import system_user

    month_close(month=dt.date.fromisoformat(MONTH), actor=system_user())


def _produce(path: str):
    """Return the bytes iterator of one path, as the download view would get it."""
    import datetime as dt

    from django.db import connection, transaction

    from contracts.reports import export_response_chunks, exports

    month = dt.date.fromisoformat(MONTH)
    if path in ("csv", "csv-cp932", "xlsx"):
        return export_response_chunks(month=month, fmt=path)[2]
    if path == "csv-python":
        return exports._csv(month, "detail", exports._encoder("csv", None), bom=True, by_copy=False)

    def copy():
        # The baseline: the same SELECT as 明細 (joins, filter, order), unformatted, written by COPY.
        from contracts.reports.layout import DETAIL_ORDER
        from contracts.reports.selectors import monthly_report

        inner, params = monthly_report(month=month).detail_rows.order_by(*DETAIL_ORDER).query.sql_with_params()
        with transaction.atomic():
            connection.ensure_connection()
            with (
                connection.connection.cursor() as cursor,
                cursor.copy(f"COPY ({inner}) TO STDOUT WITH (FORMAT csv)", params) as stream,
            ):
                yield from stream

    return copy()


def _measure(path: str) -> dict:
    """Run one path to the end in this process; report its time, first byte, bytes and peak RSS."""
    harness.django_setup()
    from django.db import connection

    import contracts.reports.exports  # noqa: F401 - imported before the baseline, as a server has it
    import contracts.reports.xlsx  # noqa: F401

    connection.ensure_connection()
    baseline = harness.rss_mb("VmRSS")
    harness.peak_reset()
    started = time.perf_counter()
    first = first_64k = None
    size = 0
    for chunk in _produce(path):
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
        if first_64k is None and size >= 65536:
            # A CSV's first bytes are its BOM and header; this is when rows are flowing.
            first_64k = time.perf_counter() - started
    seconds = time.perf_counter() - started
    peak = harness.rss_mb("VmHWM")
    return {
        "path": path,
        "seconds": seconds,
        "first_byte": first,
        "first_64k": first_64k if first_64k is not None else seconds,
        "bytes": size,
        "peak_mb": peak,
        "growth_mb": peak - baseline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="100000", help="ledger rows in the month; a comma list runs each size")
    parser.add_argument("--repeat", type=int, default=1, help="runs per path; the median is shown")
    parser.add_argument("--paths", default=",".join(PATHS), help=f"which paths (of {', '.join(PATHS)})")
    parser.add_argument(
        "--closed", action="store_true", help="close the month first: measure the frozen (closed) report instead"
    )
    parser.add_argument("--force", action="store_true", help="fill a database whose name does not say bench")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    harness.environment(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    if args.measure:
        print(json.dumps(_measure(args.measure)))
        return

    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    if "bench" not in database and not args.force:
        # The fill empties the subscriber, contract and ledger tables of the database it is given.
        sys.exit(
            f"{database}: the benchmark empties the ledger of the database it fills; use a *bench* database "
            "or pass --force."
        )
    harness.database_ensure(os.environ["DATABASE_URL"], fresh=False)
    harness.django_setup()
    _prepare()
    print(harness.machine())
    paths = [p for p in args.paths.split(",") if p]
    for rows in (int(r) for r in args.rows.split(",")):
        filled = _fill(rows, closed=args.closed)
        if args.closed:
            _close()
        how = f"filled in {filled:.1f} s" if filled else "reused"
        state = "closed" if args.closed else "open (速報)"
        print(f"\n{rows:,} ledger rows in {MONTH[:7]}, {state} ({how})")
        runs = {path: [] for path in paths}
        for _ in range(args.repeat):  # interleaved, so that a busy moment of a shared machine hits every path
            for path in paths:
                runs[path].append(harness.run_child(__file__, path))
        results = {
            path: {k: statistics.median(r[k] for r in path_runs) for k in path_runs[0] if k != "path"}
            for path, path_runs in runs.items()
        }
        base = results.get("copy", {}).get("seconds")
        heading = ("path", "seconds", "× COPY", "1st byte s", "1st 64KB s", "peak RSS MB", "+MB", "output MB")
        print("".join(f"{h:{w}}" for h, w in zip(heading, _WIDTHS, strict=True)))
        for path, r in results.items():
            ratio = f"{r['seconds'] / base:.2f}" if base else "-"
            cells = (
                path,
                f"{r['seconds']:.2f}",
                ratio,
                f"{r['first_byte']:.3f}",
                f"{r['first_64k']:.3f}",
                f"{r['peak_mb']:.0f}",
                f"{r['growth_mb']:.0f}",
                f"{r['bytes'] / 1e6:.1f}",
            )
            print("".join(f"{c:{w}}" for c, w in zip(cells, _WIDTHS, strict=True)))


if __name__ == "__main__":
    main()
