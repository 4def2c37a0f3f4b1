"""Exports of the monthly report: CSV (UTF-8 with BOM, or cp932), one part per file, and XLSX with the three sheets.

- One CSV per part (`part` = detail | charges | summary, default detail): each part has its own columns, and a
  CSV is one table. The XLSX holds the three as sheets 明細, 月額, 集計.
- Every export streams: rows are read inside one transaction (a REPEATABLE READ snapshot on PostgreSQL, so the
  parts agree with each other), through a server-side cursor, and leave as bytes in batches.
- On PostgreSQL the 明細 CSV is written by PostgreSQL itself: `COPY (SELECT <formatted, neutralised columns>
  FROM (<the detail queryset>)) TO STDOUT WITH (FORMAT csv)`, streamed through psycopg. Elsewhere the same
  queryset is formatted in Python. The two give the same bytes (tests/contracts/test_report_exports.py).
- CSV lines end with LF (COPY's line ending; Excel reads it); fields are quoted only when they hold a comma, a
  double quote, CR or LF (COPY's rule); a NULL and an empty text are both an empty field.
"""

import codecs
import datetime as dt
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, connections, transaction

from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, Subscriber
from core import clock
from core.cells import BOM, csv_text
from core.clock import jst_wall_time
from core.db_router import read_alias
from core.downloads import DownloadName, count_rows
from core.errors import DomainError
from core.formats import wareki_month

from .as_closed import Closes, ledger_scope, subscriber_field
from .cells import FORMULA_TRIGGERS, memoised
from .charge_rows import ChargeRow
from .layout import (
    CHARGE_COLUMNS,
    DATE,
    DATETIME,
    DETAIL_COLUMNS,
    DETAIL_ORDER,
    INT,
    OBLIGATION_KINDS,
    SUMMARY_COLUMNS,
    TEXT,
    YEN,
    Column,
)
from .selectors import MonthlyReport, monthly_report
from .summary import summary_table
from .xlsx import Sheet, xlsx_chunks

