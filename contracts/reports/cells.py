"""What CSV and XLSX cells share: formula neutralisation, and formatting each distinct text once."""

from collections.abc import Callable

# The rule itself is the product's, shared with every list's CSV download (core.cells).
from core.cells import FORMULA_TRIGGERS, neutralise

__all__ = ["FORMULA_TRIGGERS", "memoised", "neutralise"]


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
