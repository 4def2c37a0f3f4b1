"""What every spreadsheet cell the product writes shares: formula neutralisation, and the CSV text of a field.

The monthly report (contracts/reports) and every staff list's CSV download (core.tables) write their cells
through these, so a list and the report are Excel-safe by one rule.
"""

import re

# OWASP "CSV injection": a cell beginning with one of these is read as a formula by spreadsheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# A UTF-8 CSV starts with the byte order mark, so Excel reads it as UTF-8 rather than as the locale's cp932.
BOM = "\ufeff".encode()

_CSV_SPECIAL = re.compile(r'[,"\r\n]')


def neutralise(text: str) -> str:
    """Prefix text that a spreadsheet would read as a formula with a single quote (CSV and XLSX alike)."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def csv_text(value: str | None) -> str:
    """A text field: neutralised against formulas, quoted only when PostgreSQL's COPY would quote it (a comma, a
    double quote, CR or LF)."""
    if not value:
        return ""
    text = neutralise(value)
    if _CSV_SPECIAL.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text
