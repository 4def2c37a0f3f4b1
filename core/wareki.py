"""Western date <-> Japanese era (和暦) conversion.

The earliest supported date is 1873-01-01 (明治6年1月1日): Japan adopted the Gregorian calendar that day
(the lunisolar 明治5年12月3日 became 明治6年1月1日), so earlier 明治 dates do not map onto Gregorian dates
by a fixed year offset. Anything before it is refused rather than converted wrongly.

Every refusal is a `WarekiError` whose message is Japanese, for staff.
"""

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

EARLIEST = date(1873, 1, 1)

FORMAT_MESSAGE = "日付の形式が正しくありません。例: 令和8年2月1日、R8.2.1、2026-02-01"
EMPTY_MESSAGE = "日付を入力してください。"
MONTH_FORMAT_MESSAGE = "年月の形式が正しくありません。例: 令和8年2月、R8.2、2026-02"
MONTH_EMPTY_MESSAGE = "年月を入力してください。"


class WarekiError(ValueError):
    """A date text or value that cannot be read or converted. `message` is Japanese."""

    def __init__(self, message: str, *, code: str = "invalid"):
        self.message = message
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: date  # first day; for 明治 the nominal start (dates before EARLIEST are refused anyway)
    end: date | None  # last day; None for the current era

    @property
    def offset(self) -> int:
        """Western year = offset + era year."""
        return self.start.year - 1

    def last_year(self) -> int | None:
        return None if self.end is None else self.end.year - self.offset


ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 1, 25), date(1912, 7, 29)),
    Era("大正", "T", date(1912, 7, 30), date(1926, 12, 24)),
    Era("昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "R", date(2019, 5, 1), None),
)
_BY_NAME = {era.name: era for era in ERAS}
_BY_LETTER = {era.letter: era for era in ERAS}


def _year_label(year: int) -> str:
    return "元" if year == 1 else str(year)


@dataclass(frozen=True)
class WarekiDate:
    era: str
    year: int
    month: int
    day: int

    def __str__(self) -> str:
        return f"{self.era}{_year_label(self.year)}年{self.month}月{self.day}日"

    @classmethod
    def from_date(cls, d: date) -> "WarekiDate":
        _require_date(d)
        if d < EARLIEST:
            raise WarekiError(_too_early(d.isoformat()), code="unsupported")
        era = next(era for era in reversed(ERAS) if era.start <= d)
        return cls(era.name, d.year - era.offset, d.month, d.day)

    def to_date(self) -> date:
        """Return the Western date, refusing years, days and eras that do not exist."""
        era = _era_named(self.era)
        _check_year(era, self.year)
        try:
            d = date(era.offset + self.year, self.month, self.day)
        except ValueError:
            raise WarekiError(f"存在しない日付です（{self}）。", code="no_such_date") from None
        if d < EARLIEST:
            raise WarekiError(_too_early(str(self)), code="unsupported")
        if d < era.start:
            start = WarekiDate.from_date(era.start)
            raise WarekiError(f"{self}は{era.name}の開始日（{start}）より前です。", code="before_era")
        if era.end is not None and d > era.end:
            end = WarekiDate.from_date(era.end)
            raise WarekiError(f"{self}は{era.name}の終了日（{end}）より後です。", code="after_era")
        return d


def to_wareki(d: date) -> str:
    """Return e.g. `令和8年2月1日` (`令和元年5月1日` for the first year)."""
    return str(WarekiDate.from_date(d))


def format_date(d: date, *, western: bool = True) -> str:
    """Return e.g. `令和8年2月1日 (2026-02-01)`, or only the 和暦 when `western` is false."""
    wareki = to_wareki(d)
    return f"{wareki} ({d.isoformat()})" if western else wareki


def format_month(d: date, *, western: bool = True) -> str:
    """Return the month of `d`, e.g. `令和8年2月 (2026-02)`, or only the 和暦 when `western` is false.

    A month that two eras share (1989-01: 昭和64年 and 平成元年) is named by the era of its first day."""
    w = WarekiDate.from_date(d.replace(day=1))
    wareki = f"{w.era}{_year_label(w.year)}年{w.month}月"
    return f"{wareki} ({d:%Y-%m})" if western else wareki


