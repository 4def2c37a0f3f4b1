"""Page benchmark (issue 14): the hot pages at two sizes of the book, side by side, through the real login.

    .venv/bin/python bench/generate.py --scale 0.01 --database-url postgres://postgres@127.0.0.1:5432/book_1pct
    nice .venv/bin/python bench/generate.py --database-url postgres://postgres@127.0.0.1:5432/book_full
    .venv/bin/python bench/pages.py --small postgres://…/book_1pct --large postgres://…/book_full --repeat 30

For each book, in a process of its own (settings as `make run`'s but DEBUG off, as in production): each role
signs in through the login page (Django's test client against the real URL conf and middleware: CSRF enforced,
axes and the auth log included, sessions in the database), then each page of the issue's table is requested
`--repeat` times after one warm-up. Times are of the whole request in the process (view, template, middleware,
session save), not the network. Queries are counted on one more request. An approval is timed on its POST (the
承認者 opens the application first, as on screen, to read the version it approves); each one approves another
waiting application, so a book serves as many runs as it holds waiting applications (generate.py makes 20,000
of each kind per 200,000 subscribers).

Prints, per page: p50 and p95 in ms, the p50 of the process's own CPU time (the web worker's work without the
waits for a core, which on a shared machine dominate the wall clock), and queries at each size, and the ratio of
the p50s. Record results in
BENCHMARKS.md.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

import harness

DEFAULT_SMALL = "postgres://postgres@127.0.0.1:5432/backoffice_book_small"
GOAL_MS = {"approve": 50}  # the goals (p95); every other page: 100 ms

# (key, label, username, url name, query). {month} is the last closed month, {code} a subscriber's code in the
# middle of the book.
PAGES = [
    ("home-accounting", "経理's home page", "keiri", "home", ""),
    ("home-approver", "承認者's home page", "shonin", "home", ""),
    ("home-clerk", "受付担当's home page", "uketsuke", "home", ""),
    (
        "contracts-by-date",
        "option contracts sorted by 契約成立日",
        "uketsuke",
        "contracts:optioncontract_list",
        "?sort=contracted_on",
    ),  # fmt: skip
    (
        "contracts-by-date-desc",
        "option contracts sorted by 契約成立日 (newest first)",
        "uketsuke",
        "contracts:optioncontract_list",
        "?sort=-contracted_on",
    ),  # fmt: skip
    ("ledger-month", "ledger filtered by month", "keiri", "contracts:ledger_list", "?month={month}"),
    (
        "ledger-amount-none",
        "ledger by a 取引金額 range matching nothing",
        "keiri",
        "contracts:ledger_list",
        "?amount_min=1&amount_max=100",
    ),  # fmt: skip
    ("report-open", "report page (速報, open month)", "keiri", "contracts:monthly_report", "?month={open}"),
    ("report-closed", "report page (last closed month)", "keiri", "contracts:monthly_report", "?month={month}"),
    ("subscriber-code", "subscriber search by code", "uketsuke", "contracts:subscriber_list", "?q={code}"),
    ("subscriber-name", "subscriber search by name", "uketsuke", "contracts:subscriber_list", "?q=ヤマダ"),
    ("search-name", "header search by name", "uketsuke", "contracts:search", "?q=ヤマダショウジ"),
    ("applications", "application list", "shonin", "contracts:application_list", ""),
    ("queue-review", "審査待ち queue", "shonin", "contracts:queue_review", ""),
    ("admin-applications", "admin application changelist", "admin", "admin:contracts_application_changelist", ""),
    ("admin-ledger", "admin ledger changelist", "keiri", "admin:contracts_ledgerentry_changelist", ""),
    (
        "admin-option-contracts",
        "admin option contract changelist",
        "admin",
        "admin:contracts_optioncontract_changelist",
        "",
    ),  # fmt: skip
]
APPROVALS = [("approve-new", "new"), ("approve-change", "change"), ("approve-cancel", "cancel")]
LABELS = {key: label for key, label, *_ in PAGES} | {
    "approve-new": "one approval (新規利用申込)",
    "approve-change": "one approval (契約内容変更申込)",
    "approve-cancel": "one approval (解約申込)",
}

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="([^"]*)"')


def _login(username: str):
    from django.test import Client
    from django.urls import reverse

    from contracts.demo import DEMO_PASSWORD

    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
    page = client.get(reverse("login"))
    token = _CSRF.search(page.content.decode()).group(1)
    response = client.post(
        reverse("login"), {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    )
    if response.status_code != 302:
        raise SystemExit(f"{username}: login failed ({response.status_code})")
    return client


def _timed(call, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU milliseconds of each call (on a shared machine the CPU time is the web
    worker's own work, without the waits for a core)."""
    call()  # warm-up: per-process caches (content types, permissions, templates, the fee schedule)
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return times, cpu


