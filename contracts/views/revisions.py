"""The impact preview of a tariff revision: contracts touched, totals, successions; and its download.

In the contracts app because it reads the book; the catalogue (options) never imports it. It shows contracts by
number, option and amount only (never a subscriber): 規程管理 sees it without reading personal data.
"""

from itertools import islice

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views import View
from django.views.generic import TemplateView

from contracts.reports.impact import PART_LABELS, impact_export_chunks, revision_impact
from core.db_router import ReadsFromReplicaMixin
from core.downloads import attach
from core.errors import DomainError
from options.models import TariffRevision

from .base import StaffPermissionMixin

# Contracts listed on the page; the download holds them all.
SHOWN = 200


class RevisionImpactView(ReadsFromReplicaMixin, StaffPermissionMixin, TemplateView):
    permission_required = "options.preview_tariffrevision"
    template_name = "contracts/revision_impact.html"
    model = TariffRevision

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        revision = get_object_or_404(TariffRevision, pk=self.kwargs["pk"])
        context["revision"] = revision
        try:
            impact = revision_impact(revision=revision)
        except DomainError as error:
            context["impact_error"] = str(error)
            return context
        contracts = impact.contracts()
        shown = list(islice(contracts, SHOWN))
        unpriceable = [c for c in shown if c.becomes_unpriceable]
        for rest in contracts:  # read to the end: the totals count every contract
            if rest.becomes_unpriceable and len(unpriceable) < SHOWN:
                unpriceable.append(rest)
        context.update(
            impact=impact,
            shown=shown,
            more=impact.totals.contracts + impact.totals.unpriceable - len(shown),
            unpriceable=unpriceable,
            successions=list(islice(impact.successions(), SHOWN)),
            downloads=[("csv", part, f"CSV（{label}）") for part, label in PART_LABELS.items()]
            + [("xlsx", "", "XLSX（3シート）")],
        )
        return context


class RevisionImpactDownloadView(ReadsFromReplicaMixin, StaffPermissionMixin, View):
    permission_required = "options.preview_tariffrevision"
    model = TariffRevision

    def get(self, request, *args, **kwargs):
        revision = get_object_or_404(TariffRevision, pk=kwargs["pk"])
        fmt = request.GET.get("fmt") or "csv"
        part = request.GET.get("part") or None
        try:
            filename, content_type, chunks = impact_export_chunks(
                impact=revision_impact(revision=revision), fmt=fmt, part=part
            )
        except DomainError as error:
            context = {"revision": revision, "impact_error": str(error)}
            return render(request, "contracts/revision_impact.html", context, status=400)
        return attach(StreamingHttpResponse(chunks, content_type=content_type), filename)
