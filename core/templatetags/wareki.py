"""Date and money filters for staff screens; a builtin (settings TEMPLATES OPTIONS), so no {% load %}.

Aware datetimes are shown in JST whatever the active time zone.
"""

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.utils import timezone

from core.clock import JST
from core.wareki import format_date

register = template.Library()


def _jst_date(value: date) -> date:
    return timezone.localtime(value, JST).date() if isinstance(value, datetime) else value


@register.filter
def wareki(value: date | None) -> str:
    """`令和8年2月1日 (2026-02-01)`; None -> ''."""
    if value is None or value == "":
        return ""
    return format_date(_jst_date(value))


@register.filter
def wareki_only(value: date | None) -> str:
    """`令和8年2月1日`; None -> ''."""
    if value is None or value == "":
        return ""
    return format_date(_jst_date(value), western=False)


@register.filter
def wareki_datetime(value: datetime | None) -> str:
    """`令和8年2月1日 (2026-02-01) 09:30` in JST; None -> ''."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return format_date(value)
    local = timezone.localtime(value, JST)
    return f"{format_date(local.date())} {local:%H:%M}"


@register.filter
def yen(value: int | Decimal | None) -> str:
    """`3,000円`, `-3,000円`; None -> ''."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value != int(value):
        raise TypeError(f"yen needs a whole number of yen, not {value!r}")
    return f"{int(value):,}円"
