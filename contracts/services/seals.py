"""台帳の封印: append a closed month's seal (contracts.billing.seal; docs/ledger_seal.md).

- The close seals its month in its own transaction (contracts.services.month_close), after its last short lock.
- A close made before seals existed is sealed by `month_seals_backfill` (the `seal_ledger` command, and every close
  before it seals its own month, since the chain needs its predecessor's seal), from the rows as it finds them:
  `as_found`, and `verify_ledger` says so. Idempotent: a sealed close is never sealed again.
- Seals are written one at a time (an advisory lock on PostgreSQL; SQLite serialises writers).
"""

import datetime as dt

from django.db import connection, transaction

from contracts.billing.closed_scope import closes_for
from contracts.billing.seal import SEAL_VERSION, month_seal_compute, seal_chain_previous
from contracts.models import MonthClose, MonthSeal
from core import clock
from core.formats import wareki_month
from core.history_write import save_with_history
from core.transactions import durable_service

from .audit import require_permission

SEAL_LOCK = (8202, 0)  # advisory lock (class, key): one writer of seals at a time


@transaction.atomic(savepoint=False)
def month_seal_write(*, close: MonthClose, actor, as_found: bool = False, also: list[tuple] = ()) -> MonthSeal:
    """Append `close`'s seal, chained to its predecessor's (which must be sealed), in the caller's transaction.

    `also`: the month's rows committed beside the close's snapshot (contracts.billing.seal.rows_committed_beside).
    """
    require_permission(actor, "contracts.close_month", action="台帳の封印の")
    _one_sealer_at_a_time()
    existing = MonthSeal.objects.filter(close=close).first()
    if existing is not None:
        return existing
    values = month_seal_compute(closes_for(close.month), previous_hash=seal_chain_previous(close), also=also)
    seal = MonthSeal(
        close=close,
        version=SEAL_VERSION,
        previous_hash=values.previous_hash,
        rows_hash=values.rows_hash,
        row_count=values.row_count,
        chunks=values.chunks,
        seal_hash=values.seal_hash,
        as_found=as_found,
        sealed_at=clock.now(),
        sealed_by=actor,
    )
    label = wareki_month(close.month)
    reason = f"{label}の月次締めの封印"
    if as_found:
        reason = f"{label}の封印（封印の導入前の締めを、封印した時点の台帳のまま封印）"
    save_with_history(seal, actor=actor, reason=reason)
    return seal


@durable_service
def month_seals_backfill(*, actor, before: dt.date | None = None) -> list[MonthSeal]:
    """Seal, as found and in month order, every close without a seal (those before `before`, if given); return
    the seals written (none when every close is sealed)."""
    require_permission(actor, "contracts.close_month", action="台帳の封印の")
    _one_sealer_at_a_time()
    unsealed = MonthClose.objects.filter(seal__isnull=True).order_by("month")
    if before is not None:
        unsealed = unsealed.filter(month__lt=before)
    return [month_seal_write(close=close, actor=actor, as_found=True) for close in unsealed]


def _one_sealer_at_a_time() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(SEAL_LOCK))