def format_year(year: int) -> str:
    """Return a Western year in 和暦 with the year beside it, e.g. `令和8年 (2026)`; a year two eras share names
    both (`平成31年・令和元年 (2019)`)."""
    first, last = WarekiDate.from_date(date(year, 1, 1)), WarekiDate.from_date(date(year, 12, 31))
    names = dict.fromkeys(f"{w.era}{_year_label(w.year)}年" for w in (first, last))
    return f"{'・'.join(names)} ({year})"


_ERA = "|".join(era.name for era in ERAS)
_YEAR = r"(元|\d{1,2})"
_DATE_PATTERNS = (
    ("era", re.compile(rf"({_ERA}){_YEAR}年(\d{{1,2}})月(\d{{1,2}})日", re.ASCII)),
    ("letter", re.compile(rf"([MTSHR]){_YEAR}([./-])(\d{{1,2}})\3(\d{{1,2}})", re.ASCII | re.IGNORECASE)),
    ("western", re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})", re.ASCII)),
    # The empty group stands for the separator, so both Western forms yield (year, sep, month, day).
    ("western", re.compile(r"(\d{4})()年(\d{1,2})月(\d{1,2})日", re.ASCII)),
)
_MONTH_PATTERNS = (
    ("era", re.compile(rf"({_ERA}){_YEAR}年(\d{{1,2}})月", re.ASCII)),
    ("letter", re.compile(rf"([MTSHR]){_YEAR}[./-](\d{{1,2}})", re.ASCII | re.IGNORECASE)),
    ("western", re.compile(r"(\d{4})[-/.](\d{1,2})", re.ASCII)),
    ("western", re.compile(r"(\d{4})年(\d{1,2})月", re.ASCII)),
)


def parse_date(text: str) -> date:
    """Read a date: 和暦 (`令和8年2月1日`, `令和 8 年 2 月 1 日`, `令和元年5月1日`, full-width digits),
    an abbreviation (`R8.2.1`, `h26/3/1`, `R08.02.01`) or Western (`2026-02-01`, `2026/2/1`, `2026年2月1日`).
    """
    compact = _normalize(text)
    if not compact:
        raise WarekiError(EMPTY_MESSAGE, code="required")
    both = _BOTH.fullmatch(compact)
    if both is not None:  # what format_date writes, `令和8年2月1日 (2026-02-01)`: both parts, agreeing
        return _agreeing(parse_date(both.group(1)), parse_date(both.group(2)), both.group(1), both.group(2))
    for kind, pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(compact)
        if match is None:
            continue
        if kind == "western":
            year, _sep, month, day = match.groups()
            return _western_date(int(year), int(month), int(day))
        if kind == "letter":
            letter, year, _sep, month, day = match.groups()
            era = _BY_LETTER[letter.upper()]
        else:
            name, year, month, day = match.groups()
            era = _BY_NAME[name]
        return WarekiDate(era.name, _era_year(year), int(month), int(day)).to_date()
    raise WarekiError(FORMAT_MESSAGE)


def parse_amendment_heading(text: str) -> date:
    """Return the date of a heading such as `平成 26 年 3 月 1 日変更`; anything after 日 is ignored."""
    head, sep, _suffix = _normalize(text).partition("日")
    return parse_date(head + sep)


