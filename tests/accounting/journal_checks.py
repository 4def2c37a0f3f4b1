"""What every journal of a closed month must satisfy, for the demo book and the random books alike."""

import csv
import datetime as dt
import io

from accounting.choices import JOURNAL_KINDS
from accounting.formats import FORMATS, FREEE, MF, YAYOI, journal_export
from accounting.journals import journal_of
from accounting.services import account_mapping_save
from contracts.reports import monthly_report
from options.models import Option

# (debit, credit) columns of the amounts and of the taxes, and how many header rows, per format (0-based).
AMOUNTS = {YAYOI: (8, 14), FREEE: (4, 10), MF: (8, 16)}
TAXES = {YAYOI: (9, 15), FREEE: (6, 12), MF: (9, 17)}
HEADER_ROWS = {YAYOI: 0, FREEE: 1, MF: 1}


def journal_file(month: dt.date, fmt: str) -> bytes:
    _name, _type, chunks = journal_export(month=month, fmt=fmt)
    return b"".join(chunks)


def journal_rows(fmt: str, data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode(FORMATS[fmt].encoding), newline="")))
    return rows[HEADER_ROWS[fmt] :]


def journal_files_checked(month: dt.date) -> dict[str, bytes]:
    """The month's three journal files, having checked: debit = credit on every row and in every file, integer
    yen never negative, and the tax of each rate equal to the report's to the yen."""
    journal = journal_of(month=month)
    report = monthly_report(month=month)
    report_tax = {r.rate_percent: r.tax_yen for r in report.summary.rates if r.amount_yen or r.tax_yen}
    journal_tax: dict[int, int] = {}
    for line in journal.lines:
        journal_tax[line.rate_percent] = journal_tax.get(line.rate_percent, 0) + line.tax_yen
    assert {r: t for r, t in journal_tax.items() if t} == {r: t for r, t in report_tax.items() if t}, month
    assert sum(line.amount_yen for line in journal.lines) == report.summary.total_excl_yen, month
    files = {}
    for fmt in FORMATS:
        data = journal_file(month, fmt)
        rows = journal_rows(fmt, data)
        assert len(rows) == len(journal.lines), (month, fmt)
        debit, credit = AMOUNTS[fmt]
        for row in rows:
            assert row[debit].isdigit() and row[debit] == row[credit], (month, fmt, row)
        signed_tax = sum(
            (int(row[TAXES[fmt][1]]) - int(row[TAXES[fmt][0]] or 0)) for row in rows
        )  # credit-side tax is a sale, debit-side tax a reversed one
        assert signed_tax == report.summary.total_tax_yen, (month, fmt)
        files[fmt] = data
    return files


def map_everything(actor, *, skip=()):
    for option in Option.objects.order_by("pk"):
        for kind in JOURNAL_KINDS:
            if (option.code, kind.value) in skip:
                continue
            account_mapping_save(
                option=option,
                kind=kind.value,
                values={"credit_sub_account": option.code[:24], "department": "ISP事業部"},
                actor=actor,
                reason="テストの対応",
            )
