"""The read replica in tests: the test mirror of the primary in `make test`, a real streaming standby in
ops/check_replica.sh (DATABASE_REPLICA_URL set). Tests reading there are transactional: what they read must be
committed on the primary, and (on a real standby) replayed, before it can be seen."""

import os
import time
from contextlib import contextmanager
from types import SimpleNamespace

from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

from core.db_router import REPLICA

REAL_REPLICA = bool(os.environ.get("DATABASE_REPLICA_URL"))
REPLAY_TIMEOUT = 120  # seconds; milliseconds on a quiet machine, more while others write gigabytes of WAL


def replayed(timeout: float = REPLAY_TIMEOUT) -> None:
    """Wait until the standby has replayed everything the primary has written so far (nothing to wait for with the
    mirror): the primary's current WAL position against the standby's last replayed one."""
    if not REAL_REPLICA:
        return
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    with connections[REPLICA].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica has not replayed the primary's WAL up to {target} in {timeout} s")
            time.sleep(0.02)


def in_recovery(alias: str) -> bool:
    """Whether the server behind `alias` is a standby replaying WAL (PostgreSQL's pg_is_in_recovery())."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


@contextmanager
def queries_by_alias():
    """Capture the queries of the block on the primary and on the replica, each apart."""
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        yield SimpleNamespace(primary=primary, replica=replica)


def touching(captured, table: str) -> list[str]:
    """The SQL of the captured queries that name `table`."""
    return [query["sql"] for query in captured.captured_queries if f'"{table}"' in query["sql"]]