def parse_month(text: str) -> date:
    """Read a month (`令和8年2月`, `R8.2`, `2026-02`, `2026/2`, `2026年2月`); return its first day."""
    compact = _normalize(text)
    if not compact:
        raise WarekiError(MONTH_EMPTY_MESSAGE, code="required")
    both = _BOTH.fullmatch(compact)
    if both is not None:  # what format_month writes, `令和8年2月 (2026-02)`
        return _agreeing(
            parse_month(both.group(1)), parse_month(both.group(2)), both.group(1), both.group(2), what="月"
        )
    for kind, pattern in _MONTH_PATTERNS:
        match = pattern.fullmatch(compact)
        if match is None:
            continue
        if kind == "western":
            year, month = match.groups()
            return _western_month(int(year), int(month))
        key, year, month = match.groups()
        era = _BY_LETTER[key.upper()] if kind == "letter" else _BY_NAME[key]
        return _era_month(era, _era_year(year), int(month))
    raise WarekiError(MONTH_FORMAT_MESSAGE)


# A 和暦 followed by the Western form in brackets (whitespace is dropped first; NFKC folds full-width brackets).
_BOTH = re.compile(r"([^()]+)\((\d{4}[-/.][\d./-]+)\)", re.ASCII)


def _agreeing(first: date, second: date, first_text: str, second_text: str, *, what: str = "日付") -> date:
    if first != second:
        raise WarekiError(
            f"{first_text}と{second_text}は同じ{what}ではありません。どちらか一方を入力してください。", code="mismatch"
        )
    return first


def _normalize(text: str) -> str:
    """Fold full-width characters (NFKC) and drop all whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _era_year(text: str) -> int:
    return 1 if text == "元" else int(text)


def _era_named(name: str) -> Era:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise WarekiError(FORMAT_MESSAGE) from None


def _require_date(d: object) -> None:
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"a date is required, not {type(d).__name__}; convert datetimes to JST dates first")


def _too_early(label: str) -> str:
    return f"{label}は対応している最も古い日付（明治6年1月1日）より前です。"


def _check_year(era: Era, year: int) -> None:
    last = era.last_year()
    if year < 1:
        raise WarekiError(f"{era.name}{year}年は存在しません。", code="no_such_year")
    if last is not None and year > last:
        end = WarekiDate.from_date(era.end)
        raise WarekiError(
            f"{era.name}{year}年は存在しません（{era.name}は{_year_label(last)}年{end.month}月{end.day}日まで）。",
            code="no_such_year",
        )


def _western_date(year: int, month: int, day: int) -> date:
    try:
        d = date(year, month, day)
    except ValueError:
        raise WarekiError(f"存在しない日付です（{year:04d}-{month:02d}-{day:02d}）。", code="no_such_date") from None
    if d < EARLIEST:
        raise WarekiError(_too_early(d.isoformat()), code="unsupported")
    return d


def _western_month(year: int, month: int) -> date:
    if not 1 <= month <= 12 or year < 1:
        raise WarekiError(f"存在しない月です（{year:04d}-{month:02d}）。", code="no_such_month")
    first = date(year, month, 1)
    if first < EARLIEST:
        raise WarekiError(
            f"{year:04d}-{month:02d}は対応している最も古い月（明治6年1月）より前です。", code="unsupported"
        )
    return first


def _era_month(era: Era, year: int, month: int) -> date:
    """A month belongs to an era when any of its days does (平成元年1月 and 昭和64年1月 both exist)."""
    _check_year(era, year)
    label = f"{era.name}{_year_label(year)}年{month}月"
    if not 1 <= month <= 12:
        raise WarekiError(f"存在しない月です（{label}）。", code="no_such_month")
    first = date(era.offset + year, month, 1)
    if first < EARLIEST:
        raise WarekiError(f"{label}は対応している最も古い月（明治6年1月）より前です。", code="unsupported")
    if first.replace(day=calendar.monthrange(first.year, first.month)[1]) < era.start:
        start = WarekiDate.from_date(era.start)
        raise WarekiError(
            f"{label}は{era.name}の開始月（{start.era}{_year_label(start.year)}年{start.month}月）より前です。",
            code="before_era",
        )
    if era.end is not None and first > era.end:
        end = WarekiDate.from_date(era.end)
        raise WarekiError(
            f"{label}は{era.name}の終了月（{end.era}{_year_label(end.year)}年{end.month}月）より後です。",
            code="after_era",
        )
    return first
