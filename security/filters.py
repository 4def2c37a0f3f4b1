import datetime as dt

import django_filters as filters
from django import forms

from core import clock
from core.fields import WarekiDateField

from .models import AuthEvent, AuthEventKind


class WarekiDayFilter(filters.Filter):
    """Events of one day in JST, the day entered in 和暦 or Western."""

    field_class = WarekiDateField

    def filter(self, qs, value):
        if value is None:
            return qs
        start = clock.jst_midnight(value)
        return qs.filter(at__gte=start, at__lt=clock.jst_midnight(value + dt.timedelta(days=1)))


class AddressFilter(filters.CharFilter):
    field_class = forms.GenericIPAddressField


class AuthEventFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(label="種別", choices=AuthEventKind.choices, empty_label="すべて")
    username = filters.CharFilter(label="ユーザー名", field_name="username", lookup_expr="iexact")
    ip_address = AddressFilter(label="送信元アドレス", field_name="ip_address")
    on = WarekiDayFilter(label="日付")

    class Meta:
        model = AuthEvent
        fields = ()
