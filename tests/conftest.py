import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from contracts import roles
from tests.factories import role_group


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


@pytest.fixture(autouse=True)
def _ledger_flush_guard(request):
    if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
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
def sysadmin(db):
    return _staff("sysadmin", roles.SYSTEM_ADMIN)


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` only mean something on PostgreSQL: skip them elsewhere, saying why."""
    import os

    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not on_postgres:
        raise pytest.UsageError("REQUIRE_POSTGRES=1 ですが DATABASE_URL が PostgreSQL を指していません。")
    if on_postgres:
        return
    skip = pytest.mark.skip(reason="PostgreSQL が必要です（DATABASE_URL=postgres://… で実行）")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
