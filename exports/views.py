"""作成依頼 (a file written by a worker): asking, its page with progress, its download; and the export log."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from contracts.views.base import StaffPermissionMixin
from core.downloads import DownloadName, attach
from core.errors import DomainError
from core.tables import PAGINATION
from core.views import TableListMixin

from .filters import ExportLogFilter
from .kinds import KINDS, kind_of
from .models import ExportJob, ExportLog
from .selectors import job_file_chunks
from .services import DOWNLOAD_ANY, export_job_abandoned, export_job_request, export_job_retry, require_job_access
from .tables import ExportLogTable

ANY_KIND_PERMISSION = tuple(sorted({kind.permission for kind in KINDS.values()}))


class ExportJobRequestView(StaffPermissionMixin, View):
    """Queue a file (POST: `kind` and the direct download's parameters) and go to its job's page at once."""

    http_method_names = ["post"]

    def has_permission(self):
        return any(self.request.user.has_perm(p) for p in ANY_KIND_PERMISSION)

    def post(self, request, *args, **kwargs):
        kind = request.POST.get("kind", "")
        try:
            spec = kind_of(kind)
            if not request.user.has_perm(spec.permission):
                raise PermissionDenied
            job = export_job_request(kind=kind, data=request.POST, actor=request.user)
        except DomainError as error:
            messages.error(request, str(error))
            back = request.META.get("HTTP_REFERER", "")
            safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
            return redirect(back if safe else "home")
        messages.success(request, "ファイルの作成を依頼しました。できあがるとこの画面からダウンロードできます。")
        return redirect("exports:exportjob_detail", pk=job.pk)


class _JobMixin(StaffPermissionMixin):
    """A job is the requester's (and システム管理者's): anyone else gets 403, as for a page without permission."""

    def has_permission(self):
        return any(self.request.user.has_perm(p) for p in ANY_KIND_PERMISSION)

    def get_job(self) -> ExportJob:
        job = ExportJob.objects.select_related("requested_by").filter(pk=self.kwargs["pk"]).first()
        if job is None:
            # Need to know: whoever may not open every job gets 403 whether or not the job exists.
            if self.request.user.has_perm(DOWNLOAD_ANY):
                raise Http404("作成依頼が見つかりません。")
            raise PermissionDenied
        try:
            require_job_access(job, self.request.user)
        except DomainError as error:
            raise PermissionDenied(str(error)) from error
        return job


class ExportJobView(_JobMixin, TemplateView):
    """A job's status, progress and result, with its file's download when done; `?format=json` for polling."""

    template_name = "exports/job.html"

    def get(self, request, *args, **kwargs):
        job = self.get_job()
        if request.GET.get("format") == "json":
            return JsonResponse(
                {
                    "status": job.status,
                    "status_label": job.get_status_display(),
                    "active": job.is_active,
                    "rows_done": job.rows_done,
                    "bytes_done": job.bytes_done,
                    "has_file": job.has_file,
                    "message": job.message,
                }
            )
        spec = kind_of(job.kind)
        abandoned = export_job_abandoned(job)
        return self.render_to_response(
            self.get_context_data(
                job=job,
                kind_label=spec.label,
                back_url=spec.back_url(job.params),
                abandoned=abandoned,
                may_retry=job.status in ("failed", "aborted") or abandoned,
            )
        )


class ExportJobDownloadView(_JobMixin, View):
    """The job's file, read from the database chunk by chunk (any app server serves any job)."""

    def get(self, request, *args, **kwargs):
        job = self.get_job()
        if not job.has_file:
            messages.error(request, "このファイルはまだできていないか、保存期間を過ぎて削除されました。")
            return redirect("exports:exportjob_detail", pk=job.pk)
        response = StreamingHttpResponse(job_file_chunks(job), content_type=job.content_type)
        response["Content-Length"] = str(job.size)
        # What the export log records for this download (exports.middleware): the job's, not the query's.
        response.export_kind, response.export_job = job.kind, job
        response.export_params, response.export_rows = job.params, job.row_count
        return attach(response, DownloadName(job.filename_ascii, japanese=job.filename))


class ExportJobRetryView(_JobMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        job = self.get_job()
        try:
            export_job_retry(job=job, actor=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "もう一度作成を依頼しました。")
        return redirect("exports:exportjob_detail", pk=job.pk)


class ExportLogListView(StaffPermissionMixin, TableListMixin, SingleTableMixin, FilterView):
    permission_required = "exports.view_exportlog"
    template_name = "exports/log_list.html"
    filterset_class = ExportLogFilter
    table_class = ExportLogTable
    table_pagination = PAGINATION
    export_name = "出力記録"
    queryset = ExportLog.objects.select_related("user").order_by("-at", "-pk")
