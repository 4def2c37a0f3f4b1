"""Filters of the staff lists (django-filter); each list page is queryset + filterset + table."""

import datetime as dt

import django_filters as filters
from django import forms
from django.db.models import Exists, OuterRef

from contracts.billing.timeline import contract_state_q
from core import clock
from core.clock import jst_midnight, next_month
from core.fields import WarekiDateField, WarekiMonthField, YenAmountField
from core.limits import YEN_MAX
from core.search import text_for_storage
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


class WarekiDayFromFilter(filters.Filter):
    """The first JST day (和暦 or Western) of a range over a datetime: rows at or after its midnight."""

    field_class = WarekiDateField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": jst_midnight(value)})


class WarekiDayToFilter(WarekiDayFromFilter):
    """The last JST day of a range over a datetime, included: rows before the next day's midnight."""

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__lt": jst_midnight(value + dt.timedelta(days=1))})


class YenFilter(filters.NumberFilter):
    field_class = YenAmountField


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


class LedgerSearchForm(forms.Form):
    """A range whose end is before its start is refused by its end's field, and the list shows no rows."""

    def clean(self):
        data = super().clean()
        low, high = data.get("date_from"), data.get("date_to")
        if low and high and low > high:
            self.add_error("date_to", "取引年月日の「まで」には「から」と同じか後の日付を入力してください。")
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", "取引金額の「以下」には「以上」と同じか大きい金額を入力してください。")
        return data


class LedgerFilter(filters.FilterSet):
    """The ledger searched as 電子帳簿保存法 asks: 取引年月日 (a range of JST days of 支払義務発生日時), 取引金額 (a
    range, reversals negative) and 取引先 (the subscriber by code, name or フリガナ as typed, core.search), alone
    or combined; every row is reachable, closed months' rows, reversals and adjustments alike."""

    date_from = WarekiDayFromFilter(label="取引年月日（から）", field_name="arisen_at")
    date_to = WarekiDayToFilter(label="取引年月日（まで）", field_name="arisen_at")
    amount_min = YenFilter(
        label="取引金額（以上）", field_name="amount_yen", lookup_expr="gte", min_value=-YEN_MAX, max_value=YEN_MAX
    )
    amount_max = YenFilter(
        label="取引金額（以下）", field_name="amount_yen", lookup_expr="lte", min_value=-YEN_MAX, max_value=YEN_MAX
    )
    subscriber = filters.CharFilter(label="取引先（契約者コード・名前・フリガナ）", method="counterparty")
    month = WarekiMonthFilter(label="計上月", field_name="booked_month")
    option = filters.ModelChoiceFilter(
        label="オプション", field_name="option_contract__option", queryset=_options, empty_label="すべて"
    )
    kind = filters.ChoiceFilter(label="種別", choices=LedgerKind.choices, empty_label="すべて")
    reversal = filters.ChoiceFilter(
        label="取消",
        choices=[("only", "取消行のみ"), ("none", "取消行を除く")],
        empty_label="すべて",
        method="reversal_rows",
    )

    class Meta:
        model = LedgerEntry
        fields = ()
        form = LedgerSearchForm

    def counterparty(self, queryset, name, value):
        """A whole subscriber code names that subscriber alone (D0001 is not D00012, the subscriber page's link);
        anything else is searched in codes, names and フリガナ as staff typed it."""
        if not value.strip():
            return queryset
        exact = Subscriber.objects.filter(code=text_for_storage(value))
        counterparties = exact if exact.exists() else Subscriber.objects.matching(value)
        return queryset.filter(option_contract__subscriber__in=counterparties.values("pk"))

    def reversal_rows(self, queryset, name, value):
        if value == "only":
            return queryset.filter(reverses__isnull=False)
        if value == "none":
            return queryset.filter(reverses__isnull=True)
        return queryset
