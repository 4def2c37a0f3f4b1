"""The ledger's seal (封印, 電子帳簿保存法): a hash chain over each closed month's ledger rows, and its verification.

Decisions, each kept here (the byte-level definition is docs/ledger_seal.md):
- A month's rows are the rows of its closed report (contracts.billing.closed_scope.ledger_scope): every row booked
  into the month up to the close's ledger watermark (the close's charges and adjustments, initial and one-time
  fees, monthly obligations, reversals), and the rows booked into an earlier closed month after that month's close
  (they belong to the first open month). Rows booked before the first close belong to no closed month: unsealed.
- Order: by ledger id. Encoding: one JSON array per row (SEALED_FIELDS, in that order), UTF-8, "\n" after each.
- rows_hash = SHA-256 of all the lines; seal_hash = SHA-256 of the version, the previous close's seal_hash, the
  month, the row count and rows_hash. So changing a month's rows changes that month's seal; the next month's seal
  records the previous one, so rewriting one seal to match is found at the next link.
- The lines are also hashed in runs of CHUNK_ROWS rows, stored with their first and last ids, so that a difference
  is narrowed to one run; within it, the rows are compared with their "+" audit-history rows to name the first row
  that differs (changed, deleted, added). Where the history does not tell, the run's id range is named.
- Streamed: one server-side cursor in id order (inside a transaction), memory holds two hashes and one run.
"""

import datetime as dt
import hashlib
import heapq
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field

from django.db import connection, connections, transaction

from contracts.billing.closed_scope import Closes, closes_for, ledger_scope, ledger_scope_parts
from contracts.models import LedgerEntry, MonthClose, MonthSeal
from core.formats import wareki_month

SEAL_VERSION = "ledger-seal-v1"
CHUNK_ROWS = 1000
READ_CHUNK = 2000

# Every stored column of a ledger row, in the order they are encoded (tests/contracts/test_ledger_seal.py keeps this
# list equal to the model's fields, so a column added later cannot go unsealed).
SEALED_FIELDS = (
    "id",
    "kind",
    "option_contract_id",
    "application_id",
    "fee_item_id",
    "revision_id",
    "article",
    "quantity",
    "blocks",
    "unit_amount_yen",
    "amount_yen",
    "arisen_at",
    "booked_month",
    "effective_from",
    "charge_month",
    "days_billed",
    "days_in_month",
    "reverses_id",
    "reason",
    "created_by_id",
    "created_at",
)


