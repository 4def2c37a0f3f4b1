"""Time as the regulation reasons about it: stored in UTC, reasoned in JST (DOMAIN §3.1)."""

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import DateTimeField, Func
from django.utils import timezone

JST = ZoneInfo("Asia/Tokyo")


def now() -> dt.datetime:
    """Return the current instant (aware, UTC). Tests move it with time-machine."""
    return timezone.now()


def jst_date(instant: dt.datetime) -> dt.date:
    """Return the JST calendar date of an aware instant."""
    return instant.astimezone(JST).date()


def today() -> dt.date:
    """Return today's date in JST."""
    return jst_date(now())


def jst_midnight(day: dt.date) -> dt.datetime:
    """Return the aware instant at which a JST day starts."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=JST)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=days_in_month(day))


def days_in_month(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def next_month(day: dt.date) -> dt.date:
    first = day.replace(day=1)
    return (first + dt.timedelta(days=32)).replace(day=1)


def month_bounds_utc(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Return [start, end) of a JST month as aware instants."""
    return jst_midnight(month_start(month)), jst_midnight(next_month(month))


class JstWallTime(Func):
    """An instant as its JST wall-clock time: a naive datetime on PostgreSQL, computed by the database.

    Reading it so costs psycopg's C loader instead of Django's Python one for time zone-aware values (half the
    time of reading 明細). Elsewhere the value stays the aware instant; `jst_wall_time` reads both alike.
    """

    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} AT TIME ZONE 'Asia/Tokyo')", params

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])


def jst_wall_time(value: dt.datetime) -> dt.datetime:
    """The naive JST wall-clock time of a `JstWallTime` value, whichever database gave it."""
    return value if value.tzinfo is None else value.astimezone(JST).replace(tzinfo=None)
