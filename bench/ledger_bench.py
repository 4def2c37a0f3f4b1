"""The ledger's hot queries at 5M and 20M rows, with the existing indexes: the figures behind the partitioning
decision (issue 14; BENCHMARKS.md "The ledger at 5M and 20M rows").

    .venv/bin/python bench/ledger_bench.py --rows 5000000,20000000

Fills DATABASE_URL (default postgres://postgres@127.0.0.1:5432/backoffice_ledger_bench, dropped and created) as the
office would have written it, set-based: 750,000 subscribers with an option contract each, then months of 750,000
ledger rows each in id order (the issue's full-scale month: 98% 月額料金, 1% 初期費用, 1% 調整 of the month
before), each month closed (a MonthClose with its watermark). At each size it measures, median of REPEAT warm runs,
through the app's own querysets (the ledger list's filterset, the close's reads, the seal):

- month: the ledger list filtered by 計上月 (the last closed month), first page; and its capped count and total;
- subscriber: the list filtered by 取引先 (one subscriber code), first page;
- amount: 取引金額 range alone (a narrow and a wide one), first page;
- date: 取引年月日 range (3 days), first page; combined: 3 months × amount range × subscriber;
- close-adjustments: the close's read of 1,000 changed contracts' frozen charges over every closed month;
- close-watermark: the close's Max(id);
- report-summary: the closed month's rows (ledger_scope) summed by kind;
- seal-sql: the seal's read alone (the month's rows in id order through a server-side cursor, no hashing);
- seal: `month_seal_compute` of the last closed month (seconds and peak RSS growth).
"""

import argparse
import os
import statistics
import time

import harness

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/backoffice_ledger_bench"
PER_MONTH = 750_000
FIRST_MONTH = "2020-01-01"
REPEAT = 5


def _prepare() -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, skip_checks=True)
    call_command("load_regulation", stdout=open(os.devnull, "w"))
    from core.history_write import system_user
    from options.models import OptionVariant

    user = system_user()
    variant = OptionVariant.objects.get(option__code="swp-accounts", code="additional-accounts")
    with connection.cursor() as cursor:
        params = {"s": PER_MONTH, "c": PER_MONTH, "option": variant.option_id, "variant": variant.pk, "user": user.pk}
        cursor.execute(
            """
            INSERT INTO contracts_subscriber (code, name, kana, kind, email, phone, address, note, is_active,
                created_at, search_key)
            SELECT 'B' || lpad(i::text, 8, '0'), '株式会社ベンチ' || i, 'ベンチ', 'corporate', '', '', '', '',
                   true, now(), 'b' || lpad(i::text, 8, '0')
            FROM generate_series(1, %(s)s) AS i
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO contracts_optioncontract (subscriber_id, option_id, variant_id, quantity, status,
                contracted_on, approved_at, approved_by_id, billing_start_date, migrated, created_at)
            SELECT 1 + (i %% %(s)s), %(option)s, %(variant)s, 10, 'billing', DATE '2019-12-01',
                   TIMESTAMPTZ '2019-12-01 10:00+09', %(user)s, DATE '2019-12-01', false, now()
            FROM generate_series(1, %(c)s) AS i
            """,
            params,
        )


