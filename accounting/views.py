"""勘定科目の対応 (the mapping table) and the journal downloads: thin adapters over accounting's selectors and
services."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView, TemplateView

from contracts.forms import MonthForm
from contracts.views.base import StaffPermissionMixin, add_domain_error
from contracts.views.reports import report_url
from core import clock
from core.db_router import ReadsFromReplicaMixin
from core.errors import DomainError

from .formats import journal_export
from .forms import AccountMappingForm
from .models import AccountMapping
from .selectors import mapping_table
from .services import EDITABLE_FIELDS, account_mapping_save


class MappingListView(StaffPermissionMixin, TemplateView):
    permission_required = "accounting.view_accountmapping"
    template_name = "accounting/mapping_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(rows=mapping_table(), **kwargs)


class MappingEditView(StaffPermissionMixin, FormView):
    """登録・変更 of one option × fee kind, chosen by ?option=&kind= (the form is empty for a new one)."""

    permission_required = "accounting.change_accountmapping"
    template_name = "accounting/mapping_form.html"
    form_class = AccountMappingForm

    def get_initial(self):
        initial = {"option": self.request.GET.get("option"), "kind": self.request.GET.get("kind")}
        try:
            mapping = AccountMapping.objects.filter(option_id=int(initial["option"]), kind=initial["kind"]).first()
        except (TypeError, ValueError):
            mapping = None
        source = mapping or AccountMapping()
        initial.update({name: getattr(source, name) for name in EDITABLE_FIELDS})
        return initial

    def form_valid(self, form):
        try:
            account_mapping_save(
                option=form.cleaned_data["option"],
                kind=form.cleaned_data["kind"],
                values=form.values(),
                actor=self.request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "勘定科目の対応を登録しました。")
        return redirect("accounting:mapping_list")


class JournalDownloadView(ReadsFromReplicaMixin, StaffPermissionMixin, View):
    """A closed month's journal in one accounting system's format; a refusal comes back as a message."""

    permission_required = "contracts.export_report"

    def get(self, request, *args, **kwargs):
        form = MonthForm(request.GET)
        month = form.cleaned_data["month"] if form.is_valid() else clock.month_start(clock.today())
        if not form.is_valid():
            messages.error(request, "出力する月を正しく指定してください。")
            return redirect(report_url(month))
        try:
            filename, content_type, chunks = journal_export(month=month, fmt=request.GET.get("fmt", ""))
        except DomainError as error:
            messages.error(request, str(error))
            return redirect(report_url(month))
        response = HttpResponse(b"".join(chunks), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
