import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from contracts import roles
from core import clock as core_clock
from tests.factories import role_group

# Every test runs at this instant unless it says otherwise: mid-February 2026, a fortnight into the fee table
# in force (令和8年2月1日変更, options.regulation.FEE_TABLE_REVISION), with January the last month to close.
# Nothing in the suite may depend on the real date.
FIXED_NOW = dt.datetime(2026, 2, 15, 10, 0, tzinfo=core_clock.JST)


def instant(value) -> dt.datetime:
    """An aware instant from an aware datetime or an ISO string with its offset ("2026-03-01T09:00+09:00")."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError(f"時刻はタイムゾーン付きで指定してください: {value!r}")
    return value


class FixedClock:
    """The suite's clock: stands still at one instant until the test moves it.

    `core.clock.now()` (and everything else reading the time: Django, sessions, axes) reads it. A test that needs
    another instant says so with `@pytest.mark.clock("2026-03-01T09:00+09:00")`, or moves it as it goes with
    `fixed_clock.set(...)` / `fixed_clock.advance(days=1)`; `time_machine.travel(...)` blocks nest inside it.
    """

    def __init__(self, traveller):
        self._traveller = traveller

    def set(self, value) -> dt.datetime:
        self._traveller.move_to(instant(value))
        return self.now()

    def advance(self, **delta) -> dt.datetime:
        self._traveller.shift(dt.timedelta(**delta))
        return self.now()

    def now(self) -> dt.datetime:
        return core_clock.now()

    def today(self) -> dt.date:
        return core_clock.today()


@pytest.fixture(autouse=True)
def fixed_clock(request):
    """Pin the clock for every test: at FIXED_NOW, or at the instant of the test's `clock` marker."""
    marker = request.node.get_closest_marker("clock")
    start = instant(marker.args[0]) if marker else FIXED_NOW
    with time_machine.travel(start, tick=False) as traveller:
        yield FixedClock(traveller)


def _allow_ledger_flush():
    """Let pytest-django's flush between transactional tests pass the ledger's append-only trigger.

    The flag is transaction-local (SET LOCAL), so it never outlives the flush. The trigger honours it only for the
    table's owner, which the suite connects as: the tests' own way to reset data, which the app role cannot use
    (it has no DELETE or TRUNCATE there either; tests/security/test_db_roles.py).
    """
    if connection.vendor != "postgresql":
        return
    ops = connection.ops
    if getattr(ops, "_ledger_flush_patched", False):
        return
    original = ops.sql_flush

    def sql_flush(style, tables, **kwargs):
        statements = original(style, tables, **kwargs)
        return ["SET LOCAL backoffice.ledger_maintenance = 'on'", *statements] if statements else statements

    ops.sql_flush = sql_flush
    ops._ledger_flush_patched = True


_TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def _is_transactional(item) -> bool:
    """Whether pytest-django runs `item` as a TransactionTestCase (committed data, a flush after)."""
    marker = item.get_closest_marker("django_db")
    args, kwargs = (marker.args, marker.kwargs) if marker else ((), {})
    return bool(
        kwargs.get("transaction")
        or kwargs.get("reset_sequences")
        or any(args[:2])
        or _TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


@pytest.fixture(autouse=True)
def _ledger_flush_guard(request):
    if _is_transactional(request.node):
        _allow_ledger_flush()
    yield


@pytest.fixture
def regulation(db):
    """The real regulation loaded into the catalogue, as `make run` loads it."""
    call_command("load_regulation", stdout=open("/dev/null", "w"))


def _staff(username, role):
    user = get_user_model().objects.create_user(username=username, password="pass-1234", last_name=username)
    if role:
        user.groups.add(role_group(role))
    return user


@pytest.fixture
def clerk(db):
    return _staff("clerk", roles.CLERK)


@pytest.fixture
def clerk2(db):
    return _staff("clerk2", roles.CLERK)


@pytest.fixture
def approver(db):
    return _staff("approver", roles.APPROVER)


@pytest.fixture
def approver2(db):
    return _staff("approver2", roles.APPROVER)


@pytest.fixture
def approver3(db):
    return _staff("approver3", roles.APPROVER)


@pytest.fixture
def accounting(db):
    return _staff("accounting", roles.ACCOUNTING)


@pytest.fixture
def tariff_manager(db):
    return _staff("tariff", roles.TARIFF_MANAGER)


@pytest.fixture
def tariff_manager2(db):
    return _staff("tariff2", roles.TARIFF_MANAGER)


@pytest.fixture
def sysadmin(db):
    return _staff("sysadmin", roles.SYSTEM_ADMIN)


def _allow_the_replica(items):
    """Let every transactional test use the `replica` alias as well as `default`, unless it names its databases.

    Report and export views read there (core/db_router.py), but only outside a transaction on the primary: a test
    wrapped in one (the default) never reads there, and is left alone (its teardown would check the mirror's
    constraints while the primary's transaction holds SQLite's shared-cache locks).
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        args, kwargs = (marker.args, dict(marker.kwargs)) if marker else ((), {})
        if not _is_transactional(item) or "databases" in kwargs or len(args) >= 3:
            continue
        item.add_marker(pytest.mark.django_db(*args, **kwargs, databases=["default", "replica"]))


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` only mean something on PostgreSQL: skip them elsewhere, saying why."""
    import os

    from django.conf import settings

    _allow_the_replica(items)
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not on_postgres:
        raise pytest.UsageError("REQUIRE_POSTGRES=1 ですが DATABASE_URL が PostgreSQL を指していません。")
    if on_postgres:
        return
    skip = pytest.mark.skip(reason="PostgreSQL が必要です（DATABASE_URL=postgres://… で実行）")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