def _value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def canonical_row(row: tuple) -> bytes:
    """The bytes a ledger row contributes to its month's seal: its SEALED_FIELDS as a JSON array, and "\\n"."""
    return (json.dumps([_value(v) for v in row], ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def seal_hash_of(*, previous_hash: str, month: dt.date, row_count: int, rows_hash: str) -> str:
    text = f"{SEAL_VERSION}\n{previous_hash}\n{month:%Y-%m}\n{row_count}\n{rows_hash}\n"
    return hashlib.sha256(text.encode()).hexdigest()


def sealed_rows(closes: Closes):
    """The month's rows as SEALED_FIELDS tuples, in id order (one query: for a few rows, an id range)."""
    return LedgerEntry.objects.filter(ledger_scope(closes)).order_by("pk").values_list(*SEALED_FIELDS)


def month_rows(closes: Closes) -> Iterator[tuple]:
    """Every row of the month as SEALED_FIELDS tuples in id order, streamed: its two parts (ledger_scope_parts),
    each read through its own index, merged by id. Reading them as one OR walks the primary key from the ledger's
    first row (8.3 s for a 750,000-row month of a 5M-row ledger, growing with the ledger; BENCHMARKS.md)."""
    parts = [
        LedgerEntry.objects.filter(part).order_by("pk").values_list(*SEALED_FIELDS)
        for part in ledger_scope_parts(closes)
        if part is not None
    ]
    if connection.in_atomic_block:
        yield from _merged(*(_whole_month_plan(part) for part in parts))
        return
    with transaction.atomic():
        yield from _merged(*(_whole_month_plan(part) for part in parts))


@dataclass
class SealDigest:
    """The hashes of the rows fed so far: all of them, and each run of CHUNK_ROWS."""

    row_count: int = 0
    chunks: list[list] = field(default_factory=list)
    _all: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    _chunk: "hashlib._Hash | None" = None
    _chunk_first: int = 0
    _chunk_last: int = 0
    _chunk_rows: int = 0

    def add(self, row: tuple) -> None:
        line = canonical_row(row)
        self._all.update(line)
        if self._chunk is None:
            self._chunk, self._chunk_first, self._chunk_rows = hashlib.sha256(), row[0], 0
        self._chunk.update(line)
        self._chunk_last = row[0]
        self._chunk_rows += 1
        self.row_count += 1
        if self._chunk_rows == CHUNK_ROWS:
            self._end_chunk()

    def _end_chunk(self) -> None:
        if self._chunk is not None:
            self.chunks.append([self._chunk_first, self._chunk_last, self._chunk_rows, self._chunk.hexdigest()])
            self._chunk = None

    def finish(self) -> "SealDigest":
        self._end_chunk()
        return self

    @property
    def rows_hash(self) -> str:
        return self._all.hexdigest()


@dataclass(frozen=True)
class SealValues:
    month: dt.date
    previous_hash: str
    row_count: int
    rows_hash: str
    chunks: list[list]
    seal_hash: str


def _whole_month_plan(queryset) -> Iterator[tuple]:
    """Plan the cursor for reading every row (PostgreSQL's cursor_tuple_fraction = 1 while it is declared).

    A cursor is planned by default for its first 10% of rows: for "the month's rows by id" that is a walk of the
    primary key from the table's first row with a filter, which grows with the whole ledger; planned for all rows
    it reads the month through its index and sorts it, which grows with the month (BENCHMARKS.md).
    """
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=READ_CHUNK)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('cursor_tuple_fraction')")
        before = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('cursor_tuple_fraction', '1', true)")
    rows = queryset.iterator(chunk_size=READ_CHUNK)
    try:
        first = next(rows, None)  # the cursor is declared (and planned) on the first fetch
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('cursor_tuple_fraction', %s, true)", [before])
    if first is None:
        return
    yield first
    yield from rows


def _merged(*streams: Iterable[tuple]) -> Iterator[tuple]:
    """The streams (each in id order) in id order, a row seen by more than one once."""
    last = None
    for row in heapq.merge(*streams, key=lambda r: r[0]):
        if row[0] != last:
            last = row[0]
            yield row


def month_seal_compute(closes: Closes, *, previous_hash: str, also: list[tuple] = ()) -> SealValues:
    """The seal of `closes.month` over its rows now (plus `also`: rows committed beside a close's snapshot)."""
    digest = SealDigest()
    for row in _merged(month_rows(closes), sorted(also)):
        digest.add(row)
    digest.finish()
    return SealValues(
        month=closes.month,
        previous_hash=previous_hash,
        row_count=digest.row_count,
        rows_hash=digest.rows_hash,
        chunks=digest.chunks,
        seal_hash=seal_hash_of(
            previous_hash=previous_hash, month=closes.month, row_count=digest.row_count, rows_hash=digest.rows_hash
        ),
    )


def rows_committed_beside(closes: Closes, *, after_id: int) -> list[tuple]:
    """The month's rows above `after_id` as a connection of its own sees them (PostgreSQL, at a close's end).

    A close reads at a snapshot taken before it began, but its month's report reads every row up to its ledger
    watermark, which its last short lock guarantees committed: a row another session committed meanwhile (a billing
    start dated in the month, say) is in the report but not in the close's snapshot. Read them here, so the seal
    covers exactly what the report reads. The close's own rows are not committed yet: this connection never sees
    them, the close's does. Few rows (those written during the close), so a list.
    """
    sql, params = sealed_rows(closes).filter(pk__gt=after_id).query.sql_with_params()
    separate = connections.create_connection(connection.alias)
    try:
        with separate.cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]
    finally:
        separate.close()


def seal_chain_previous(close: MonthClose) -> str:
    """The seal_hash of the close before `close` ("" for the book's first close)."""
    previous = MonthClose.objects.filter(month__lt=close.month).order_by("-month").select_related("seal").first()
    if previous is None:
        return ""
    seal = getattr(previous, "seal", None)
    if seal is None:
        raise LookupError(previous.month)
    return seal.seal_hash


# --- verification ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthCheck:
    """One closed month checked against its seal: `ok`, or what differs (for staff, in `message`)."""

    month: dt.date
    ok: bool
    message: str
    row_id: int | None = None
    rows: int = 0
    seal: MonthSeal | None = None

    @property
    def label(self) -> str:
        return wareki_month(self.month)


CHANGED, REMOVED, ADDED = "changed", "removed", "added"
_WHAT = {
    CHANGED: "締め後に変更されています",
    REMOVED: "締め後に削除されたか、この月から外されています",
    ADDED: "締め後に追加されたか、この月に移されています",
}


