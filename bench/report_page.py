"""The report page (月次レポート) benchmark: time to first byte of the page, open month (速報) and closed month, on
PostgreSQL, and the refresh task that computes the 速報's figures the page reads.

    .venv/bin/python bench/report_page.py --contracts 10000,100000
    .venv/bin/python bench/report_page.py --contracts 10000,100000 --before /work/main   # and the old code

For each N: fills the book of bench/close_bench.py (N subscribers, N SWP contracts billed from days of 2026-03), then,
each in a child process of its own (its own peak RSS), at 2026-03-25 (March open):
- refresh      — the 速報's refresh as the worker runs it (`report_figures_request` + `report_figures_run`): one
                 pass over the month's streamed 月額, its figures stored;
- page-open    — GET /reports/monthly/?month=2026-03 as 経理 (Django's test client: the whole request, middleware
                 and template), the median of --repeat requests after one warm-up: its time to first byte (the page
                 is not streamed: the first byte is sent when it is complete);
then closes 2026-03 at 2026-04-02 (`month_close`, which stores the month's 集計) and, at 2026-04-03:
- page-closed  — the same GET of the closed month.
With --before DIR, page-open and page-closed also run on the code checked out in DIR (marked "old "): the page that
priced the month on every visit. Prints seconds, queries, peak RSS and its growth, and the page's total yen (the
税込合計 shown, checked equal between paths).
Runs against DATABASE_URL (default postgres://postgres@127.0.0.1:5432/backoffice_report_page_bench).
"""

import argparse
import json
import os
import re
import statistics
import time

import close_bench
import harness

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/backoffice_report_page_bench"
MONTH = "2026-03"
OPEN_AT = "2026-03-25T10:00+09:00"
CLOSE_AT = "2026-04-02T09:00+09:00"
CLOSED_AT = "2026-04-03T10:00+09:00"
USERNAME = "bench-keiri"


def _accountant():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from contracts.roles import ACCOUNTING

    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.groups.add(Group.objects.get(name=ACCOUNTING))
    return user


def _total_incl(html: str) -> int:
    found = re.search(r"<td>税込合計</td><td class=\"num\" colspan=\"2\">([\d,]+)円</td>", html)
    return int(found.group(1).replace(",", "")) if found else 0


def _measure(path: str, repeat: int) -> dict:
    harness.django_setup()
    import datetime as dt

    import time_machine
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    connection.ensure_connection()
    at = CLOSED_AT if path == "page-closed" else OPEN_AT
    baseline = harness.rss_mb("VmRSS")
    harness.peak_reset()
    with time_machine.travel(dt.datetime.fromisoformat(at), tick=True):
        user = _accountant()
        if path == "refresh":
            from contracts.services.report_figures import report_figures_request, report_figures_run

            started = time.perf_counter()
            figures = report_figures_request(month=dt.date.fromisoformat(MONTH + "-01"), actor=user)
            report_figures_run(figures_id=figures.pk)
            figures.refresh_from_db()
            seconds = time.perf_counter() - started
            peak = harness.rss_mb("VmHWM")
            return {
                "path": path,
                "seconds": seconds,
                "queries": 0,
                "peak_mb": peak,
                "growth_mb": peak - baseline,
                "total": figures.total_incl_yen,
            }
        client = Client()
        client.force_login(user)
        url = f"/reports/monthly/?month={MONTH}"
        times, html = [], ""
        settings.DEBUG = True  # to count the queries of the measured requests (reset before each)
        for _ in range(repeat + 1):
            reset_queries()
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
            html = response.content.decode()
            queries = len(connection.queries)
        peak = harness.rss_mb("VmHWM")
    return {
        "path": path,
        "seconds": statistics.median(times[1:]),
        "queries": queries,
        "peak_mb": peak,
        "growth_mb": peak - baseline,
        "total": _total_incl(html),
    }


def _print(n: int, label: str, r: dict) -> None:
    print(
        f"{n:>10,} {label:<17} {r['seconds']:>9.3f} {r['queries']:>8} {r['peak_mb']:>8.0f} {r['growth_mb']:>10.1f}"
        f" {r['total']:>14,}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", default="10000,100000", help="comma-separated book sizes")
    parser.add_argument("--before", help="a checkout of the old code to measure beside this one")
    parser.add_argument("--repeat", type=int, default=3, help="requests measured per page (after one warm-up)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    harness.environment(url)
    if args.measure:
        print(json.dumps(_measure(args.measure, args.repeat)))
        return
    harness.database_ensure(url, fresh=True)
    harness.django_setup()
    print(harness.machine())
    print(
        f"{'contracts':>10} {'path':<17} {'seconds':>9} {'queries':>8} {'peak MB':>8} {'growth MB':>10}"
        f" {'税込合計 yen':>14}"
    )
    from django.db import connections

    for n in [int(x) for x in args.contracts.split(",")]:
        connections.close_all()
        harness.database_ensure(url, fresh=True)
        fill = close_bench._fill(n)
        connections.close_all()
        totals = {}
        plan = [("refresh", None), ("page-open", None)]
        plan += [("page-open", args.before)] if args.before else []
        for path, code in plan:
            r = harness.run_child(__file__, path, code=code, args=("--repeat", str(args.repeat)))
            label = f"old {path}" if code else path
            _print(n, label, r)
            totals[label] = r["total"]
        close = harness.close_month_timed(MONTH + "-01", at=CLOSE_AT)
        connections.close_all()
        for path, code in [("page-closed", None)] + ([("page-closed", args.before)] if args.before else []):
            r = harness.run_child(__file__, path, code=code, args=("--repeat", str(args.repeat)))
            label = f"old {path}" if code else path
            _print(n, label, r)
            totals[label] = r["total"]
        if len({totals[k] for k in totals if "open" in k or k == "refresh"}) != 1:
            raise SystemExit(f"the open month's totals differ: {totals}")
        if len({totals[k] for k in totals if "closed" in k}) != 1:
            raise SystemExit(f"the closed month's totals differ: {totals}")
        print(f"{'':>10} (fill {fill:.1f} s, close {close:.1f} s; the page's 税込合計 equal on every path)")


if __name__ == "__main__":
    main()
