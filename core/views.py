"""The bases of every staff screen: the permission mixin, every list's count and CSV download, and one history
page per model."""

from urllib.parse import quote

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import transaction
from django.http import Http404, StreamingHttpResponse
from django.urls import path, reverse
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from . import clock
from .cells import BOM
from .db_router import read_alias, stream_from_replica
from .forms import AsOfForm
from .history_read import history_entries, record_as_of, record_exists_in_history
from .tables import COUNT_CAP, count_matches, few_rows_by_id, table_csv_lines

EXPORT_PARAM, CSV = "export", "csv"


class StaffPermissionMixin(PermissionRequiredMixin):
    """Logged-in staff without the permission get 403; anonymous users were already sent to the login page.

    The permission is checked in `dispatch`, before any record is read: a record one may not view answers 403
    whether or not it exists (tests/test_urls_roles.py, test_a_forbidden_record_answers_the_same_...).
    """

    raise_exception = True


def attachment_disposition(filename: str, *, fallback: str) -> str:
    """A download's Content-Disposition (RFC 6266): the Japanese name as `filename*` (RFC 5987, UTF-8), and an
    ASCII name for clients that read only `filename`."""
    if not fallback.isascii() or any(c in fallback for c in '"\\\r\n;'):
        raise ValueError(f"the fallback filename must be plain ASCII: {fallback!r}")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class TableListMixin:
    """Every staff list (a django-tables2 view, with or without a filter): how many rows match, the table's
    totals while that count is exact, and the same rows as a CSV download (`?export=csv`).

    The download is the page itself, so it has the page's permission check, filters and ordering; it has every
    matching row (no page), streamed in the report's Excel-safe cells (core.cells: BOM, neutralised text).
    A table declares its totals as `column_totals = {name: aggregate}` (shown in its footer); the count is
    capped (core.tables.count_matches), so neither grows with the book.
    """

    export_name = ""  # the download's Japanese name; the model's verbose_name_plural when empty
    count_cap = COUNT_CAP

    def exporting(self) -> bool:
        return self.request.GET.get(EXPORT_PARAM) == CSV

    def get_table_pagination(self, table):
        return False if self.exporting() else super().get_table_pagination(table)

    def get_table(self, **kwargs):
        # SingleTableMixin.get_table, with the rows counted before the table pages them, so that a search matching
        # few rows reads its page among them (core.tables.few_rows_by_id).
        table_class = self.get_table_class()
        data = self.get_table_data()
        matches = None
        if not self.exporting():
            matches = count_matches(data, cap=self.count_cap, **getattr(table_class, "column_totals", {}))
            data = few_rows_by_id(data, matches)
        table = table_class(data=data, **kwargs)
        RequestConfig(self.request, paginate=self.get_table_pagination(table)).configure(table)
        if matches is not None:
            table.matches = matches
            query = self.request.GET.copy()
            query.pop(table.prefixed_page_field, None)
            query[EXPORT_PARAM] = CSV
            table.export_url = f"?{query.urlencode()}"
        return table

    def render_to_response(self, context, **response_kwargs):
        # A search staff got wrong is the page with its errors, not an empty file.
        search = context.get("filter") or context.get("form")
        refused = search is not None and search.is_bound and not search.is_valid()
        if not self.exporting() or refused:
            return super().render_to_response(context, **response_kwargs)
        return self.csv_response(context[self.context_table_name or "table"])

    def csv_response(self, table) -> StreamingHttpResponse:
        model = table._meta.model or getattr(table.data.data, "model", None)
        opts = model._meta if model is not None else None
        name = self.export_name or (str(opts.verbose_name_plural) if opts else "一覧")
        stamp = f"{clock.today():%Y%m%d}"
        # A download is an export: its rows are read from the replica (core/db_router.py); the page is not.
        response = StreamingHttpResponse(stream_from_replica(_csv_bytes(table)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = attachment_disposition(
            f"{name}_{stamp}.csv", fallback=f"{opts.model_name if opts else 'list'}-{stamp}.csv"
        )
        return response


def _csv_bytes(table):
    # Inside a transaction Django reads `.iterator()` through a server-side cursor, so PostgreSQL streams the
    # rows instead of materialising the whole result first (Django docs, "Outputting CSV").
    with transaction.atomic(using=read_alias()):
        yield BOM
        for text in table_csv_lines(table):
            yield text.encode()


class RecordHistoryView(StaffPermissionMixin, TemplateView):
    """Who changed a record, when, why and what; and the record as it stood at the end of a chosen JST day.

    Reads the history table only, so the history of a deleted record stays readable.
    """

    template_name = "history/record_history.html"
    model = None
    back_url_name = ""

    def get_permission_required(self):
        opts = self.model._meta
        return [f"{opts.app_label}.view_{opts.model_name}"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pk = self.kwargs["pk"]
        current = self.model._default_manager.filter(pk=pk).first()
        if current is None and not record_exists_in_history(self.model, pk):
            raise Http404("記録が見つかりません。")
        form = AsOfForm(self.request.GET or None)
        context.update(
            verbose_name=self.model._meta.verbose_name,
            record=current,
            record_pk=pk,
            entries=history_entries(self.model, pk),
            as_of_form=form,
        )
        if form.is_valid():
            context["as_of"] = form.cleaned_data["on"]
            context["as_of_values"] = record_as_of(self.model, pk, form.cleaned_data["on"])
        if current is not None and self.back_url_name:
            context["record_url"] = reverse(self.back_url_name, args=[current.pk])
        return context


def history_urlpatterns(models_and_backs) -> list:
    """Return one history page per model: `history/<model_name>/<pk>/`, named `history_<model_name>`."""
    patterns = []
    for model, back_url_name in models_and_backs:
        name = model._meta.model_name
        view = RecordHistoryView.as_view(model=model, back_url_name=back_url_name or "")
        patterns.append(path(f"history/{name}/<int:pk>/", view, name=f"history_{name}"))
    return patterns
