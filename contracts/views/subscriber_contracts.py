"""Base-service and carrier-line contracts entered from the subscriber's page: add, confirm (a carrier line, 第1条)
and end, each through its service (contracts/services/base_contracts.py, carrier_lines.py)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView
from django.views.generic.detail import SingleObjectMixin

from contracts.forms import BaseContractForm, CarrierLineForm, ContractEndForm
from contracts.models import BaseServiceContract, CarrierLineContract, Subscriber
from contracts.services.base_contracts import base_contract_create, base_contract_end
from contracts.services.carrier_lines import carrier_line_confirm, carrier_line_create, carrier_line_end
from core.errors import DomainError
from core.wareki import format_date

from .base import StaffPermissionMixin, add_domain_error


def subscriber_url(subscriber_id: int, section: str) -> str:
    return reverse("contracts:subscriber_detail", args=[subscriber_id]) + f"#{section}"


class _RecordFormView(StaffPermissionMixin, SingleObjectMixin, FormView):
    """A form page about one record: the permission first, then the record (403 whether or not it exists), then
    the service; a refusal sits by its field and nothing is written."""

    template_name = "contracts/subscriber_contract_form.html"
    title = ""
    submit_label = ""
    section = ""  # the subscriber page's section to go back to

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission():
            return self.handle_no_permission()
        self.object = self.get_object()
        return super().dispatch(request, *args, **kwargs)

    def subscriber(self) -> Subscriber:
        return self.object if isinstance(self.object, Subscriber) else self.object.subscriber

    def get_context_data(self, **kwargs):
        subscriber = self.subscriber()
        return super().get_context_data(
            title=self.title,
            submit_label=self.submit_label,
            subscriber=subscriber,
            back_url=self.back_url(),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            message = self.perform(form)
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, message)
        return redirect(self.back_url())

    def perform(self, form) -> str:
        """Call the service and return the message staff read."""
        raise NotImplementedError

    def back_url(self) -> str:
        return subscriber_url(self.subscriber().pk, self.section)


class BaseContractCreateView(_RecordFormView):
    permission_required = "contracts.add_baseservicecontract"
    model = Subscriber
    form_class = BaseContractForm
    title = "基本サービス契約の登録"
    submit_label = "登録する"
    section = "base-contracts"

    def perform(self, form) -> str:
        data = form.cleaned_data
        contract = base_contract_create(
            subscriber=self.object,
            service=data["service"],
            contract_number=data["contract_number"],
            start_date=data["start_date"],
            actor=self.request.user,
        )
        return f"基本サービス契約（{contract.service.name}、{format_date(contract.start_date)}から）を登録しました。"


class CarrierLineCreateView(_RecordFormView):
    permission_required = "contracts.add_carrierlinecontract"
    model = Subscriber
    form_class = CarrierLineForm
    title = "事業者回線契約の登録"
    submit_label = "登録する"
    section = "carrier-lines"

    def perform(self, form) -> str:
        data = form.cleaned_data
        line = carrier_line_create(
            subscriber=self.object,
            carrier_service=data["carrier_service"],
            line_id=data["line_id"],
            start_date=data["start_date"],
            actor=self.request.user,
        )
        return (
            f"事業者回線契約（{line.carrier_service}、回線「{line.line_id}」）を登録しました。"
            "契約の締結を確かめてから「確認」を押してください（第1条）。"
        )


class _ContractEndView(_RecordFormView):
    """利用終了日 and its reason; `end` is the service, called with the record as `record_argument`."""

    form_class = ContractEndForm
    submit_label = "終了する"
    end = None
    record_argument = ""

    def get_initial(self):
        return {"end_date": self.object.end_date}

    def perform(self, form) -> str:
        ended = type(self).end(
            **{self.record_argument: self.object},
            end_date=form.cleaned_data["end_date"],
            reason=form.cleaned_data["reason"],
            actor=self.request.user,
        )
        return f"{self.describe(ended)}の利用終了日を{format_date(ended.end_date)}にしました。"

    def describe(self, record) -> str:
        raise NotImplementedError


class BaseContractEndView(_ContractEndView):
    permission_required = "contracts.change_baseservicecontract"
    queryset = BaseServiceContract.objects.select_related("subscriber", "service")
    title = "基本サービス契約の終了"
    end = staticmethod(base_contract_end)
    record_argument = "base_contract"
    section = "base-contracts"

    def describe(self, record) -> str:
        return f"基本サービス契約（{record.service.name}）"


class CarrierLineEndView(_ContractEndView):
    permission_required = "contracts.change_carrierlinecontract"
    queryset = CarrierLineContract.objects.select_related("subscriber", "carrier_service__carrier")
    title = "事業者回線契約の終了"
    end = staticmethod(carrier_line_end)
    record_argument = "carrier_line"
    section = "carrier-lines"

    def describe(self, record) -> str:
        return f"事業者回線契約（回線「{record.line_id}」）"


class CarrierLineConfirmView(StaffPermissionMixin, SingleObjectMixin, View):
    """確認 (第1条): staff saw that the subscriber concluded the carrier contract; a button on the subscriber's page."""

    http_method_names = ["post"]
    permission_required = "contracts.change_carrierlinecontract"
    queryset = CarrierLineContract.objects.select_related("subscriber", "carrier_service__carrier")

    def post(self, request, *args, **kwargs):
        line = self.get_object()
        try:
            confirmed = carrier_line_confirm(carrier_line=line, actor=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            if line.confirmed_at is not None:
                messages.info(request, f"回線「{confirmed.line_id}」は確認済みです。")
            else:
                what = f"{confirmed.carrier_service}、回線「{confirmed.line_id}」"
                messages.success(request, f"事業者回線契約（{what}）を確認しました。")
        return redirect(subscriber_url(line.subscriber_id, "carrier-lines"))
