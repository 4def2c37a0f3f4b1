"""Option contracts: list, detail with the billing start date entry, its applications and ledger rows."""

from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from contracts.choices import ApplicationKind, OptionContractStatus
from contracts.filters import OptionContractFilter
from contracts.forms import BillingStartForm
from contracts.models import Application, OptionContract
from contracts.selectors import billing_start_summary
from contracts.services.option_contracts import option_contract_set_billing_start
from contracts.tables import OptionContractTable
from options.tables import PAGINATION

from .base import ActionView, StaffPermissionMixin


class OptionContractListView(StaffPermissionMixin, SingleTableMixin, FilterView):
    permission_required = "contracts.view_optioncontract"
    template_name = "contracts/optioncontract_list.html"
    filterset_class = OptionContractFilter
    table_class = OptionContractTable
    table_pagination = PAGINATION
    queryset = OptionContract.objects.select_related("subscriber", "option", "variant").order_by(
        "subscriber__code", "contracted_on", "pk"
    )


class OptionContractDetailView(StaffPermissionMixin, DetailView):
    permission_required = "contracts.view_optioncontract"
    template_name = "contracts/optioncontract_detail.html"
    queryset = OptionContract.objects.select_related(
        "subscriber",
        "option",
        "variant",
        "approved_by",
        "quoted_by",
        "origin_application",
        "base_contract__service",
        "carrier_line__carrier_service",
        "succession",
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        user = self.request.user
        is_open = contract.status != OptionContractStatus.ENDED
        context.update(
            show_billing_start=user.has_perm("contracts.change_optioncontract")
            and contract.status == OptionContractStatus.APPROVED,
            billing_start_form=kwargs.get("billing_start_form") or BillingStartForm(),
            show_new_applications=is_open and user.has_perm("contracts.add_application"),
            kinds=ApplicationKind,
            applications=Application.objects.filter(option_contract=contract)
            .select_related("entered_by", "decided_by", "variant")
            .order_by("-entered_at", "-pk"),
            ledger_entries=contract.ledger_entries.select_related("revision", "fee_item", "created_by").order_by(
                "booked_month", "arisen_at", "pk"
            ),
        )
        return context


class OptionContractBillingStartView(ActionView, OptionContractDetailView):
    permission_required = "contracts.change_optioncontract"
    form_class = BillingStartForm
    form_context_name = "billing_start_form"
    success_url_name = "contracts:optioncontract_detail"

    def get_success_message(self, contract) -> str:
        return billing_start_summary(contract)

    def perform(self, form):
        return option_contract_set_billing_start(
            option_contract=self.object,
            billing_start_date=form.cleaned_data["billing_start_date"],
            actor=self.request.user,
        )
