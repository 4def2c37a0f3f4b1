"""Option contracts: list, detail with the billing start date entry, its applications and ledger rows."""

from django.urls import reverse
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from contracts import selectors
from contracts.choices import ApplicationKind, OptionContractStatus
from contracts.filters import OptionContractFilter
from contracts.forms import AsOfForm, BillingStartForm, ConfirmForm, CorrectionForm
from contracts.models import Application, OptionContract
from contracts.services.applications import application_submit
from contracts.services.option_contracts import option_contract_confirm_migrated, option_contract_set_billing_start
from contracts.tables import OptionContractTable
from core.tables import PAGINATION
from core.views import TableListMixin
from core.wareki import format_date

from .base import ActionView, StaffPermissionMixin
from .queues import queue_of


class OptionContractListView(StaffPermissionMixin, TableListMixin, SingleTableMixin, FilterView):
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
        "registered_by",
        "confirmed_by",
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        user = self.request.user
        is_open = contract.status != OptionContractStatus.ENDED
        pending = contract.migrated and contract.confirmed_at is None
        as_of = AsOfForm(self.request.GET or None)
        context.update(
            selectors.option_contract_view(contract, on=as_of.cleaned_data["on"] if as_of.is_valid() else None),
            as_of_form=as_of,
            migration_pending=pending,
            show_confirm_migrated=pending and user.has_perm("contracts.change_optioncontract"),
            is_registrant=contract.registered_by_id == user.pk,
            confirm_migrated_form=kwargs.get("confirm_migrated_form") or ConfirmForm(),
            show_correction=not pending and user.has_perm("contracts.add_application"),
            correction_form=kwargs.get("correction_form") or CorrectionForm(),
            queue=queue_of(self.request, self.request.GET.get("queue"), detail="contracts:optioncontract_detail"),
        )
        context.update(
            show_billing_start=not pending
            and user.has_perm("contracts.change_optioncontract")
            and contract.status == OptionContractStatus.APPROVED,
            billing_start_form=kwargs.get("billing_start_form") or BillingStartForm(),
            show_new_applications=is_open and not pending and user.has_perm("contracts.add_application"),
            kinds=ApplicationKind,
            applications=Application.objects.filter(option_contract=contract)
            .select_related("entered_by", "decided_by", "variant")
            .order_by("-entered_at", "-pk"),
            ledger_entries=contract.ledger_entries.select_related("revision", "fee_item", "created_by").order_by(
                "booked_month", "arisen_at", "pk"
            ),
        )
        return context


class OptionContractCorrectionView(ActionView, OptionContractDetailView):
    """訂正申込 entered from the contract page; it is then reviewed and approved like any application."""

    permission_required = "contracts.add_application"
    form_class = CorrectionForm
    form_context_name = "correction_form"

    def perform(self, form):
        return application_submit(
            subscriber=self.object.subscriber,
            kind=ApplicationKind.CORRECTION,
            option_contract=self.object,
            actor=self.request.user,
            **form.submit_kwargs(),
        )

    def get_success_message(self, application) -> str:
        return (
            f"訂正申込 #{application.pk}（{application.get_correction_target_display()}）を受け付けました。"
            "受付者とは別の承認者が審査・承諾すると訂正されます。"
        )

    def get_success_url(self) -> str:
        return reverse("contracts:application_detail", args=[self.result.pk])


class OptionContractBillingStartView(ActionView, OptionContractDetailView):
    permission_required = "contracts.change_optioncontract"
    form_class = BillingStartForm
    form_context_name = "billing_start_form"
    success_url_name = "contracts:optioncontract_detail"
    queue_key = "billing-start"

    def get_success_message(self, contract) -> str:
        return selectors.billing_start_summary(contract)

    def perform(self, form):
        return option_contract_set_billing_start(
            option_contract=self.object,
            billing_start_date=form.cleaned_data["billing_start_date"],
            actor=self.request.user,
        )


class OptionContractConfirmMigratedView(ActionView, OptionContractDetailView):
    """A second person confirms a migrated record against its source; its terms then take effect."""

    permission_required = "contracts.change_optioncontract"
    form_class = ConfirmForm
    form_context_name = "confirm_migrated_form"
    success_url_name = "contracts:optioncontract_detail"
    queue_key = "migrations"

    def perform(self, form):
        return option_contract_confirm_migrated(option_contract=self.object, actor=self.request.user)

    def get_success_message(self, contract) -> str:
        return (
            f"移行データ（オプション契約 #{contract.pk}）を確認しました。"
            f"{format_date(contract.contracted_on)}からの契約条件を適用しました。"
        )
