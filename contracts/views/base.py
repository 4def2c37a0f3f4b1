"""What every contracts screen shares: permission handling and turning DomainError into a form error."""

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect
from django.urls import reverse

from core.errors import DomainError
from core.views import StaffPermissionMixin

__all__ = ["ActionView", "StaffPermissionMixin", "add_domain_error"]


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a refusal of the domain in the staff's words: by the field it is about when the form says which
    (its `field_for_error`, by the error's code), else above the form."""
    field_for_error = getattr(form, "field_for_error", None)
    name = field_for_error(error) if field_for_error is not None else None
    if name and name in form.fields and not form.fields[name].widget.is_hidden and not form.fields[name].disabled:
        form.add_error(name, str(error))
    else:
        form.add_error(None, str(error))


class ActionView:
    """Mixin for a detail view: a POST-only action on the record, whose form sits on the detail page.

    On success: a message and a redirect to the detail page (POST-redirect-GET). On a form error or a
    DomainError: the detail page again, with the error on this action's form.
    """

    http_method_names = ["post"]
    form_class = forms.Form
    form_kwargs: dict = {}
    form_context_name = ""
    success_message = ""
    success_url_name = ""
    queue_key = ""  # the work queue the record leaves by this action: its page then offers 「次の…へ」 in it

    def get_form(self):
        return self.form_class(self.request.POST, **self.form_kwargs)

    def perform(self, form):
        """Call the service; what it returns is handed to `get_success_message`."""
        raise NotImplementedError

    def get_success_message(self, result) -> str:
        return self.success_message

    def get_success_url(self) -> str:
        url = reverse(self.success_url_name, args=[self.object.pk])
        return f"{url}?queue={self.queue_key}" if self.queue_key else url

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = self.get_form()
        if form.is_valid():
            try:
                self.result = self.perform(form)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, self.get_success_message(self.result))
                return redirect(self.get_success_url())
        self.object = self.get_object()
        context = self.get_context_data(**{self.form_context_name: form})
        context["action_errors"] = action_errors(form)
        return self.render_to_response(context)


def action_errors(form: forms.Form) -> list[str]:
    """Every error of a refused action, for the top of the page: the refusal, then each field's error named by
    its label. Shown there because the action's form may not be on the page any more (another user acted first,
    or the record's state no longer offers it), and a field may be hidden: a refusal is never silent."""
    errors = list(form.non_field_errors())
    for name, field_errors in form.errors.items():
        if name == NON_FIELD_ERRORS:
            continue
        label = (form.fields[name].label if name in form.fields else None) or name
        errors += [f"{label}: {error}" for error in field_errors]
    return errors