def _queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def _get(client, url):
    def call():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
        return response

    return call


def _approvals(client, kind: str, repeat: int) -> dict:
    from django.urls import reverse

    from contracts.models import Application

    waiting = list(
        Application.objects.filter(kind=kind, status="under_review")
        .order_by("pk")
        .values_list("pk", flat=True)[: repeat + 2]
    )
    if len(waiting) < repeat + 2:
        return {"skipped": f"{len(waiting)} waiting {kind} applications (need {repeat + 2})"}
    times, cpu, queries = [], [], None
    for n, pk in enumerate(waiting):
        page = client.get(reverse("contracts:application_detail", args=[pk])).content.decode()
        data = {"csrfmiddlewaretoken": _CSRF.search(page).group(1), "version": _VERSION.search(page).group(1)}
        url = reverse("contracts:application_approve", args=[pk])
        if n == 1:
            queries = _queries(lambda url=url, data=data: client.post(url, data))
            continue
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.post(url, data)
        elapsed = (time.perf_counter() - started) * 1000
        elapsed_cpu = (time.process_time() - started_cpu) * 1000
        if response.status_code != 302 or Application.objects.get(pk=pk).status != "approved":
            raise SystemExit(f"approval of {kind} #{pk} refused ({response.status_code})")
        if n >= 2:  # n == 0 warms up
            times.append(elapsed)
            cpu.append(elapsed_cpu)
    return {"times": times, "cpu": cpu, "queries": queries}


