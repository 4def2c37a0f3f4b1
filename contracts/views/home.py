"""Home: the signed-in staff member's work."""

import datetime as dt

from django.views.generic import TemplateView

from contracts.billing.charges import migration_pending
from contracts.choices import ApplicationStatus, OptionContractStatus
from contracts.models import Application, LedgerEntry, OptionContract
from contracts.selectors import decision_queue
from core import clock

QUEUE_LENGTH = 20


class HomeView(TemplateView):
    """My work: applications to review (承認者), contracts waiting for a billing start date, my recent entries."""

    template_name = "home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        applications = Application.objects.select_related("subscriber", "option", "variant", "entered_by")
        if user.has_perm("contracts.decide_application"):
            context["to_review"] = decision_queue(user, status=ApplicationStatus.UNDER_REVIEW, limit=QUEUE_LENGTH)
            context["to_start_review"] = decision_queue(user, status=ApplicationStatus.RECEIVED, limit=QUEUE_LENGTH)
        if user.has_perm("contracts.change_optioncontract"):
            context["migrations_to_confirm"] = (
                OptionContract.objects.filter(migration_pending())
                .exclude(registered_by=user)
                .select_related("subscriber", "option", "variant", "registered_by")
                .order_by("created_at", "pk")[:QUEUE_LENGTH]
            )
        if user.has_perm("contracts.view_optioncontract"):
            context["awaiting_billing_start"] = (
                OptionContract.objects.filter(status=OptionContractStatus.APPROVED, billing_start_date__isnull=True)
                .exclude(migration_pending())
                .select_related("subscriber", "option", "variant", "approved_by")
                .order_by("approved_at", "pk")[:QUEUE_LENGTH]
            )
        if user.has_perm("contracts.add_application"):
            mine = applications.filter(entered_by=user).order_by("-entered_at", "-pk")
            context["my_applications"] = mine[:QUEUE_LENGTH]
        if user.has_perm("contracts.decide_application"):
            decided = applications.filter(decided_by=user).order_by("-decided_at", "-pk")
            context["my_decisions"] = decided[:QUEUE_LENGTH]
        if user.has_perm("contracts.view_ledgerentry"):
            context["my_ledger_entries"] = (
                LedgerEntry.objects.filter(created_by=user)
                .select_related("option_contract__subscriber", "option_contract__option")
                .order_by("-created_at", "-pk")[:QUEUE_LENGTH]
            )
        if user.has_perm("contracts.export_report"):
            this_month = clock.month_start(clock.today())
            context["report_months"] = [this_month, clock.month_start(this_month - dt.timedelta(days=1))]
        return context
