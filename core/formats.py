"""How staff read dates and money everywhere (screens, tables, history, admin): 和暦 with the Western date beside
it, aware datetimes in JST whatever the active time zone, and whole yen."""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from core.clock import JST
from core.wareki import format_date, format_month, format_year


def _jst_date(value: date) -> date:
    return timezone.localtime(value, JST).date() if isinstance(value, datetime) else value


def wareki(value: date | None) -> str:
    """`令和8年2月1日 (2026-02-01)`; None -> ''."""
    if value is None or value == "":
        return ""
    return format_date(_jst_date(value))


def wareki_only(value: date | None) -> str:
    """`令和8年2月1日`; None -> ''."""
    if value is None or value == "":
        return ""
    return format_date(_jst_date(value), western=False)


def wareki_datetime(value: datetime | None) -> str:
    """`令和8年2月1日 (2026-02-01) 09:30` in JST; None -> ''."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return format_date(value)
    local = timezone.localtime(value, JST)
    return f"{format_date(local.date())} {local:%H:%M}"


def wareki_month(value: date | None) -> str:
    """`令和8年2月 (2026-02)`; None -> ''."""
    if value is None or value == "":
        return ""
    return format_month(_jst_date(value))


def wareki_year(year: int | None) -> str:
    """`令和8年 (2026)` for the Western year 2026 (`平成31年・令和元年 (2019)`); None -> ''."""
    if year is None or year == "":
        return ""
    return format_year(int(year))


def yen(value: int | Decimal | None) -> str:
    """`3,000円`, `-3,000円`; None -> ''."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value != int(value):
        raise TypeError(f"yen needs a whole number of yen, not {value!r}")
    return f"{int(value):,}円"
