"""A minimal XLSX writer that streams: the workbook is a zip (stream-zip) of SpreadsheetML written directly.

No temporary file and no whole sheet in memory: each sheet's rows are turned into XML as they are read and
compressed as they go. Cells are typed (text as inline strings, numbers, yen with a yen format, dates and
date-times as Excel serials with a date format), the header row is frozen, and text that a spreadsheet would
take for a formula is neutralised (`cells.neutralise`).
"""

import datetime as dt
import itertools
import operator
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from stream_zip import ZIP_32, stream_zip

from core.downloads import count_rows

from .cells import memoised, neutralise
from .layout import DATE, DATETIME, INT, TEXT, YEN, Column

# Excel's limit, header row included. A sheet with more rows continues on "<name>(2)", "<name>(3)", …
MAX_ROWS_PER_SHEET = 1_048_576


@dataclass
class Sheet:
    name: str
    columns: Sequence[Column]
    rows: Iterable[tuple]  # read only when the sheet is written: pass a generator to compute rows late


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# Style indexes in styles.xml (cellXfs).
_STYLE = {TEXT: 0, INT: 0, YEN: 1, DATE: 2, DATETIME: 3}
_HEADER_STYLE = 4
_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="3">'
    '<numFmt numFmtId="164" formatCode="#,##0&quot;円&quot;"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="166" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    "</numFmts>"
    '<fonts count="2"><font><sz val="11"/><name val="游ゴシック"/><family val="3"/><charset val="128"/></font>'
    '<font><b/><sz val="11"/><name val="游ゴシック"/><family val="3"/><charset val="128"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="標準" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)

_ROOT_RELS = (
    _XML_HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)

# Characters XML 1.0 cannot hold or would alter (CR), and text Excel would read as its own _xHHHH_ escape.
_XML_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9A-Fa-f]{4}_")


def _escape_match(match: re.Match) -> str:
    found = match.group()
    if found == "&":
        return "&amp;"
    if found == "<":
        return "&lt;"
    if found == ">":
        return "&gt;"
    if found == "\r":
        return "&#13;"  # a character reference, or XML parsers turn it into LF
    if len(found) == 1:
        return f"_x{ord(found):04X}_"  # not allowed in XML 1.0 at all: Excel's own escape
    return "_x005F_" + found[1:]


# Texts that need none of the care below (the usual case) are written as they are.
_NEEDS_CARE = re.compile(r"^[=+\-@\s]|[&<>\x00-\x08\x0b-\x1f]|_x[0-9A-Fa-f]{4}_|\s$")


def _text_cell(value: str) -> str:
    if not _NEEDS_CARE.search(value):
        return f'<c t="inlineStr"><is><t>{value}</t></is></c>'
    text = neutralise(value)
    if _XML_SPECIAL.search(text):
        text = _XML_SPECIAL.sub(_escape_match, text)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


_EXCEL_EPOCH_ORDINAL = dt.date(1899, 12, 30).toordinal()
_UNIX_EPOCH_SERIAL = 25569  # 1970-01-01
_JST_OFFSET_SECONDS = 9 * 3600  # Asia/Tokyo has had no daylight saving time since 1951


def date_serial(value: dt.date) -> int:
    return value.toordinal() - _EXCEL_EPOCH_ORDINAL


def datetime_serial(value: dt.datetime) -> float:
    """Excel serial of a JST wall time (naive, or an aware instant shown in JST), to the second."""
    if value.tzinfo is not None:
        seconds = int(value.timestamp()) + _JST_OFFSET_SECONDS
        days, rest = divmod(seconds, 86400)
        return _UNIX_EPOCH_SERIAL + days + rest / 86400
    return value.toordinal() - _EXCEL_EPOCH_ORDINAL + (value.hour * 3600 + value.minute * 60 + value.second) / 86400


