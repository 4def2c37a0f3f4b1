"""Home: the signed-in staff member's work. Each role's home shows its own queues only (contracts.queues), the
accounting home (経理) its months, and everyone their own recent entries and decisions."""

from dataclasses import dataclass

from django.views.generic import TemplateView

from contracts.models import Application, LedgerEntry
from contracts.queues import QueueLink, queue_links
from contracts.reports.overview import accounting_overview
from core import clock
from core.db_router import reads_from_replica

HOME_ROWS = 10  # the head of each queue on the home; its page shows more
RECENT_ROWS = 20


@dataclass(frozen=True)
class QueuePanel:
    link: QueueLink
    rows: list


class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["queue_panels"] = [
            QueuePanel(link, list(link.queue.rows(user)[:HOME_ROWS])) for link in queue_links(self.request)
        ]
        context["now"] = clock.now()
        applications = Application.objects.select_related("subscriber", "option", "variant", "entered_by")
        if user.has_perm("contracts.add_application"):
            context["my_applications"] = applications.filter(entered_by=user).order_by("-entered_at", "-pk")[
                :RECENT_ROWS
            ]
        if user.has_perm("contracts.decide_application"):
            context["my_decisions"] = applications.filter(decided_by=user).order_by("-decided_at", "-pk")[:RECENT_ROWS]
        if user.has_perm("contracts.reverse_ledgerentry"):
            # Rows written by hand (reversals). 経理's rows are the close's, a month's charges: its home shows months.
            context["my_ledger_entries"] = (
                LedgerEntry.objects.filter(created_by=user)
                .select_related("option_contract__subscriber", "option_contract__option")
                .order_by("-created_at", "-pk")[:RECENT_ROWS]
            )
        if user.has_perm("contracts.export_report"):
            # Reads only, from the replica when there is one: a closed month's 集計 is stored by its close
            # (contracts.services.report_figures).
            with reads_from_replica():
                context["accounting"] = accounting_overview(today=clock.today())
        return context
