"""Filters of the staff lists (django-filter); each list page is queryset + filterset + table."""

import django_filters as filters
from django import forms
from django.db.models import Exists, OuterRef

from contracts.billing.timeline import contract_state_q
from core import clock
from core.clock import next_month
from core.fields import WarekiMonthField
from options.models import Option

from .choices import ApplicationKind, ApplicationStatus, ContractState, LedgerKind, OptionContractStatus, SubscriberKind
from .models import Application, LedgerEntry, OptionContract, Subscriber


class WarekiMonthFilter(filters.Filter):
    """A month entered in 和暦 or Western; matches dates within that month."""

    field_class = WarekiMonthField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": value, f"{self.field_name}__lt": next_month(value)})


def _options(request=None):
    return Option.objects.select_related("section").order_by("section__number", "name", "pk")


class SubscriberFilter(filters.FilterSet):
    q = filters.CharFilter(label="検索（コード・名前・フリガナ・電話番号）", method="search")
    kind = filters.ChoiceFilter(label="区分", choices=SubscriberKind.choices, empty_label="すべて")
    is_active = filters.BooleanFilter(
        label="有効・無効",
        widget=forms.Select(choices=[("", "すべて"), ("true", "有効のみ"), ("false", "無効のみ")]),
    )
    option = filters.ModelChoiceFilter(
        label="利用中のオプション", queryset=_options, method="holding", empty_label="すべて"
    )

    class Meta:
        model = Subscriber
        fields = ()

    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.matching(value)

    def holding(self, queryset, name, value):
        held = OptionContract.objects.filter(subscriber=OuterRef("pk"), option=value).exclude(
            end_date__lt=clock.today()
        )
        return queryset.filter(Exists(held))


class ApplicationFilter(filters.FilterSet):
    status = filters.ChoiceFilter(label="状態", choices=ApplicationStatus.choices, empty_label="すべて")
    kind = filters.ChoiceFilter(label="申込種別", choices=ApplicationKind.choices, empty_label="すべて")
    option = filters.ModelChoiceFilter(label="オプション", queryset=_options, empty_label="すべて")
    subscriber = filters.CharFilter(label="契約者コード", field_name="subscriber__code", lookup_expr="istartswith")
    mine = filters.BooleanFilter(label="自分が受付した申込", method="entered_by_me", widget=forms.CheckboxInput)

    class Meta:
        model = Application
        fields = ()

    def entered_by_me(self, queryset, name, value):
        return queryset.filter(entered_by=self.request.user) if value else queryset


class OptionContractFilter(filters.FilterSet):
    state = filters.ChoiceFilter(
        label="状態（本日）", choices=ContractState.choices, empty_label="すべて", method="state_today"
    )
    option = filters.ModelChoiceFilter(label="オプション", queryset=_options, empty_label="すべて")
    subscriber = filters.CharFilter(label="契約者コード", field_name="subscriber__code", lookup_expr="istartswith")
    awaiting_billing_start = filters.BooleanFilter(
        label="課金開始日の入力待ち", method="awaiting", widget=forms.CheckboxInput
    )

    class Meta:
        model = OptionContract
        fields = ()

    def state_today(self, queryset, name, value):
        return queryset.filter(contract_state_q(value, clock.today())) if value else queryset

    def awaiting(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(status=OptionContractStatus.APPROVED, billing_start_date__isnull=True)


class LedgerFilter(filters.FilterSet):
    month = WarekiMonthFilter(label="計上月", field_name="booked_month")
    option = filters.ModelChoiceFilter(
        label="オプション", field_name="option_contract__option", queryset=_options, empty_label="すべて"
    )
    kind = filters.ChoiceFilter(label="種別", choices=LedgerKind.choices, empty_label="すべて")
    subscriber = filters.CharFilter(
        label="契約者コード", field_name="option_contract__subscriber__code", lookup_expr="istartswith"
    )

    class Meta:
        model = LedgerEntry
        fields = ()
