"""The export log searched by day (a JST range), staff member, kind, outcome and file name."""

import django_filters as filters
from django import forms
from django.contrib.auth import get_user_model

from contracts.filters import WarekiDayFromFilter, WarekiDayToFilter
from core.forms import TextRuleFormMixin

from .choices import DownloadOutcome, ExportKind
from .models import ExportLog


def _staff(request=None):
    return get_user_model().objects.filter(pk__in=ExportLog.objects.values("user_id")).order_by("username", "pk")


class ExportLogSearchForm(TextRuleFormMixin, forms.Form):
    pass


class ExportLogFilter(filters.FilterSet):
    date_from = WarekiDayFromFilter(label="日付（から）", field_name="at")
    date_to = WarekiDayToFilter(label="日付（まで）", field_name="at")
    user = filters.ModelChoiceFilter(label="職員", queryset=_staff, empty_label="すべて")
    kind = filters.ChoiceFilter(label="種類", choices=ExportKind.choices, empty_label="すべて")
    outcome = filters.ChoiceFilter(label="結果", choices=DownloadOutcome.choices, empty_label="すべて")
    filename = filters.CharFilter(label="ファイル名（部分一致）", lookup_expr="icontains", max_length=100)

    class Meta:
        model = ExportLog
        fields = ()
        form = ExportLogSearchForm
