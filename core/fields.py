"""Form fields that read dates and months written as 和暦, abbreviations or Western dates.

A filled-in date reads as every other date does, `令和8年2月1日 (2026-02-01)`, and is read back as it is shown
(core.wareki.parse_date accepts the pair when both parts name the same day). A month stays `2026-02`: month fields
are the report pages' GET forms, whose value is the page's address.
"""

import unicodedata
from datetime import date, datetime

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError

from core.limits import date_out_of_bounds
from core.wareki import WarekiError, format_date, parse_date, parse_month

PLACEHOLDER = "令和8年2月1日 または 2026-02-01"


class WarekiValueMixin:
    """A date input's filled-in value as staff read dates: `令和8年2月1日 (2026-02-01)` (what they type stays)."""

    def format_value(self, value):
        if isinstance(value, date) and not isinstance(value, datetime):
            try:
                return format_date(value)
            except WarekiError:  # before 明治6年: no 和暦; the Western date, which the field refuses anyway
                pass
        return super().format_value(value)


class WarekiDateInput(WarekiValueMixin, forms.DateInput):
    pass


class WarekiDateField(forms.DateField):
    """Accept everything `core.wareki.parse_date` reads; its refusals become the form error."""

    placeholder = PLACEHOLDER
    display_format = "%Y-%m-%d"
    parse = staticmethod(parse_date)
    widget_class = WarekiDateInput

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", self.widget_class(format=self.display_format, attrs={"placeholder": self.placeholder})
        )
        super().__init__(**kwargs)

    def to_python(self, value) -> date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if not text:
            return None
        try:
            parsed = self.parse(text)
        except WarekiError as error:
            raise ValidationError(error.message, code=error.code) from error
        problem = date_out_of_bounds(parsed)
        if problem:
            raise ValidationError(problem, code="date_out_of_bounds")
        return parsed


class WarekiMonthField(WarekiDateField):
    """Accept a month (`令和8年2月`, `R8.2`, `2026-02`, `2026/2`); the value is the month's first day."""

    placeholder = "令和8年2月 または 2026-02"
    display_format = "%Y-%m"
    parse = staticmethod(parse_month)
    widget_class = forms.DateInput

    def to_python(self, value) -> date | None:
        month = super().to_python(value)
        return None if month is None else month.replace(day=1)


class WarekiAdminDateWidget(WarekiValueMixin, AdminDateWidget):
    """The admin's date input with its calendar, wide enough for `令和8年12月31日 (2026-12-31)`. The calendar writes
    ISO (read as well); on a value in 和暦 it opens at the current month, as on an empty field (Django's
    DateTimeShortcuts reads only DATE_INPUT_FORMATS[0])."""

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs={"size": "28", "placeholder": PLACEHOLDER, **(attrs or {})}, format=format or "%Y-%m-%d")


class YenAmountField(forms.IntegerField):
    """A whole-yen amount as staff type it: `1,100`, `１１００`, `1100円`, `-1,100` (a reversal is negative)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "例: 1,100"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).strip().removesuffix("円").replace(",", "").strip()
            value = value.replace("\u2212", "-")  # the minus sign a Japanese input method types
        return super().to_python(value)
