"""月次レポート: totals on screen (速報 for open months), streamed downloads, and 月次締め."""

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import TemplateView

from contracts import reports
from contracts.forms import MonthForm, ReportDownloadForm
from contracts.services.month_close import month_close_run, month_closed_already_message, month_label
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
            charge_count=len(report.charge_rows),
            unpriced=report.unpriced,
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
    permission_required = "contracts.close_month"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = MonthForm(request.POST)
        if not form.is_valid():
            messages.error(request, "締める月を正しく指定してください。")
            return redirect("contracts:monthly_report")
        month = form.cleaned_data["month"]
        try:
            result = month_close_run(month=month, actor=request.user)
        except DomainError as error:
            messages.error(request, str(error))
            return redirect(report_url(month))
        close = result.close
        if not result.created:
            messages.error(request, month_closed_already_message(close))
            return redirect(report_url(month))
        label = month_label(month)
        messages.success(
            request, f"{label}を締めました（月額料金 {close.charge_rows}行・調整 {close.adjustment_rows}行を記帳）。"
        )
        return redirect(report_url(month))
