"""The bases of every staff screen: the permission mixin, and one history page per model."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404
from django.urls import path, reverse
from django.views.generic import TemplateView

from .forms import AsOfForm
from .history_read import history_entries, record_as_of, record_exists_in_history


class StaffPermissionMixin(PermissionRequiredMixin):
    """Logged-in staff without the permission get 403; anonymous users were already sent to the login page.

    The permission is checked in `dispatch`, before any record is read: a record one may not view answers 403
    whether or not it exists (tests/test_urls_roles.py, test_a_forbidden_record_answers_the_same_...).
    """

    raise_exception = True


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