def _fill_to(rows: int) -> float:
    """Append whole months of PER_MONTH rows until the ledger holds `rows`, each month closed; return seconds."""
    from django.db import connection

    from core.history_write import system_user
    from options.models import FeeItem

    user = system_user()
    item = FeeItem.objects.get(variant__code="additional-accounts", kind="monthly")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(id) FROM contracts_optioncontract")
        _, first_contract = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM contracts_ledgerentry")
        have = cursor.fetchone()[0]
        while have < rows:
            month = have // PER_MONTH
            params = {
                "n": PER_MONTH,
                "m": month,
                "first": FIRST_MONTH,
                "c0": first_contract,
                "item": item.pk,
                "revision": item.revision_id,
                "article": item.article,
                "user": user.pk,
            }
            cursor.execute(
                """
                INSERT INTO contracts_ledgerentry (kind, option_contract_id, application_id, fee_item_id,
                    revision_id, article, quantity, blocks, unit_amount_yen, amount_yen, arisen_at, booked_month,
                    effective_from, charge_month, days_billed, days_in_month, reverses_id, reason, created_by_id,
                    created_at)
                SELECT k.kind, %(c0)s + j, NULL, %(item)s, %(revision)s, %(article)s, 10, 1, 3000,
                       CASE k.kind WHEN 'initial' THEN 5000 WHEN 'adjustment' THEN -(j %% 3000)
                            ELSE 100 * (j %% 300) END,
                       CASE k.kind WHEN 'initial' THEN (b.month + (j %% 28) * INTERVAL '1 day' + INTERVAL '10 hours')
                            ELSE b.month END AT TIME ZONE 'Asia/Tokyo',
                       b.month, NULL,
                       CASE k.kind WHEN 'initial' THEN NULL WHEN 'adjustment' THEN b.month - INTERVAL '1 month'
                            ELSE b.month END,
                       CASE WHEN k.kind = 'initial' THEN NULL ELSE 28 END,
                       CASE WHEN k.kind = 'initial' THEN NULL ELSE 28 END,
                       NULL, CASE WHEN k.kind = 'adjustment' THEN '訂正による調整' ELSE '' END, %(user)s,
                       (b.month + INTERVAL '1 month 1 day') AT TIME ZONE 'Asia/Tokyo'
                FROM (SELECT (DATE %(first)s + %(m)s * INTERVAL '1 month')::date AS month) AS b,
                     generate_series(0, %(n)s - 1) AS j,
                     LATERAL (SELECT CASE j %% 100 WHEN 0 THEN 'initial' WHEN 1 THEN 'adjustment'
                                     ELSE 'monthly_charge' END AS kind) AS k
                ORDER BY j
                """,
                params,
            )
            cursor.execute(
                """
                INSERT INTO contracts_monthclose (month, closed_at, closed_by_id, charge_rows, adjustment_rows,
                    ledger_watermark, ledger_seen_watermark, contract_history_watermark,
                    subscriber_history_watermark, terms_history_watermark, fingerprint)
                SELECT (DATE %(first)s + %(m)s * INTERVAL '1 month')::date, now(), %(user)s, 0, 0,
                       (SELECT max(id) FROM contracts_ledgerentry), NULL, 0, 0, 0, ''
                """,
                params,
            )
            have += PER_MONTH
            print(f"  … {have:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
        cursor.execute("VACUUM ANALYZE contracts_ledgerentry")
    return time.perf_counter() - started


def _median_ms(run) -> float:
    run()  # warm
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _plan(queryset) -> str:
    """The plan's access paths (index names, scans), in one short line."""
    text = queryset.explain()
    found = []
    for line in text.splitlines():
        line = line.strip().lstrip("-> ").strip()
        for marker in ("Index Only Scan", "Index Scan", "Bitmap Index Scan", "Seq Scan", "Sort"):
            if line.startswith(marker) or line.startswith(f"Parallel {marker}"):
                words = line.split(" using ")
                name = words[1].split(" ")[0] if len(words) > 1 else ""
                found.append(f"{marker}{' ' + name if name else ''}")
                break
    return ", ".join(dict.fromkeys(found))


def _measure(rows: int) -> list[tuple[str, float, str]]:
    import datetime as dt

    from django.db import connection
    from django.db.models import Count, Max, Sum

    from contracts.billing.closed_scope import closes_for, ledger_scope, ledger_scope_parts
    from contracts.billing.seal import month_rows, month_seal_compute
    from contracts.choices import LedgerKind
    from contracts.filters import LedgerFilter
    from contracts.models import LedgerEntry, MonthClose, OptionContract
    from contracts.views.ledger import LedgerListView

    last = MonthClose.objects.order_by("-month").first()
    month = last.month
    base = LedgerListView.queryset

    def page(data):
        qs = LedgerFilter(data=data, queryset=base).qs
        return qs, lambda: list(qs[:51])

    m = f"{month:%Y-%m}"
    day = month + dt.timedelta(days=10)
    three_months_ago = (month - dt.timedelta(days=62)).replace(day=1)
    cases = {
        "month page": page({"month": m}),
        "subscriber page": page({"subscriber": "B00012345"}),
        "amount page (= 5,000円)": page({"amount_min": "5000", "amount_max": "5000"}),
        "amount page (1〜100円)": page({"amount_min": "1", "amount_max": "100"}),
        "date page (3 days)": page({"date_from": f"{day}", "date_to": f"{day + dt.timedelta(days=2)}"}),
        "combined page (3 months × amount × subscriber)": page(
            {
                "date_from": f"{three_months_ago}",
                "date_to": f"{month + dt.timedelta(days=27)}",
                "amount_min": "100",
                "amount_max": "20000",
                "subscriber": "B00012345",
            }
        ),
    }
    results = []
    for name, (qs, run) in cases.items():
        results.append((name, _median_ms(run), _plan(qs[:51])))

    month_list = LedgerFilter(data={"month": m}, queryset=base).qs.select_related(None).order_by()[:10001]
    results.append(
        (
            "month count + total (capped 10,000)",
            _median_ms(lambda: month_list.aggregate(n=Count("*"), total=Sum("amount_yen"))),
            _plan(month_list),
        )
    )
    first_contract = OptionContract.objects.order_by("pk").values_list("pk", flat=True).first()
    changed = OptionContract.objects.filter(pk__gte=first_contract + 5000, pk__lt=first_contract + 5000 + 1000 * 7)
    changed = changed.filter(pk__in=[first_contract + 5000 + 7 * i for i in range(1000)])
    first = MonthClose.objects.order_by("month").values_list("month", flat=True).first()
    frozen = (
        LedgerEntry.objects.filter(
            kind__in=[LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT],
            charge_month__gte=first,
            charge_month__lte=month,
            option_contract__in=changed.values("pk"),
        )
        .values("option_contract_id", "fee_item_id", "charge_month")
        .annotate(held=Sum("amount_yen"))
        .order_by()
    )
    frozen_ms = _median_ms(lambda: list(frozen.all()))
    results.append(("close: 1,000 changed contracts' frozen charges", frozen_ms, _plan(frozen)))
    results.append(
        ("close: ledger watermark Max(id)", _median_ms(lambda: LedgerEntry.objects.aggregate(m=Max("pk"))), "")
    )
    closes = closes_for(month)
    summary = (
        LedgerEntry.objects.filter(ledger_scope(closes)).values("kind").annotate(n=Count("*"), t=Sum("amount_yen"))
    )
    results.append(
        ("report: closed month's rows by kind", _median_ms(lambda: list(summary.order_by())), _plan(summary))
    )

    def seal_sql():
        return sum(1 for _ in month_rows(closes))

    started = time.perf_counter()
    read = seal_sql()
    parts = [LedgerEntry.objects.filter(p).order_by("pk") for p in ledger_scope_parts(closes) if p is not None]
    read_ms = (time.perf_counter() - started) * 1000
    plans = " + ".join(_plan(part) for part in parts)
    results.append((f"seal: the month's {read:,} rows in id order (read, no hashing)", read_ms, plans))
    before = harness.rss_mb("VmRSS")
    harness.peak_reset()
    started = time.perf_counter()
    values = month_seal_compute(closes, previous_hash="")
    seconds = time.perf_counter() - started
    growth = harness.rss_mb("VmHWM") - before
    results.append((f"seal: month_seal_compute ({values.row_count:,} rows)", seconds * 1000, f"peak +{growth:.0f} MB"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size('contracts_ledgerentry'), pg_relation_size('contracts_ledgerentry')"
        )
        total, heap = cursor.fetchone()
    results.append((f"table size: heap {heap / 2**30:.1f} GiB, with indexes {total / 2**30:.1f} GiB", 0.0, ""))
    return results


def main() -> None:
    global PER_MONTH
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="5000000,20000000", help="comma-separated ledger sizes, ascending")
    parser.add_argument("--per-month", type=int, default=750_000, help="rows (and contracts) per month")
    parser.add_argument("--keep", action="store_true", help="keep the database filled by an earlier run")
    args = parser.parse_args()
    PER_MONTH = args.per_month
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    harness.environment(url)
    harness.database_ensure(url, fresh=not args.keep)
    harness.django_setup()
    from django.conf import settings

    settings.DEBUG = False
    if not args.keep:
        _prepare()
    print(harness.machine(), flush=True)
    for rows in [int(x) for x in args.rows.split(",")]:
        fill = _fill_to(rows)
        print(f"\n## {rows:,} ledger rows (filled in {fill:.0f} s)", flush=True)
        print("| query | ms (median of 5) | plan |\n|---|---|---|")
        for name, ms, plan in _measure(rows):
            print(f"| {name} | {ms:,.1f} | {plan} |", flush=True)


if __name__ == "__main__":
    main()
