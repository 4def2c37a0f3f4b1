"""Form fields that read dates and months written as 和暦, abbreviations or Western dates.

A re-rendered initial value is shown in ISO form (`2026-02-01`, `2026-02`): simple and unambiguous.
"""

import unicodedata
from datetime import date, datetime

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError

from core.limits import date_out_of_bounds
from core.wareki import WarekiError, parse_date, parse_month

PLACEHOLDER = "令和8年2月1日 または 2026-02-01"


class WarekiDateField(forms.DateField):
    """Accept everything `core.wareki.parse_date` reads; its refusals become the form error."""

    placeholder = PLACEHOLDER
    display_format = "%Y-%m-%d"
    parse = staticmethod(parse_date)

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.DateInput(format=self.display_format, attrs={"placeholder": self.placeholder})
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

    def to_python(self, value) -> date | None:
        month = super().to_python(value)
        return None if month is None else month.replace(day=1)


class WarekiAdminDateWidget(AdminDateWidget):
    """The admin's date input with its calendar, wide enough for 和暦 (`令和8年2月1日`); the calendar writes ISO."""

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs={"size": "24", "placeholder": PLACEHOLDER, **(attrs or {})}, format=format or "%Y-%m-%d")


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
