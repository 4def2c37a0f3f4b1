"""The fee-obligation ledger (支払義務台帳): list, one row, and its reversal with a reason."""

from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from contracts.filters import LedgerFilter
from contracts.forms import ReasonForm
from contracts.models import LedgerEntry
from contracts.services.ledger import REVERSIBLE_KINDS, ledger_entry_reverse
from contracts.tables import LedgerTable
from core.tables import PAGINATION
from core.views import TableListMixin

from .base import ActionView, StaffPermissionMixin


class LedgerListView(StaffPermissionMixin, TableListMixin, SingleTableMixin, FilterView):
    permission_required = "contracts.view_ledgerentry"
    template_name = "contracts/ledger_list.html"
    filterset_class = LedgerFilter
    table_class = LedgerTable
    table_pagination = PAGINATION
    export_name = "支払義務台帳"
    # Three tables joined, the catalogue names and the reversing row read by their own small queries: joined too,
    # the page's query took PostgreSQL ~7 ms to plan against 0.7 ms to run (full book; 1.6 ms planned without the
    # catalogue, 0.8 ms without the reversal join either).
    queryset = (
        LedgerEntry.objects.select_related("option_contract__subscriber", "revision")
        .prefetch_related("option_contract__option", "option_contract__variant", "reversed_by")
        .order_by("-booked_month", "-arisen_at", "-pk")
    )


class LedgerEntryDetailView(StaffPermissionMixin, DetailView):
    permission_required = "contracts.view_ledgerentry"
    template_name = "contracts/ledgerentry_detail.html"
    queryset = LedgerEntry.objects.select_related(
        "option_contract__subscriber",
        "option_contract__option",
        "option_contract__variant",
        "application",
        "fee_item",
        "revision",
        "reverses",
        "created_by",
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entry = self.object
        reversed_by = LedgerEntry.objects.filter(reverses=entry).first()
        context.update(
            reversed_by=reversed_by,
            show_reverse=self.request.user.has_perm("contracts.reverse_ledgerentry")
            and entry.reverses_id is None
            and reversed_by is None
            and entry.kind in REVERSIBLE_KINDS,
            needs_correction=entry.reverses_id is None and entry.kind not in REVERSIBLE_KINDS,
            reverse_form=kwargs.get("reverse_form") or ReasonForm(reason_label="取消の理由"),
        )
        return context


class LedgerEntryReverseView(ActionView, LedgerEntryDetailView):
    permission_required = "contracts.reverse_ledgerentry"
    form_class = ReasonForm
    form_kwargs = {"reason_label": "取消の理由"}
    form_context_name = "reverse_form"
    success_url_name = "contracts:ledgerentry_detail"
    success_message = "取消行を記帳しました。"

    def perform(self, form):
        return ledger_entry_reverse(entry=self.object, reason=form.cleaned_data["reason"], actor=self.request.user)
