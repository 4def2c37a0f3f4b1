"""月次レポート: totals on screen (速報 for open months), streamed downloads, and 月次締め."""

import datetime as dt

from django.contrib import messages
from django.core import signing
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import TemplateView

from contracts import reports
from contracts.billing.seal import ledger_verify
from contracts.forms import MonthForm, ReportDownloadForm
from contracts.models import MonthClose, MonthCloseJob
from contracts.reports.close_preview import DIFF_KINDS, SHOW_LABELS, close_preview
from contracts.reports.exports import charges_export_needs_task
from contracts.reports.figures import charge_rows_page, report_page_figures
from contracts.reports.selectors import month_close_of
from contracts.selectors import month_close_job_latest
from contracts.services.month_close import month_close_assert_closable, month_label
from contracts.services.month_close_jobs import month_close_enqueue
from contracts.services.report_figures import report_figures_request
from core import clock
from core.db_router import ReadsFromReplicaMixin
from core.downloads import attach
from core.errors import DomainError

from .base import StaffPermissionMixin


def report_url(month) -> str:
    return reverse("contracts:monthly_report") + "?" + urlencode({"month": f"{month:%Y-%m}"})


class MonthlyReportView(ReadsFromReplicaMixin, StaffPermissionMixin, TemplateView):
    """月次レポート: the month's stored figures (a closed month's from its close, an open month's from its last
    refresh, with when and whether the book changed since) and one page of 月額. Reads only, whatever the size of
    the book: nothing is summed or priced here but the page of rows shown."""

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
        after = _positive_int(self.request.GET.get("after"), 0)
        try:
            report = reports.monthly_report(month=month)
            figures = report_page_figures(month=month)
            rows_page = charge_rows_page(month=month, after=after)
        except DomainError as error:
            context["report_error"] = str(error)
            return context
        context.update(
            report=report,
            figures=figures,
            summary=figures.summary,
            charge_count=figures.charge_count,
            unpriced=figures.unpriced,
            rows_page=rows_page,
            page_first_url=report_url(month) + "#charge-rows",
            page_next_url=f"{report_url(month)}&after={rows_page.next_after}#charge-rows",
            may_refresh=report.is_provisional,
            charges_by_task=charges_export_needs_task(figures.charge_count),
            close_job=month_close_job_latest(month=month),
            show_close=self.request.user.has_perm("contracts.preview_close")
            and report.is_provisional
            and month < clock.month_start(clock.today()),
            formats=ReportDownloadForm.FORMATS,
            parts=ReportDownloadForm.PARTS,
        )
        return context


class ReportFiguresRefreshView(StaffPermissionMixin, View):
    """Ask a worker to compute an open month's 速報 figures again (one refresh of a month at once) and return to the
    report page, which shows its progress and then its result."""

    permission_required = "contracts.export_report"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = MonthForm(request.POST)
        if not form.is_valid():
            messages.error(request, "集計する月を正しく指定してください。")
            return redirect("contracts:monthly_report")
        month = form.cleaned_data["month"]
        try:
            figures = report_figures_request(month=month, actor=request.user)
        except DomainError as error:
            messages.error(request, str(error))
            return redirect(report_url(month))
        label = month_label(month)
        if not figures.is_active:
            messages.info(request, f"{label}の速報はすでに最新です（その後に台帳・契約は変わっていません）。")
        elif figures.requested_by_id != request.user.pk or figures.requested_at < clock.now() - _JUST_NOW:
            messages.info(request, f"{label}の速報の集計はすでに依頼されています（{figures.get_status_display()}）。")
        else:
            messages.success(request, f"{label}の速報の集計を依頼しました。終わるとこの画面に表示されます。")
        return redirect(report_url(month))


class MonthlyReportDownloadView(ReadsFromReplicaMixin, StaffPermissionMixin, View):
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
        return attach(response, filename)


# The preview's digest travels to the close signed, so the close carries what the preview computed (not what a
# hand-made form claims); a week is ample between reading a preview and confirming it.
PREVIEW_SALT = "contracts.close_preview"
PREVIEW_MAX_AGE = 7 * 24 * 3600


def preview_url(month, **params) -> str:
    return reverse("contracts:close_preview") + "?" + urlencode({"month": f"{month:%Y-%m}", **params})


def preview_token(month, digest: dict) -> str:
    return signing.dumps({"month": f"{month:%Y-%m}", **digest}, salt=PREVIEW_SALT, compress=True)


