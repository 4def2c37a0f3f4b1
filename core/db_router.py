"""Report and export reads on the read replica; everything else on the primary.

The choice is explicit, never guessed from the model: a view that only reads for a report or an export says so
(`ReadsFromReplicaMixin`, or `with reads_from_replica():` around the read), and the router consults that context
variable. Guessing by model would send a service's own reads (the close's, an approval's) to a replica that may lag
behind the write they serve; the same model (LedgerEntry, say) is read by a report and by the close.

Even inside `reads_from_replica()`:
- every write goes to the primary (`db_for_write`);
- a read made while the primary's connection is inside a transaction goes to the primary: a service is atomic, so
  what it reads sees its own writes and its locks (and so does a test wrapped in a transaction);
- `reads_from_primary()` turns it off for a block that writes and then reads what it wrote.

Without a `replica` database (DATABASE_REPLICA_URL unset) every read goes to the primary and nothing changes.
In the test settings `replica` is a TEST MIRROR of the primary, except in the real-replica run (ops/check_replica.sh).
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def _replica_reads_while(on: bool):
    token = _replica_reads.set(on)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def reads_from_replica():
    """Send the reads of this block to the replica (when there is one); writes still go to the primary."""
    return _replica_reads_while(True)


def reads_from_primary():
    """Send the reads of this block to the primary: it writes, then reads what it wrote."""
    return _replica_reads_while(False)


def read_alias() -> str:
    """The database alias that a read made here goes to."""
    if _replica_reads.get() and REPLICA in settings.DATABASES and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return REPLICA
    return DEFAULT_DB_ALIAS


def stream_from_replica(chunks: Iterable) -> Iterator:
    """Yield `chunks` with each step read from the replica.

    A streamed response is iterated after its view has returned (outside the view's `reads_from_replica()`), so
    every `next()` runs inside it again.
    """
    iterator = iter(chunks)
    try:
        while True:
            with reads_from_replica():
                try:
                    chunk = next(iterator)
                except StopIteration:
                    return
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with reads_from_replica():
                close()


class ReadsFromReplicaMixin:
    """A report or export view: its GET (and HEAD) reads from the replica, template and streamed body included.

    Any other method (a POST writes) runs as any other view, on the primary.
    """

    def dispatch(self, request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return super().dispatch(request, *args, **kwargs)
        with reads_from_replica():
            response = super().dispatch(request, *args, **kwargs)
            if getattr(response, "is_rendered", True) is False:
                response.render()  # the template reads lazily: render it here, not after dispatch returns
        if getattr(response, "streaming", False):
            response.streaming_content = stream_from_replica(response.streaming_content)
        return response


class ReplicaRouter:
    """DATABASE_ROUTERS entry (config/settings/base.py adds it when there is a replica)."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema by streaming it
