"""The one declaration of sane bounds on what staff enter (dates, numbers, texts): a value outside them is a
typing error, refused with a message that names the field, never stored and never a database overflow.

Dates run from the first day of 平成 (1989-01-08) to 2099-12-31: the regulation and every contract the back office
holds (migrated ones reach back to 平成16年) lie within; a rule that needs more says so where it is checked.
"""

import datetime as dt

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
