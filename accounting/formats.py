"""The journal files the accounting systems import: 弥生インポート形式, freee 仕訳帳 import, マネーフォワード
クラウド会計 仕訳帳 import. Each format is one declaration (columns, encoding, line ending, date format,
limits); the vendors' definitions they follow, with their dates, and every assumption are in
docs/journal_exports.md."""

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core.downloads import count_rows
from core.errors import DomainError

from .choices import TaxClass
from .journals import Journal, JournalLine, journal_of

YAYOI, FREEE, MF = "journal-yayoi", "journal-freee", "journal-mf"
OUTSIDE_TAX = "対象外"  # the receivable's side: not a taxable sale
MEMO_WIDTH = 64  # 摘要: 弥生's limit (half-width units, a full-width character counting two), the strictest
AMOUNT_DIGITS = 11  # 金額: 弥生's limit (11 digits), the strictest of the three


def width(text: str) -> int:
    """Half-width units as the products count them: the cp932 bytes (a full-width character counts two)."""
    return len(text.encode("cp932", errors="replace"))


def clip(text: str, limit: int) -> str:
    """`text` cut at `limit` half-width units, never inside a character."""
    out, used = [], 0
    for char in text:
        used += width(char)
        if used > limit:
            break
        out.append(char)
    return "".join(out)


def memo(journal: Journal, line: JournalLine) -> str:
    month = journal.month
    # The month, kind and rate first: a long option name is what the limit cuts.
    text = f"{month.year}年{month.month}月分 {line.kind_label} {line.rate_percent}% {line.option_name}"
    return clip(text, MEMO_WIDTH)


@dataclass(frozen=True)
class Side:
    account: str
    sub_account: str
    department: str
    tax_class: str
    amount_yen: int
    tax_yen: int


def sides(line: JournalLine, tax_names: dict[str, str]) -> tuple[Side, Side]:
    """(debit, credit) of the line: the receivable against the sale, swapped for a negative line."""
    m = line.mapping
    gross, tax = abs(line.gross_yen), abs(line.tax_yen)
    receivable = Side(m.debit_account, m.debit_sub_account, "", OUTSIDE_TAX, gross, 0)
    sale = Side(m.credit_account, m.credit_sub_account, m.department, tax_names[line.tax_class], gross, tax)
    return (sale, receivable) if line.reversed else (receivable, sale)


def _yayoi_row(journal: Journal, line: JournalLine, debit: Side, credit: Side) -> list:
    day = f"{line.day:%Y/%m/%d}"
    return [
        "2000", "", "", day,
        debit.account, debit.sub_account, debit.department, debit.tax_class, debit.amount_yen, debit.tax_yen,
        credit.account, credit.sub_account, credit.department, credit.tax_class, credit.amount_yen, credit.tax_yen,
        memo(journal, line), "", "", "0", "", "", "0", "0", "no",
    ]  # fmt: skip


def _freee_row(journal: Journal, line: JournalLine, debit: Side, credit: Side) -> list:
    return [
        f"{line.day:%Y/%m/%d}", line.number, "",
        debit.account, debit.amount_yen, debit.tax_class, debit.tax_yen, debit.sub_account, debit.department,
        credit.account, credit.amount_yen, credit.tax_class, credit.tax_yen, credit.sub_account, credit.department,
        memo(journal, line),
    ]  # fmt: skip


def _mf_row(journal: Journal, line: JournalLine, debit: Side, credit: Side) -> list:
    return [
        line.number, f"{line.day:%Y/%m/%d}",
        debit.account, debit.sub_account, debit.department, "", debit.tax_class, "", debit.amount_yen, debit.tax_yen,
        credit.account, credit.sub_account, credit.department, "", credit.tax_class, "", credit.amount_yen,
        credit.tax_yen,
        memo(journal, line), "", "", "", "", "", "", "", "",
    ]  # fmt: skip


@dataclass(frozen=True)
class JournalFormat:
    key: str
    label: str
    encoding: str
    content_type: str
    header: tuple[str, ...] | None
    tax_names: dict[str, str]
    row: Callable[[Journal, JournalLine, Side, Side], list]
    line_ending: str = "\r\n"