CSV_UTF8, CSV_CP932, XLSX = "csv", "csv-cp932", "xlsx"
CONTENT_TYPES = {
    CSV_UTF8: "text/csv; charset=utf-8",
    CSV_CP932: "text/csv; charset=Windows-31J",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DETAIL, CHARGES, SUMMARY = "detail", "charges", "summary"
PARTS = {DETAIL: ("明細", DETAIL_COLUMNS), CHARGES: ("月額", CHARGE_COLUMNS), SUMMARY: ("集計", SUMMARY_COLUMNS)}
BATCH_ROWS = 2000


def charges_export_needs_task(charge_rows: int | None) -> bool:
    """A month with more 月額 rows than settings.EXPORT_DIRECT_MAX_ROWS has its 月額 CSV written by a worker (exports),
    not streamed from a web request."""
    return (charge_rows or 0) > settings.EXPORT_DIRECT_MAX_ROWS


def export_response_chunks(
    *,
    month: dt.date,
    fmt: str = CSV_UTF8,
    part: str | None = None,
    replacement: str | None = None,
    by_copy: bool | None = None,
) -> tuple[str, str, Iterator[bytes]]:
    """Return (filename, content type, bytes iterator) of the month's report in `fmt`.

    Everything staff can get wrong is raised here as a DomainError, before the first byte: an unknown format
    or part, a replacement where none applies, and (cp932 without a replacement) a character cp932 cannot
    hold, named with its record. `by_copy=False` writes 明細 in Python even on PostgreSQL (the same bytes): for a
    caller that writes to the same connection while it reads, which a COPY in progress would block.
    """
    month = clock.month_start(month)
    part = export_assert_valid(fmt=fmt, part=part, replacement=replacement)
    report = monthly_report(month=month)
    if fmt == CSV_CP932 and replacement is None:
        _require_cp932(report, part)

    filename = export_filename(month=month, fmt=fmt, part=part, provisional=report.is_provisional)
    if fmt == XLSX:
        chunks = _xlsx(month)
    else:
        chunks = _csv(month, part, _encoder(fmt, replacement), bom=fmt == CSV_UTF8, by_copy=by_copy)
    return filename, CONTENT_TYPES[fmt], chunks


def export_assert_valid(*, fmt: str, part: str | None, replacement: str | None) -> str | None:
    """Refuse (DomainError) a format, part and replacement that do not fit together, reading nothing; return the
    part (明細 when a CSV names none)."""
    if fmt not in CONTENT_TYPES:
        raise DomainError("出力形式は csv、csv-cp932、xlsx のいずれかを指定してください。", code="unknown_format")
    if fmt == XLSX:
        if part is not None:
            raise DomainError("XLSX は明細・月額・集計の3シートをまとめて出力します（部分の指定はできません）。")
    else:
        part = part or DETAIL
        if part not in PARTS:
            raise DomainError("CSV の出力内容は detail（明細）、charges（月額）、summary（集計）のいずれかです。")
    if replacement is not None:
        if fmt != CSV_CP932:
            raise DomainError("置き換える文字は cp932 の CSV でのみ指定できます。", code="replacement_not_cp932")
        _require_safe_replacement(replacement)
    return part


def export_filename(*, month: dt.date, fmt: str, part: str | None, provisional: bool) -> DownloadName:
    """`monthly-report-2026-02-detail-provisional.csv`, whose Japanese name is
    `月次レポート_令和8年2月 (2026-02)_明細_速報.csv` (core.downloads)."""
    state, state_ja = ("-provisional", "_速報") if provisional else ("", "")
    head = f"月次レポート_{wareki_month(month)}"
    if fmt == XLSX:
        return DownloadName(f"monthly-report-{month:%Y-%m}{state}.xlsx", japanese=f"{head}{state_ja}.xlsx")
    encoding, encoding_ja = ("-cp932", "_cp932") if fmt == CSV_CP932 else ("", "")
    return DownloadName(
        f"monthly-report-{month:%Y-%m}-{part}{state}{encoding}.csv",
        japanese=f"{head}_{PARTS[part][0]}{state_ja}{encoding_ja}.csv",
    )


@contextmanager
def report_snapshot():
    """One transaction for the whole export, so that its parts (明細, 月額, 集計) see the same data.

    Inside a transaction Django reads `.iterator()` through a server-side cursor without WITH HOLD, so
    PostgreSQL streams rows instead of materialising the result first.
    """
    using = read_alias()  # the replica when the export was asked for there (core/db_router.py)
    reading = connections[using]
    outermost = not reading.in_atomic_block
    with transaction.atomic(using=using):
        if outermost and reading.vendor == "postgresql":
            with reading.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


# --- CSV ---------------------------------------------------------------------------------------------------


def _csv_number(value) -> str:
    return "" if value is None else str(value)


def _csv_date(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def _csv_datetime(value: dt.datetime | None) -> str:
    return "" if value is None else jst_wall_time(value).strftime("%Y-%m-%d %H:%M:%S")


_CSV_FIELD = {INT: _csv_number, YEN: _csv_number, DATE: _csv_date, DATETIME: _csv_datetime}


def csv_lines(columns: Sequence[Column], rows: Iterable[tuple]) -> Iterator[str]:
    """Yield the CSV text of `rows` in batches (the header first, alone)."""
    yield ",".join(csv_text(c.label) for c in columns) + "\n"
    fields = [memoised(csv_text, blank="") if c.type == TEXT else _CSV_FIELD[c.type] for c in columns]
    batch = []
    for row in rows:
        batch.append(",".join(map(operator.call, fields, row)) + "\n")
        if len(batch) >= BATCH_ROWS:
            count_rows(len(batch))
            yield "".join(batch)
            batch = []
    if batch:
        count_rows(len(batch))
        yield "".join(batch)


def _csv(
    month: dt.date, part: str, encode: Callable[[str], bytes], *, bom: bool, by_copy: bool | None = None
) -> Iterator[bytes]:
    """Yield the CSV of one part; 明細 by PostgreSQL's COPY where there is PostgreSQL (`by_copy` for tests)."""
    if by_copy is None:
        by_copy = connection.vendor == "postgresql"
    with report_snapshot():
        report = monthly_report(month=month)
        if bom:
            yield BOM
        if part == DETAIL and by_copy:
            yield encode(",".join(csv_text(c.label) for c in DETAIL_COLUMNS) + "\n")
            yield from _detail_csv_by_copy(report, encode)
            return
        columns, rows = _part_rows(report, part)
        for text in csv_lines(columns, rows):
            yield encode(text)


def _part_rows(report: MonthlyReport, part: str) -> tuple[Sequence[Column], Iterable[tuple]]:
    if part == DETAIL:
        return DETAIL_COLUMNS, report.detail_rows.iterator(chunk_size=BATCH_ROWS)
    if part == CHARGES:
        return CHARGE_COLUMNS, (charge_values(row) for row in report.charge_rows)
    return SUMMARY_COLUMNS, summary_table(report)


def charge_values(row: ChargeRow) -> tuple:
    return tuple(getattr(row, c.key) for c in CHARGE_COLUMNS)


def detail_copy_sql(report: MonthlyReport) -> tuple[str, tuple]:
    """Return the COPY statement that writes 明細 as CSV rows exactly as `csv_lines` would, and its params."""
    keys = [c.key for c in DETAIL_COLUMNS]
    # The rows of the 明細 queryset, with the stored keys of its order (not output) to sort by them alike.
    ordered = report.detail_rows.values_list(*keys, *DETAIL_ORDER).order_by()
    inner, params = ordered.query.sql_with_params()
    quote = connection.ops.quote_name
    triggers = ", ".join(str(ord(c)) for c in FORMULA_TRIGGERS)

    def formatted(column: Column) -> str:
        value = f"sub.{quote(column.key)}"
        if column.type == TEXT:
            # ascii() is the first character's code (0 for ''): no substring built per row and column.
            return f"CASE WHEN ascii({value}) IN ({triggers}) THEN '''' || {value} ELSE NULLIF({value}, '') END"
        if column.type == DATETIME:
            # Already the JST wall time (JstWallTime): cut to the second, printed as YYYY-MM-DD HH:MI:SS under
            # DateStyle ISO (set below), which costs PostgreSQL less than to_char.
            return f"date_trunc('second', {value})"
        return value  # integers as they are, dates as YYYY-MM-DD (DateStyle ISO)

    select = ", ".join(formatted(c) for c in DETAIL_COLUMNS)
    order = ", ".join(f"sub.{quote(key)}" for key in DETAIL_ORDER)
    return f"COPY (SELECT {select} FROM ({inner}) AS sub ORDER BY {order}) TO STDOUT WITH (FORMAT csv)", params


def _detail_csv_by_copy(report: MonthlyReport, encode: Callable[[str], bytes]) -> Iterator[bytes]:
    sql, params = detail_copy_sql(report)
    passthrough = encode is _utf8
    reading = connections[read_alias()]  # inside report_snapshot(): the connection the queryset reads on
    reading.ensure_connection()
    with reading.connection.cursor() as cursor:
        cursor.execute("SET LOCAL datestyle = 'ISO, YMD'")  # whatever the server's default, for this export only
        with cursor.copy(sql, params) as copy:
            batch: list = []
            for row in copy:  # one CSV line per chunk
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    count_rows(len(batch))
                    data = b"".join(batch)
                    yield data if passthrough else encode(data.decode())
                    batch = []
            if batch:
                count_rows(len(batch))
                data = b"".join(batch)
                yield data if passthrough else encode(data.decode())


def _utf8(text: str) -> bytes:
    return text.encode()


def _encoder(fmt: str, replacement: str | None) -> Callable[[str], bytes]:
    if fmt != CSV_CP932:
        return _utf8
    if replacement is not None:
        handler = _replacement_handler(replacement)
        return lambda text: text.encode("cp932", errors=handler)

    def strict(text: str) -> bytes:
        try:
            return text.encode("cp932")
        except UnicodeEncodeError as error:
            # _require_cp932 checked every text before the first byte; this is the last line.
            line = text[: error.start].rsplit("\n", 1)[-1] + text[error.start :].split("\n", 1)[0]
            raise DomainError(f"{_unencodable(error.object[error.start])}（行: {line[:40]}…）") from error

    return strict


def _replacement_handler(replacement: str) -> str:
    name = "monthly-report-cp932-" + replacement.encode("unicode_escape").decode("ascii")
    try:
        codecs.lookup_error(name)
    except LookupError:
        codecs.register_error(name, lambda error: (replacement, error.end))
    return name


def _require_safe_replacement(replacement: str) -> None:
    """A replacement is written as is, inside CSV fields: it must not start a formula or break the CSV."""
    bad = set(replacement) & (set(FORMULA_TRIGGERS) | set(',"\r\n'))
    if len(replacement) > 4 or bad:
        raise DomainError(
            '置き換える文字は4文字以内で、「= + - @ , "」やタブ・改行を含まないものを指定してください。',
            code="replacement_unsafe",
        )
    try:
        replacement.encode("cp932")
    except UnicodeEncodeError as error:
        raise DomainError(_unencodable(replacement[error.start], "置き換える文字")) from error


def _unencodable(char: str, where: str = "") -> str:
    prefix = f"{where}に" if where else ""
    return f"{prefix}cp932 で表せない文字「{char}」(U+{ord(char):04X}) があります"


def _first_unencodable(text: str) -> str | None:
    try:
        text.encode("cp932")
    except UnicodeEncodeError as error:
        return text[error.start]
    return None


def _require_cp932(report: MonthlyReport, part: str) -> None:
    """Refuse, naming the record and the character, a cp932 export that would have to alter a character."""
    for record, text in _texts(report, part):
        char = _first_unencodable(text or "")
        if char is not None:
            raise DomainError(
                f"{record}に cp932 で表せない文字「{char}」(U+{ord(char):04X}) があります。"
                "UTF-8 の CSV か XLSX で出力するか、置き換える文字を指定してください。",
                code="not_cp932",
            )


def _texts(report: MonthlyReport, part: str) -> Iterator[tuple[str, str]]:
    """Yield (record, text) for every text the part would write (headers and labels included)."""
    _name, columns = PARTS[part]
    for column in columns:
        yield f"見出し「{column.key}」", column.label
    if part == DETAIL:
        for value, label in LedgerKind.choices:
            yield f"種別 {value} の表示名", label
        yield from _detail_texts(report.closes)
    elif part == CHARGES:
        for row in report.charge_rows:
            for column in CHARGE_COLUMNS:
                if column.type != TEXT:
                    continue
                if column.key == "subscriber_code":
                    record = f"契約者 {row.subscriber_code} の契約者コード"
                elif column.key == "subscriber_name":
                    record = f"契約者 {row.subscriber_code} の名称"
                else:
                    record = f"契約番号 {row.option_contract_id} の{column.label}"
                yield record, getattr(row, column.key)
    else:
        for row in summary_table(report):
            for column, value in zip(SUMMARY_COLUMNS, row, strict=True):
                if column.type == TEXT and value:
                    yield f"集計「{row[0]}」の{column.label}", value


def _detail_texts(closes: Closes) -> Iterator[tuple[str, str]]:
    """The texts of 明細 by where they come from: a few scans of the month's rows, not a pass over the export."""
    rows = LedgerEntry.objects.filter(ledger_scope(closes), kind__in=OBLIGATION_KINDS)
    subscribers = Subscriber.objects.filter(pk__in=rows.values("option_contract__subscriber_id")).annotate(
        as_reported_code=subscriber_field(closes, "code", path=""),
        as_reported_name=subscriber_field(closes, "name", path=""),
    )
    # Read in chunks: a month can have as many subscribers as rows, and memory stays flat.
    texts = subscribers.values_list("as_reported_code", "as_reported_name").order_by("code")
    for code, name in texts.iterator(chunk_size=BATCH_ROWS):
        yield f"契約者 {code} の契約者コード", code
        yield f"契約者 {code} の名称", name
    combos = rows.values_list(
        "fee_item__option__code",
        "fee_item__option__name",
        "fee_item__variant__code",
        "fee_item__variant__name",
        "revision__amended_on",
        "revision__title",
        "article",
        "application__decided_by__username",
        "option_contract__approved_by__username",
        "created_by__username",
    ).distinct()
    for option_code, option, variant_code, variant, amended_on, title, article, *users in combos.order_by():
        yield f"オプション {option_code} の名称", option
        yield f"サービス・細目 {option_code}/{variant_code} の名称", variant
        yield f"改定（{amended_on:%Y-%m-%d}変更）の表題", title
        yield f"オプション {option_code} の根拠条文", article
        for username in users:
            if username:
                yield f"職員 {username} のユーザー名", username
    reasons = rows.exclude(reason="").values_list("pk", "reason").order_by("pk")
    for pk, reason in reasons.iterator(chunk_size=BATCH_ROWS):
        yield f"台帳番号 {pk} の理由", reason


# --- XLSX --------------------------------------------------------------------------------------------------


def _xlsx(month: dt.date) -> Iterator[bytes]:
    with report_snapshot():
        report = monthly_report(month=month)
        # Zip timestamps from the data, not the clock: a closed month's workbook is the same bytes every time.
        modified = (report.close.closed_at if report.close else clock.now()).astimezone(clock.JST)
        sheets = [
            Sheet("明細", DETAIL_COLUMNS, report.detail_rows.iterator(chunk_size=BATCH_ROWS)),
            # 月額 and 集計 are computed only once 明細 has been written (the generators start late).
            Sheet("月額", CHARGE_COLUMNS, (charge_values(row) for row in _lazy(lambda: report.charge_rows))),
            Sheet("集計", SUMMARY_COLUMNS, _lazy(lambda: summary_table(report))),
        ]
        yield from xlsx_chunks(sheets, modified=modified.replace(tzinfo=None))


def _lazy(produce: Callable[[], Iterable]) -> Iterator:
    yield from produce()
