"""What every benchmark here shares: the environment, a fresh or kept database, peak RSS, a measured child."""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def environment(url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DATABASE_URL"] = url
    sys.path.insert(0, str(ROOT))
    if os.environ.get("BENCH_CODE"):  # a child measuring an older checkout (run_child's `code`)
        sys.path.insert(0, os.environ["BENCH_CODE"])


def django_setup() -> None:
    import django

    django.setup()


def database_ensure(url: str, *, fresh: bool) -> None:
    """Create the database named by `url` if missing; with `fresh`, drop it first."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process image, in MB.

    Not getrusage's ru_maxrss: Linux carries that across fork and exec, so a child would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def peak_reset() -> None:
    """Reset VmHWM to the current RSS, so a child's peak is its measured run's."""
    Path("/proc/self/clear_refs").write_text("5")


def run_child(script: str, path: str, *, code: str | None = None, args: tuple[str, ...] = ()) -> dict:
    """Run `script --measure path [args]` in a process of its own and return the JSON its last line prints; with
    `code` (a checkout of older code) that code is imported ahead of this one (`environment` reads BENCH_CODE)."""
    env = dict(os.environ)
    if code:
        env["BENCH_CODE"] = code
    result = subprocess.run(
        [sys.executable, script, "--measure", path, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=code or ROOT,
        env=env,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def close_month_timed(month: str, *, at: str = "2026-04-02T09:00+09:00") -> float:
    """Close `month` (YYYY-MM-DD) as 経理 would at the JST time `at`, through the service; return the seconds."""
    import datetime as dt

    import time_machine

    from contracts.services.month_close import month_close
    from core.history_write import system_user

    started = time.perf_counter()
    with time_machine.travel(dt.datetime.fromisoformat(at)):
        month_close(month=dt.date.fromisoformat(month), actor=system_user())
    return time.perf_counter() - started


def machine() -> str:
    try:
        cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if "Model name" in line), "")
    except FileNotFoundError:
        model = platform.processor()
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")),
        "0",
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return (
        f"{model}, {os.cpu_count()} CPUs, {int(memory) / 1024 / 1024:.0f} GiB; PostgreSQL {pg}; "
        f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}"
    )