FORMATS = {
    YAYOI: JournalFormat(
        YAYOI,
        "弥生会計（弥生インポート形式）",
        "cp932",
        "text/csv; charset=Windows-31J",
        None,  # the 弥生 format has no header line
        {
            TaxClass.SALES_10: "課税売上込10%",
            TaxClass.SALES_8: "課税売上込8%",
            TaxClass.SALES_8_REDUCED: "課税売上込軽減8%",
            TaxClass.SALES_5: "課税売上込5%",
        },
        _yayoi_row,
    ),
    FREEE: JournalFormat(
        FREEE,
        "freee会計（仕訳帳インポート）",
        "utf-8",
        "text/csv; charset=utf-8",
        (
            "日付",
            "伝票番号",
            "決算整理仕訳",
            "借方勘定科目",
            "借方金額",
            "借方税区分",
            "借方税額",
            "借方品目",
            "借方部門",
            "貸方勘定科目",
            "貸方金額",
            "貸方税区分",
            "貸方税額",
            "貸方品目",
            "貸方部門",
            "摘要",
        ),  # fmt: skip
        {
            TaxClass.SALES_10: "課税売上10%",
            TaxClass.SALES_8: "課税売上8%",
            TaxClass.SALES_8_REDUCED: "課税売上8%（軽）",
            TaxClass.SALES_5: "課税売上5%",
        },
        _freee_row,
    ),
    MF: JournalFormat(
        MF,
        "マネーフォワード クラウド会計（仕訳帳インポート）",
        "utf-8",
        "text/csv; charset=utf-8",
        (
            "取引No",
            "取引日",
            "借方勘定科目",
            "借方補助科目",
            "借方部門",
            "借方取引先",
            "借方税区分",
            "借方インボイス",
            "借方金額(円)",
            "借方税額",
            "貸方勘定科目",
            "貸方補助科目",
            "貸方部門",
            "貸方取引先",
            "貸方税区分",
            "貸方インボイス",
            "貸方金額(円)",
            "貸方税額",
            "摘要",
            "仕訳メモ",
            "タグ",
            "MF仕訳タイプ",
            "決算整理仕訳",
            "作成日時",
            "作成者",
            "最終更新日時",
            "最終更新者",
        ),  # fmt: skip
        {
            TaxClass.SALES_10: "課税売上 10%",
            TaxClass.SALES_8: "課税売上 8%",
            TaxClass.SALES_8_REDUCED: "課税売上 (軽)8%",
            TaxClass.SALES_5: "課税売上 5%",
        },
        _mf_row,
    ),
}


def journal_rows(journal: Journal, fmt: JournalFormat) -> list[list]:
    """The file's rows (header first, if the format has one); a line beyond the limits is refused, named."""
    rows: list[list] = [list(fmt.header)] if fmt.header else []
    for line in journal.lines:
        debit, credit = sides(line, fmt.tax_names)
        if len(str(debit.amount_yen)) > AMOUNT_DIGITS:
            raise DomainError(
                f"仕訳{line.number}行目（{line.option_name}・{line.kind_label}）の金額が{AMOUNT_DIGITS}桁を超えるため、"
                f"{fmt.label}の形式で出力できません。",
                code="journal_amount_too_large",
            )
        rows.append(fmt.row(journal, line, debit, credit))
    return rows


def journal_bytes(journal: Journal, fmt: JournalFormat) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=fmt.line_ending).writerows(journal_rows(journal, fmt))
    text = buffer.getvalue()
    try:
        return text.encode(fmt.encoding)
    except UnicodeEncodeError as error:
        bad = text[error.start]
        raise DomainError(
            f"「{bad}」（U+{ord(bad):04X}）は {fmt.encoding} で表せないため、{fmt.label}の形式で出力できません。"
            "オプション名や勘定科目の対応を確かめてください。",
            code="journal_encoding",
        ) from None


def journal_filename(month: dt.date, key: str) -> str:
    return f"{key}-{month:%Y-%m}.csv"


def journal_export(*, month: dt.date, fmt: str) -> tuple[str, str, Iterator[bytes]]:
    """Return (filename, content type, bytes) of the closed month's journal in `fmt`; every refusal (unknown
    format, month not closed, a missing mapping, a limit) is a DomainError raised before the first byte."""
    if fmt not in FORMATS:
        raise DomainError(
            "仕訳の出力形式は journal-yayoi、journal-freee、journal-mf のいずれかを指定してください。",
            code="unknown_format",
        )
    journal = journal_of(month=month)
    spec = FORMATS[fmt]
    data = journal_bytes(journal, spec)
    count_rows(len(journal.lines))
    return journal_filename(journal.month, fmt), spec.content_type, iter([data])