def _measure(args_json: str) -> dict:
    harness.django_setup()
    from django.conf import settings
    from django.urls import reverse

    from contracts.models import MonthClose, Subscriber

    settings.DEBUG = False
    args = json.loads(args_json)
    repeat, only = args["repeat"], set(args["only"] or [])
    last_close = MonthClose.objects.order_by("-month").first()
    month = f"{last_close.month:%Y-%m}" if last_close else ""
    middle = Subscriber.objects.order_by("pk").values_list("code", flat=True)[Subscriber.objects.count() // 2]
    open_month = _open_month_refreshed(last_close, only)
    clients = {}
    results = {}
    for key, _label, username, name, query in PAGES:
        if only and key not in only:
            continue
        client = clients.get(username) or clients.setdefault(username, _login(username))
        url = reverse(name) + query.format(month=month, code=middle, open=open_month)
        call = _get(client, url)
        times, cpu = _timed(call, repeat)
        results[key] = {"times": times, "cpu": cpu, "queries": _queries(call)}
    for key, kind in APPROVALS:
        if only and key not in only:
            continue
        client = clients.get("shonin") or clients.setdefault("shonin", _login("shonin"))
        results[key] = _approvals(client, kind, repeat)
    return results


def _open_month_refreshed(last_close, only) -> str:
    """The month after the last close, its 速報 figures computed as 経理's 「速報を集計する」 and a worker would (so the
    page shows what staff see once the task has run); the refresh's own time goes to stderr."""
    import datetime as dt

    from contracts.services.report_figures import report_figures_request, report_figures_run
    from core import clock
    from core.history_write import system_user

    month = clock.month_start(last_close.month + dt.timedelta(days=32) if last_close else clock.today())
    if not only or "report-open" in only:
        started = time.perf_counter()
        figures = report_figures_request(month=month, actor=system_user())
        report_figures_run(figures_id=figures.pk)
        print(f"速報 refresh of {month:%Y-%m}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return f"{month:%Y-%m}"


def _explain(key: str) -> None:
    """Print EXPLAIN ANALYZE of each statement of page `key` that reads a big table (the profile of a miss)."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from contracts.models import MonthClose, Subscriber

    settings.DEBUG = False
    _, label, username, name, query = next(page for page in PAGES if page[0] == key)
    last_close = MonthClose.objects.order_by("-month").first()
    month = f"{last_close.month:%Y-%m}"
    code = Subscriber.objects.order_by("pk").values_list("code", flat=True)[Subscriber.objects.count() // 2]
    client = _login(username)
    url = reverse(name) + query.format(month=month, code=code, open=_open_month_refreshed(last_close, [key]))
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    print(f"{label}: {url} {elapsed:.0f} ms, {len(captured.captured_queries)} queries")
    for q in captured.captured_queries:
        sql = re.sub(r'^DECLARE "[^"]+" NO SCROLL CURSOR (WITH HOLD |WITHOUT HOLD )?FOR ', "", q["sql"])
        if not sql.startswith("SELECT") or "contracts_" not in sql:
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\n-- {q['time']} s: {sql[:300]}\n{plan}")


def _p(times, q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _run(url: str, repeat: int, only) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    env.pop("DJANGO_DEBUG", None)
    result = subprocess.run(
        [sys.executable, __file__, "--measure", json.dumps({"repeat": repeat, "only": only})],
        capture_output=True,
        text=True,
        cwd=harness.ROOT,
        env=env,
    )
    if result.returncode:
        sys.exit(f"{url}: the measured process failed\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cell(result) -> str:
    if result is None:
        return f"{'—':>8} {'—':>8} {'—':>7} {'—':>4}"
    if "skipped" in result:
        return f"{'skipped':>22}"
    return (
        f"{_p(result['times'], 0.5):>8.1f} {_p(result['times'], 0.95):>8.1f} {_p(result['cpu'], 0.5):>7.1f}"
        f" {result['queries']:>4}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", default=os.environ.get("BENCH_SMALL_URL") or DEFAULT_SMALL)
    parser.add_argument("--large", default=os.environ.get("BENCH_LARGE_URL"), help="omit to measure one book")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", action="append", help="a page key (repeatable); default every page")
    parser.add_argument("--json", help="write the raw results here")
    parser.add_argument("--explain", help="a page key: print EXPLAIN ANALYZE of its reads on --small's book")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.explain:
        harness.environment(args.small)
        harness.django_setup()
        _explain(args.explain)
        return
    if args.measure:
        harness.environment(os.environ["DATABASE_URL"])
        print(json.dumps(_measure(args.measure)))
        return
    if args.repeat < 1:
        sys.exit("--repeat は 1 以上で指定してください。")
    books = {"small": args.small, **({"large": args.large} if args.large else {})}
    results = {name: _run(url, args.repeat, args.only) for name, url in books.items()}
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out)
    head = f"{'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>7} {'qry':>4}"
    print(f"{'page':<52} {head}   {head if 'large' in books else ''} {'× p50' if 'large' in books else ''}")
    print(f"{'':<52} {'— ' + books['small'].rsplit('/', 1)[1]:<22}   {books.get('large', '').rsplit('/', 1)[-1]}")
    for key in results["small"]:
        small, large = results["small"][key], results.get("large", {}).get(key)
        ratio = ""
        if large and "times" in large and "times" in small:
            ratio = f"{_p(large['times'], 0.5) / _p(small['times'], 0.5):>5.2f}"
        goal = GOAL_MS.get(key.split("-")[0], 100)
        worst = large or small
        met = "met" if "times" in worst and _p(worst["times"], 0.95) <= goal else f"goal p95 ≤ {goal} ms"
        print(f"{LABELS[key]:<52} {_cell(small)}   {_cell(large) if 'large' in books else ''} {ratio}  {met}")


if __name__ == "__main__":
    main()