def preview_from_token(month, token: str) -> dict | None:
    """The preview digest the token carries, or None when it is missing, forged, stale or of another month."""
    try:
        data = signing.loads(token or "", salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.pop("month", None) != f"{month:%Y-%m}":
        return None
    return data


def _positive_int(text, default=None):
    try:
        value = int(text)
    except (TypeError, ValueError):
        return default
    return value if 0 < value <= 10**9 else default


class ClosePreviewView(StaffPermissionMixin, TemplateView):
    """仮締め: what the close of a month would write, its totals and its differences from the previous month, paged;
    nothing is written. 経理 confirms the close from here; 承認者 reads it only."""

    permission_required = "contracts.preview_close"
    template_name = "contracts/close_preview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today_month = clock.month_start(clock.today())
        default = clock.month_start(today_month - dt.timedelta(days=1))
        form = MonthForm(self.request.GET if "month" in self.request.GET else {"month": f"{default:%Y-%m}"})
        context["form"] = form
        if not form.is_valid():
            return context
        month = form.cleaned_data["month"]
        context["month"] = month
        closed = month_close_of(month=month)
        if closed is not None:
            context["closed"] = closed
            context["report_url"] = report_url(month)
            return context
        show = self.request.GET.get("show", "rows")
        option_id = _positive_int(self.request.GET.get("option"))
        page = _positive_int(self.request.GET.get("page"), 1)
        try:
            preview = close_preview(month=month, show=show, option_id=option_id, page=page)
        except DomainError as error:
            context["preview_error"] = str(error)
            return context
        refusal = None
        try:
            month_close_assert_closable(month)
        except DomainError as error:
            refusal = str(error)
        if preview.unpriced_count:
            refusal = "月額料金を計算できない契約が残っているため締められません（上の一覧）。"
        params = {"show": preview.show, **({"option": option_id} if option_id else {})}
        context.update(
            preview=preview,
            show_title=SHOW_LABELS[preview.show],
            diff_headers=[SHOW_LABELS[kind] for kind in DIFF_KINDS],
            all_rows_url=preview_url(month),
            page_previous_url=preview_url(month, **params, page=preview.page - 1),
            page_next_url=preview_url(month, **params, page=preview.page + 1),
            close_job=month_close_job_latest(month=month),
            may_close=self.request.user.has_perm("contracts.close_month"),
            close_refusal=refusal,
            token=preview_token(month, preview.digest),
        )
        context["diff_rows"] = [
            (
                line,
                [
                    (kind, line.counts[kind], preview_url(month, show=kind, option=line.option_id))
                    for kind in DIFF_KINDS
                ],
            )
            for line in preview.diff_lines
        ]
        context["diff_total_links"] = [
            (kind, preview.diff_totals[kind], preview_url(month, show=kind)) for kind in DIFF_KINDS
        ]
        return context


class MonthCloseView(StaffPermissionMixin, View):
    """Queue the close confirmed on a preview for a worker and return at once: the job's page shows its progress and
    result (a refusal, when the book changed since the preview, names the differences)."""

    permission_required = "contracts.close_month"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = MonthForm(request.POST)
        if not form.is_valid():
            messages.error(request, "締める月を正しく指定してください。")
            return redirect("contracts:close_preview")
        month = form.cleaned_data["month"]
        preview = preview_from_token(month, request.POST.get("preview", ""))
        if preview is None:
            messages.error(request, "仮締めの内容を確認してから締めてください（確認した仮締めが見つかりません）。")
            return redirect(preview_url(month))
        try:
            job = month_close_enqueue(month=month, actor=request.user, preview=preview)
        except DomainError as error:
            messages.error(request, str(error))
            return redirect(preview_url(month))
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
        return self.render_to_response(
            self.get_context_data(job=job, report_url=report_url(job.month), preview_url=preview_url(job.month))
        )


class LedgerVerifyView(StaffPermissionMixin, TemplateView):
    """台帳の検証: each closed month's seal, and on asking (a read: nothing is written) the month's ledger rows
    hashed again and compared with it and the chain, as `manage.py verify_ledger --month` does."""

    permission_required = "contracts.preview_close"
    template_name = "contracts/ledger_verify.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        closes = list(MonthClose.objects.select_related("seal", "seal__sealed_by").order_by("-month"))
        context["closes"] = closes
        asked = self.request.GET.get("month")
        if asked is None:
            return context
        form = MonthForm({"month": asked})
        month = form.cleaned_data["month"] if form.is_valid() else None
        if month is None or not any(close.month == month for close in closes):
            context["verify_error"] = "検証する締め済みの月を選んでください。"
            return context
        context["verified_month"] = month
        context["checks"] = ledger_verify(month=month)
        return context