def _cell_writer(column_type: str):
    if column_type == TEXT:
        return memoised(_text_cell, blank="<c/>")
    if column_type == INT:
        return lambda v: "<c/>" if v is None else f"<c><v>{v}</v></c>"
    if column_type == YEN:
        return lambda v: "<c/>" if v is None else f'<c s="1"><v>{v}</v></c>'
    if column_type == DATE:
        return lambda v: "<c/>" if v is None else f'<c s="2"><v>{date_serial(v)}</v></c>'
    if column_type == DATETIME:
        return lambda v: "<c/>" if v is None else f'<c s="3"><v>{datetime_serial(v)!r}</v></c>'
    raise ValueError(column_type)


def _sheet_xml(columns: Sequence[Column], rows: Iterable[tuple], batch: int = 500) -> Iterator[bytes]:
    head = [
        _XML_HEAD,
        f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">',
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>",
        "<cols>",
        *(f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"/>' for i, c in enumerate(columns, 1)),
        "</cols><sheetData>",
        "<row>",
        *(f'<c t="inlineStr" s="{_HEADER_STYLE}"><is><t>{c.label}</t></is></c>' for c in columns),
        "</row>",
    ]
    yield "".join(head).encode()
    # Cells carry no reference: each row writes every column (an empty <c/> for a blank), in order.
    writers = [_cell_writer(c.type) for c in columns]
    pending = []
    for row in rows:
        pending.append("<row>" + "".join(map(operator.call, writers, row)) + "</row>")
        if len(pending) >= batch:
            count_rows(len(pending))
            yield "".join(pending).encode()
            pending = []
    count_rows(len(pending))
    pending.append("</sheetData></worksheet>")
    yield "".join(pending).encode()


def _workbook(names: list[str]) -> str:
    sheets = "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, 1))
    return (
        _XML_HEAD + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(count: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    return (
        _XML_HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'{rels}<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )


def _content_types(count: int) -> str:
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet}"/>' for i in range(1, count + 1)
    )
    return (
        _XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>"
    )


def xlsx_chunks(sheets: Iterable[Sheet], *, modified: dt.datetime, level: int = 1) -> Iterator[bytes]:
    """Yield the bytes of a workbook of `sheets`, in order, as they are produced.

    Members are written in the order the data arrives: the sheets first, each read only when the previous one
    is done, then the workbook, its relationships and [Content_Types].xml, which name the sheets (Excel itself
    writes [Content_Types].xml last; readers go by the zip's central directory). So a sheet past Excel's row
    limit simply continues on "<name>(2)", … without counting first, and the first bytes leave at once.
    ZIP_32 members: what every spreadsheet reads (a sheet would pass 4 GiB only at several KB per row times
    Excel's row limit). Deflate level 1: sheet XML compresses well even at the fastest level, and compression
    is most of the CPU time otherwise.
    """
    yield from stream_zip(
        _members(sheets, modified),
        get_compressobj=lambda: zlib.compressobj(level=level, memLevel=8, wbits=-zlib.MAX_WBITS),
        extended_timestamps=False,
    )


_END = object()


def _members(sheets: Iterable[Sheet], modified: dt.datetime):
    def member(path: str, chunks: Iterable[bytes]):
        return (path, modified, 0o644, ZIP_32, chunks)

    yield member("_rels/.rels", (_ROOT_RELS.encode(),))
    yield member("xl/styles.xml", (_STYLES.encode(),))
    per_sheet = MAX_ROWS_PER_SHEET - 1
    names: list[str] = []
    for sheet in sheets:
        rows = iter(sheet.rows)
        part = 0
        while True:
            # stream-zip asks for the next member only once the previous one is written, so this peek reads
            # the row after the ones the previous part took.
            head = next(rows, _END)
            if head is _END and part:
                break
            part += 1
            names.append(sheet.name if part == 1 else f"{sheet.name}({part})")
            body = () if head is _END else itertools.chain((head,), itertools.islice(rows, per_sheet - 1))
            yield member(f"xl/worksheets/sheet{len(names)}.xml", _sheet_xml(sheet.columns, body))
            if head is _END:
                break
    yield member("xl/workbook.xml", (_workbook(names).encode(),))
    yield member("xl/_rels/workbook.xml.rels", (_workbook_rels(len(names)).encode(),))
    yield member("[Content_Types].xml", (_content_types(len(names)).encode(),))
