"""月次レポート: totals on screen (速報 for open months), streamed downloads, and 月次締め."""

import datetime as dt

from django.contrib import messages
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import TemplateView

from contracts import reports
from contracts.forms import MonthForm, ReportDownloadForm
from contracts.models import MonthCloseJob
from contracts.selectors import month_close_job_latest
from contracts.services.month_close import month_label
from contracts.services.month_close_jobs import month_close_enqueue
from core import clock
from core.errors import DomainError

from .base import StaffPermissionMixin


def report_url(month) -> str:
    return reverse("contracts:monthly_report") + "?" + urlencode({"month": f"{month:%Y-%m}"})


class MonthlyReportView(StaffPermissionMixin, TemplateView):
    permission_required = "contracts.export_report"
    template_name = "contracts/monthly_report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = MonthForm(self.request.GET or {"month": f"{clock.today():%Y-%m}"})
        context["form"] = form
        if not form.is_valid():
            return context
        month = form.cleaned_data["month"]
        context["month"] = month
        try:
            report = reports.monthly_report(month=month)
            summary = report.summary
        except DomainError as error:
            context["report_error"] = str(error)
            return context
        context.update(
            report=report,
            summary=summary,
            charge_count=report.charge_tally.rows,
            unpriced=report.unpriced,
            close_job=month_close_job_latest(month=month),
            show_close=self.request.user.has_perm("contracts.close_month")
            and report.is_provisional
            and month < clock.month_start(clock.today()),
            formats=ReportDownloadForm.FORMATS,
            parts=ReportDownloadForm.PARTS,
        )
        return context


class MonthlyReportDownloadView(StaffPermissionMixin, View):
    """Stream one export; a refusal (unknown format, cp932 character, ...) comes back as a message, before any byte."""

    permission_required = "contracts.export_report"

    def get(self, request, *args, **kwargs):
        form = ReportDownloadForm(request.GET)
        if not form.is_valid():
            month = form.cleaned_data.get("month") or clock.today()
            errors = "、".join(str(e) for field_errors in form.errors.values() for e in field_errors)
            messages.error(request, f"出力できません: {errors}")
            return redirect(report_url(month))
        try:
            filename, content_type, chunks = reports.export_response_chunks(**form.export_kwargs())
        except DomainError as error:
            messages.error(request, str(error))
            return redirect(report_url(form.cleaned_data["month"]))
        response = StreamingHttpResponse(chunks, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class MonthCloseView(StaffPermissionMixin, View):
    """Queue the close for a worker and return at once: the job's page shows its progress and result."""

    permission_required = "contracts.close_month"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = MonthForm(request.POST)
        if not form.is_valid():
            messages.error(request, "締める月を正しく指定してください。")
            return redirect("contracts:monthly_report")
        month = form.cleaned_data["month"]
        try:
            job = month_close_enqueue(month=month, actor=request.user)
        except DomainError as error:
            messages.error(request, str(error))
            return redirect(report_url(month))
        if job.requested_by_id != request.user.pk or job.requested_at < clock.now() - _JUST_NOW:
            messages.info(
                request, f"{month_label(month)}の締めはすでに依頼されています（{job.get_status_display()}）。"
            )
        else:
            messages.success(
                request, f"{month_label(month)}の締めを依頼しました。処理の進み具合はこの画面で確認できます。"
            )
        return redirect("contracts:month_close_job", pk=job.pk)


_JUST_NOW = dt.timedelta(seconds=5)


class MonthCloseJobView(StaffPermissionMixin, TemplateView):
    """A close job's status, progress and result; `?format=json` for the page's script to poll."""

    permission_required = "contracts.export_report"
    template_name = "contracts/month_close_job.html"

    def get(self, request, *args, **kwargs):
        job = get_object_or_404(MonthCloseJob.objects.select_related("requested_by", "close"), pk=kwargs["pk"])
        if request.GET.get("format") == "json":
            return JsonResponse(
                {
                    "status": job.status,
                    "status_label": job.get_status_display(),
                    "active": job.is_active,
                    "contracts_done": job.contracts_done,
                    "contracts_total": job.contracts_total,
                    "rows_written": job.rows_written,
                    "percent": job.percent,
                    "message": job.message,
                }
            )
        return self.render_to_response(self.get_context_data(job=job, report_url=report_url(job.month)))
