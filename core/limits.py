"""The one declaration of sane bounds on what staff enter (dates, numbers, texts): a value outside them is a
typing error, refused with a message that names the field, never stored and never a database overflow.

Dates run from the first day of 平成 (1989-01-08) to 2099-12-31: the regulation and every contract the back office
holds (migrated ones reach back to 平成16年) lie within; a rule that needs more says so where it is checked.
"""

import datetime as dt
import enum

from .errors import DomainError
from .wareki import format_date

DATE_MIN = dt.date(1989, 1, 8)
DATE_MAX = dt.date(2099, 12, 31)
QUANTITY_MAX = 1_000_000
YEN_MAX = 2_000_000_000
PAGE_MAX = 100_000


def date_out_of_bounds(value: dt.date) -> str:
    """Return why `value` cannot be a date of the back office, or "" when it can."""
    if DATE_MIN <= value <= DATE_MAX:
        return ""
    return f"{format_date(DATE_MIN)}から{format_date(DATE_MAX)}までの日付を入力してください。"


def date_assert_in_bounds(value: dt.date | None, *, label: str) -> None:
    """Refuse a date outside the bounds in a service (the last line behind the form fields)."""
    if value is None:
        return
    problem = date_out_of_bounds(value)
    if problem:
        raise DomainError(f"{label}: {problem}", code="date_out_of_bounds")


class Number(enum.Enum):
    """The kinds of number staff enter, each with its bounds (inclusive)."""

    QUANTITY = (1, QUANTITY_MAX, "")
    YEN = (0, YEN_MAX, "円")
    PAGE = (1, PAGE_MAX, "")

    @property
    def minimum(self) -> int:
        return self.value[0]

    @property
    def maximum(self) -> int:
        return self.value[1]


def number_out_of_bounds(value, kind: Number) -> str:
    """Return why `value` cannot be a number of `kind`, or "" when it can."""
    if not isinstance(value, bool) and isinstance(value, int) and kind.minimum <= value <= kind.maximum:
        return ""
    unit = kind.value[2]
    return f"{kind.minimum:,}{unit}以上{kind.maximum:,}{unit}以下の整数で入力してください。"


def number_assert_in_bounds(value, *, kind: Number, label: str, code: str = "number_out_of_bounds") -> int:
    """Refuse a number outside its bounds, or not a whole number, in a service (the last line behind the form
    fields); return it. `code` lets a caller keep the DomainError code its callers map to a column."""
    problem = number_out_of_bounds(value, kind)
    if problem:
        raise DomainError(f"{label}: {problem}", code=code)
    return value