def ledger_verify(*, month: dt.date | None = None, progress: Callable[[MonthCheck], None] | None = None):
    """Recompute every sealed close's seal in month order (or only `month`'s) and return one MonthCheck per close.

    Read-only. A month checks against the seal stored on its predecessor (the chain), so a changed month is
    reported itself and the months after it are checked on their own rows.
    """
    closes = list(MonthClose.objects.order_by("month").select_related("seal"))
    checks = []
    previous_seal: MonthSeal | None = None
    for index, close in enumerate(closes):
        seal = getattr(close, "seal", None)
        if month is None or close.month == month:
            check = _check(close, seal, previous_seal, first=index == 0)
            checks.append(check)
            if progress is not None:
                progress(check)
        previous_seal = seal
    return checks


def _check(close: MonthClose, seal: MonthSeal | None, previous_seal: MonthSeal | None, *, first: bool) -> MonthCheck:
    label = wareki_month(close.month)
    if seal is None:
        return MonthCheck(
            close.month,
            False,
            f"{label}: 封印がありません（封印の導入前の締めです。manage.py seal_ledger で封印してください）。",
        )
    expected_previous = "" if first else (previous_seal.seal_hash if previous_seal is not None else None)
    if seal.previous_hash != expected_previous:
        return MonthCheck(
            close.month,
            False,
            f"{label}: 封印の連鎖が切れています（この封印が記録した前月の封印が、前の締めの封印と違います）。",
            seal=seal,
        )
    if seal.seal_hash != seal_hash_of(
        previous_hash=seal.previous_hash, month=close.month, row_count=seal.row_count, rows_hash=seal.rows_hash
    ):
        return MonthCheck(close.month, False, f"{label}: 封印の記録そのものが書き換えられています。", seal=seal)
    closes = closes_for(close.month)
    difference = _first_chunk_difference(closes, seal)
    if difference is None:
        found = "（封印の導入後に、封印した時点の台帳のまま封印）" if seal.as_found else ""
        return MonthCheck(
            close.month,
            True,
            f"{label}: 一致（{seal.row_count:,}行、封印 {seal.seal_hash[:16]}…）{found}",
            rows=seal.row_count,
            seal=seal,
        )
    lo, hi = difference
    named = _first_row_difference(closes, lo, hi)
    if named is None:
        where = f"#{lo}〜#{hi} の行のうちどれかが締め後に変更・削除・追加されています"
        row_id = None
    else:
        row_id, what = named
        where = f"最初に違う行: #{row_id}（{_WHAT[what]}）"
    return MonthCheck(close.month, False, f"{label}: 台帳の行が封印と一致しません。{where}。", row_id=row_id, seal=seal)


def _first_chunk_difference(closes: Closes, seal: MonthSeal) -> tuple[int, int] | None:
    """The id range of the first run of rows that differs from the sealed runs, or None when all match. Stops
    reading at the first run that differs."""
    stored = seal.chunks
    digest = SealDigest()
    compared = 0
    with closing(month_rows(closes)) as rows:
        for row in rows:
            digest.add(row)
            if len(digest.chunks) > compared:
                mine = digest.chunks[compared]
                theirs = stored[compared] if compared < len(stored) else None
                if mine != theirs:
                    return _range(mine, theirs)
                compared += 1
    digest.finish()
    for i in range(compared, max(len(digest.chunks), len(stored))):
        mine = digest.chunks[i] if i < len(digest.chunks) else None
        theirs = stored[i] if i < len(stored) else None
        if mine != theirs:
            return _range(mine, theirs)
    if digest.row_count != seal.row_count or digest.rows_hash != seal.rows_hash:
        # The runs match but the whole does not: the seal's runs were rewritten. Name the whole month's ids.
        return _range(stored[0] if stored else None, stored[-1] if stored else None) if stored else (0, 0)
    return None


def _range(mine: list | None, theirs: list | None) -> tuple[int, int]:
    ends = [v for chunk in (mine, theirs) if chunk for v in chunk[:2]]
    return min(ends), max(ends)


def _first_row_difference(closes: Closes, lo: int, hi: int) -> tuple[int, str] | None:
    """The first row in ids lo..hi whose current value differs from its "+" history row (the row as written)."""
    current = {row[0]: canonical_row(row) for row in sealed_rows(closes).filter(pk__range=(lo, hi))}
    history = LedgerEntry.history.filter(ledger_scope(closes, id_field="id"), history_type="+", id__range=(lo, hi))
    written = {row[0]: canonical_row(row) for row in history.order_by("id", "history_id").values_list(*SEALED_FIELDS)}
    for row_id in sorted(current.keys() | written.keys()):
        now, then = current.get(row_id), written.get(row_id)
        if now == then:
            continue
        return row_id, CHANGED if now is not None and then is not None else (ADDED if then is None else REMOVED)
    return None
