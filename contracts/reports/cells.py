"""What CSV and XLSX cells share: formula neutralisation, and formatting each distinct text once."""

from collections.abc import Callable

# OWASP "CSV injection": a cell beginning with one of these is read as a formula by spreadsheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix text that a spreadsheet would read as a formula with a single quote (CSV and XLSX alike)."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def memoised(format_text: Callable[[str], str], *, blank: str, limit: int = 4096) -> Callable[[str | None], str]:
    """Return `format_text` for one column, formatting each distinct text once; None and "" give `blank`.

    A column repeats its texts (option names, kinds, articles, a subscriber's name on each of its rows). The
    cache stops growing at `limit` texts, so memory stays flat however many rows are written.
    """
    cache: dict[str | None, str] = {None: blank, "": blank}
    known = cache.get

    def format_cell(value: str | None) -> str:
        cell = known(value)
        if cell is None:
            cell = format_text(value)
            if len(cache) < limit:
                cache[value] = cell
        return cell

    return format_cell
