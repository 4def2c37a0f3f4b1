"""Home: the signed-in staff member's work. Each role's home shows its own queues only (contracts.queues), the
accounting home (経理) its months, and everyone their own recent entries and decisions."""

from dataclasses import dataclass

from django.views.generic import TemplateView

from contracts import reports
from contracts.models import Application, LedgerEntry
from contracts.queues import QueueLink, queue_links
from contracts.reports.overview import accounting_overview, summary_values
from contracts.services.month_summaries import month_summary_record
from core import clock
from core.db_router import reads_from_replica

HOME_ROWS = 10  # the head of each queue on the home; its page shows more
RECENT_ROWS = 20


@dataclass(frozen=True)
class QueuePanel:
    link: QueueLink
    rows: list


def store_missing_summaries(overview, actor):
    """Store the 集計 of each closed month that has none yet (once per month: right after its close, or for a
    month closed before the home kept them), read from the month's report itself; return whether any was."""
    for close in overview.missing:
        figures = summary_values(reports.monthly_report(month=close.month).summary)
        month_summary_record(close=close, actor=actor, **figures)
    return bool(overview.missing)


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
            with reads_from_replica():
                overview = accounting_overview(today=clock.today())
            # Storing a missing 集計 writes, then reads what it wrote: both on the primary.
            if store_missing_summaries(overview, user):
                overview = accounting_overview(today=clock.today())
            context["accounting"] = overview
        return context
