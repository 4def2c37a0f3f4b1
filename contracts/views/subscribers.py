"""Subscribers: list, detail with everything they hold, registration and edits."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, FormView
from django.views.generic.detail import SingleObjectMixin
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from contracts import selectors
from contracts.filters import SubscriberFilter
from contracts.forms import SubscriberForm, SubscriberLookupForm
from contracts.models import (
    Application,
    BaseServiceContract,
    CarrierLineContract,
    LedgerEntry,
    OptionContract,
    Subscriber,
)
from contracts.services.subscribers import subscriber_create, subscriber_update
from contracts.tables import SubscriberTable
from core import clock
from core.errors import DomainError
from core.tables import PAGINATION
from core.views import TableListMixin
from core.wareki import format_date

from .base import StaffPermissionMixin, add_domain_error

DETAIL_ROWS = 50


class SubscriberListView(StaffPermissionMixin, TableListMixin, SingleTableMixin, FilterView):
    permission_required = "contracts.view_subscriber"
    template_name = "contracts/subscriber_list.html"
    filterset_class = SubscriberFilter
    table_class = SubscriberTable
    table_pagination = PAGINATION
    queryset = Subscriber.objects.order_by("code", "pk")


class SubscriberDetailView(StaffPermissionMixin, DetailView):
    """A subscriber with base contracts, carrier lines, option contracts, applications and ledger rows."""

    permission_required = "contracts.view_subscriber"
    template_name = "contracts/subscriber_detail.html"
    queryset = Subscriber.objects.prefetch_related(
        Prefetch(
            "base_contracts",
            queryset=BaseServiceContract.objects.select_related("service").order_by("start_date", "pk"),
        ),
        Prefetch(
            "carrier_lines",
            queryset=CarrierLineContract.objects.select_related("carrier_service__carrier", "confirmed_by").order_by(
                "start_date", "pk"
            ),
        ),
        Prefetch(
            "option_contracts",
            queryset=OptionContract.objects.select_related("option", "variant").order_by("contracted_on", "pk"),
        ),
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subscriber = self.object
        context["applications"] = (
            Application.objects.filter(subscriber=subscriber)
            .select_related("option", "variant", "entered_by", "decided_by")
            .order_by("-entered_at", "-pk")[:DETAIL_ROWS]
        )
        context["ledger_entries"] = (
            LedgerEntry.objects.filter(option_contract__subscriber=subscriber)
            .select_related("option_contract__option", "option_contract__variant", "revision")
            .order_by("-booked_month", "-arisen_at", "-pk")[:DETAIL_ROWS]
        )
        context["detail_rows"] = DETAIL_ROWS
        user, today = self.request.user, clock.today()
        context["actions"] = selectors.subscriber_actions(subscriber, user)
        context["base_contract_rows"] = selectors.base_contract_rows(subscriber.base_contracts.all(), user, on=today)
        context["carrier_line_rows"] = selectors.carrier_line_rows(subscriber.carrier_lines.all(), user, on=today)
        return context


class SubscriberCreateView(StaffPermissionMixin, FormView):
    permission_required = "contracts.add_subscriber"
    template_name = "contracts/subscriber_form.html"
    form_class = SubscriberForm

    def form_valid(self, form):
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            subscriber = subscriber_create(actor=self.request.user, **fields)
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"契約者「{subscriber}」を登録しました。")
        return redirect("contracts:subscriber_detail", pk=subscriber.pk)


class SubscriberUpdateView(StaffPermissionMixin, SingleObjectMixin, FormView):
    permission_required = "contracts.change_subscriber"
    template_name = "contracts/subscriber_form.html"
    form_class = SubscriberForm
    model = Subscriber

    def dispatch(self, request, *args, **kwargs):
        # The permission before the record: without it, a missing subscriber and an existing one both answer 403,
        # so the answer does not tell whether a code exists.
        if not self.has_permission():
            return self.handle_no_permission()
        self.object = self.get_object()
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Subscriber.objects.get(pk=self.object.pk)}

    def form_valid(self, form):
        fields = {name: form.cleaned_data[name] for name in Subscriber.EDITABLE_FIELDS}
        try:
            subscriber = subscriber_update(
                subscriber=self.object, actor=self.request.user, reason=form.cleaned_data["reason"], **fields
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        # The service saves nothing when nothing changed (as stored: a フリガナ typed in hiragana is the katakana
        # already there); the answer says so instead of 「変更しました」.
        unchanged = all(getattr(self.object, name) == getattr(subscriber, name) for name in fields)
        if unchanged:
            messages.info(self.request, f"契約者「{subscriber}」の変更はありません。")
        else:
            messages.success(self.request, f"契約者「{subscriber}」を変更しました。")
        return redirect("contracts:subscriber_detail", pk=subscriber.pk)


def subscriber_card(subscriber: Subscriber) -> dict:
    """Who a subscriber is, as the application form shows it (code, name, フリガナ, base contracts in force)."""
    return {
        "code": subscriber.code,
        "name": subscriber.name,
        "kana": subscriber.kana,
        "active": subscriber.is_active,
        "url": reverse("contracts:subscriber_detail", args=[subscriber.pk]),
        "base_contracts": [
            {
                "service": contract.service.name,
                "number": contract.contract_number,
                "start": format_date(contract.start_date),
                "end": format_date(contract.end_date) if contract.end_date else "",
            }
            for contract in subscriber.current_base_contracts
        ],
    }


class SubscriberLookupView(StaffPermissionMixin, View):
    """The application form's autocomplete: subscribers by code, name or フリガナ, at most LOOKUP_LIMIT, as JSON."""

    permission_required = "contracts.view_subscriber"

    def get(self, request, *args, **kwargs):
        form = SubscriberLookupForm(request.GET)
        text = form.cleaned_data["q"] if form.is_valid() else ""
        rows, more = selectors.subscriber_lookup(text=text, on=clock.today())
        return JsonResponse({"results": [subscriber_card(s) for s in rows], "more": more})
