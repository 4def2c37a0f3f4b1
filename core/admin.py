"""The base of every admin: a required reason on change and delete that goes to the history, a Japanese diff
column, and a version of a record's history (`…/<pk>/history/<history_id>/`) shown read-only to every user: it is
what was recorded, not a form to save it again.

Admins whose saves are services override save_record / delete_record with the service's `joined` form; a refusal
rolls back Django's transaction and is an admin message, never a 500 (RefusalAsMessageMixin).
"""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from django import forms
from django.contrib.admin import helpers
from django.contrib.admin import utils as admin_utils
from django.contrib.admin.options import IncorrectLookupParameters, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from core.fields import WarekiAdminDateWidget, WarekiDateField
from core.formats import wareki, wareki_datetime, wareki_month, wareki_year

from .errors import DomainError
from .forms import TextRuleFormMixin
from .history_read import HISTORY_TYPE_LABELS, FieldValue, _Labels, _m2m_raw, record_changes, staff_name
from .history_write import save_with_history
from .limits import PAGE_MAX
from .tables import COUNT_CAP, capped_count

# A big table's changelist counts as the staff lists do (core.tables.capped_count): the list then says
# 「10,000件以上」 and staff narrow it.
ADMIN_COUNT_CAP = COUNT_CAP


class CappedCountPaginator(Paginator):
    """The admin's paginator for big tables: its count stops at `cap` + 1 (one bounded query)."""

    cap = ADMIN_COUNT_CAP

    @cached_property
    def count(self) -> int:
        return capped_count(self.object_list, cap=self.cap)

    @property
    def capped(self) -> bool:
        return self.count > self.cap


# --- dates as staff read them, in every admin ----------------------------------------------------------
# Django's admin shows a date through display_for_field / display_for_value (changelists, read-only fields), which
# format it with the locale's DATE_FORMAT: a format string cannot name an era. Wrapping those two functions, once,
# gives every admin (the catalogue's, the contracts', the security app's, django-tasks') 和暦 with the Western date
# beside it (core.formats), the form used everywhere else.
_django_display_for_field = admin_utils.display_for_field
_django_display_for_value = admin_utils.display_for_value


def display_for_field(value, field, empty_value_display, avoid_link=False):
    if isinstance(field, models.DateField) and value not in field.empty_values and not field.choices:
        return wareki_datetime(value) if isinstance(field, models.DateTimeField) else wareki(value)
    return _django_display_for_field(value, field, empty_value_display, avoid_link)


def display_for_value(value, empty_value_display, boolean=False):
    if not boolean and isinstance(value, dt.datetime):
        return wareki_datetime(value)
    if not boolean and isinstance(value, dt.date):
        return wareki(value)
    return _django_display_for_value(value, empty_value_display, boolean)


def date_hierarchy_relabelled(django_date_hierarchy):
    """Django's date drill-down (`date_hierarchy`) with its years and months named as staff read them: 「令和8年
    (2026)」, 「令和8年3月 (2026-03)」. A day stays 「3月2日」: month and day are the same in both calendars. Each link
    names the year and month it leads to, so the label is read from the link (the other filters ride along)."""

    def date_hierarchy(cl):
        context = django_date_hierarchy(cl)
        if not context:
            return context
        field = cl.date_hierarchy

        def relabel(entry):
            if not entry or not entry.get("link"):
                return entry
            params = parse_qs(urlsplit(entry["link"]).query)
            year, month = params.get(f"{field}__year"), params.get(f"{field}__month")
            if not year or params.get(f"{field}__day"):
                return entry
            if month:
                return {**entry, "title": wareki_month(dt.date(int(year[0]), int(month[0]), 1))}
            return {**entry, "title": wareki_year(int(year[0]))}

        back = context.get("back")
        return {**context, "back": relabel(back), "choices": [relabel(c) for c in context.get("choices", ())]}

    return date_hierarchy


def install_wareki_display() -> None:
    """Called once from CoreConfig.ready(); the admin modules imported the functions by name, so each is replaced.
    The date_hierarchy tag looks its function up when a template is compiled, after this."""
    from django.contrib.admin.templatetags import admin_list

    for module in (admin_utils, helpers, admin_list):
        if hasattr(module, "display_for_field"):
            module.display_for_field = display_for_field
        if hasattr(module, "display_for_value"):
            module.display_for_value = display_for_value
    if not getattr(admin_list.date_hierarchy, "relabelled", False):
        admin_list.date_hierarchy = date_hierarchy_relabelled(admin_list.date_hierarchy)
        admin_list.date_hierarchy.relabelled = True


# Every admin date field reads what the staff screens read: 和暦, abbreviations or Western (core.fields).
WAREKI_FORMFIELD_OVERRIDES = {models.DateField: {"form_class": WarekiDateField, "widget": WarekiAdminDateWidget}}


HISTORY_VERSION_TEMPLATE = "admin/history_version_readonly.html"
REASON_FIELD = "change_reason"
REASON_LABEL = "変更理由"
DIFF_COLUMN = "変更内容"


class ReasonForm(TextRuleFormMixin, forms.ModelForm):
    """Every admin change form asks why; the answer becomes the history row's change reason. Its text fields
    follow the text rule (core.text), refused by the field."""

    change_reason = forms.CharField(
        label=REASON_LABEL,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        max_length=2000,
        help_text="変更履歴に記録されます（例: 令和8年4月1日変更の附則による料金改定）。",
        error_messages={"required": f"{REASON_LABEL}を入力してください。"},
    )


def refuse_as_form_error(check, *args) -> None:
    """Run a service's own check while the form is still open, so staff keep what they typed."""
    try:
        check(*args)
    except DomainError as error:
        raise forms.ValidationError(str(error)) from error


def version_values(record) -> list[FieldValue]:
    """Return each field of one historical row as staff read it (labels, names of related records, 和暦)."""
    model = record.instance_type
    recorded = {f.attname for f in record._meta.concrete_fields}
    fields = [f for f in model._meta.concrete_fields if f.attname in recorded]
    labels = _Labels(model)
    values = [(f.name, getattr(record, f.attname)) for f in fields]
    values += [(name, _m2m_raw(record, name)) for name in labels.m2m_names]
    for name, value in values:
        labels.want(name, value)
    labels.fetch()
    return [FieldValue(labels.field_label(name), labels.show(name, value)) for name, value in values]


def _record_label(obj) -> str:
    """The record's name; a version whose related records are gone since is named by its model and pk."""
    try:
        return str(obj)
    except ObjectDoesNotExist:
        return f"{obj._meta.verbose_name} #{obj.pk}"


# Numeric list parameters of the admin's changelists and their upper bounds (see core.limits).
_NUMERIC_PARAMS = {"year": 2099, "month": 12, "day": 31, "p": PAGE_MAX}


def refused(request, error: DomainError):
    """A refusal as the admin shows it: the message in Japanese, back on the page that was submitted."""
    messages.error(request, str(error))
    return HttpResponseRedirect(request.get_full_path())


class RefusalAsMessageMixin:
    """A DomainError raised while the admin saves comes back as a message, never a 500.

    Django runs a change form's POST in one transaction (the form's save, the related saves, the admin log entry):
    the error propagates out of save_model or save_related, that transaction rolls back whole, and only then is the
    message shown. So a refused save writes no row, no history row and no admin log entry.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            return refused(request, error)


class UnchangedSaveMixin:
    """A change form that changes nothing writes nothing and says 「変更はありません」.

    Django's admin saves, logs "…を変更しました" (a LogEntry) and simple-history writes a row even when no field
    changed (only a reason, which is not the record's, was typed). With this mixin such a POST writes no row, no
    history row and no admin log entry: the record's own fields decide in save_model, its inlines in save_related
    (the first hook that sees them). An admin writes in `save_changes` (the record) and `save_related_changes`
    (many-to-many fields and inlines), which run only when something changed.
    """

    def changed_fields(self, form) -> list[str]:
        """The record's fields this POST changes (the reason is not one of them)."""
        return [name for name in form.changed_data if name != REASON_FIELD]

    def save_model(self, request, obj, form, change):
        if change and not self.changed_fields(form):
            obj._admin_unchanged = True  # unless an inline changed: decided in save_related
            return
        self.save_changes(request, obj, form, change)

    def save_changes(self, request, obj, form, change) -> None:
        """Write the record (through its service)."""
        raise NotImplementedError

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        if getattr(obj, "_admin_unchanged", False):
            if not any(formset.has_changed() for formset in formsets):
                return
            obj._admin_unchanged = False
            self.save_changes(request, obj, form, change)
        self.save_related_changes(request, form, formsets, change)

    def save_related_changes(self, request, form, formsets, change) -> None:
        """Write the many-to-many fields and inlines (Django's own save_related unless overridden)."""
        super().save_related(request, form, formsets, change)

    def log_change(self, request, obj, message):
        if getattr(obj, "_admin_unchanged", False):
            return None  # nothing changed: no admin log entry either
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        if not getattr(obj, "_admin_unchanged", False):
            return super().response_change(request, obj)
        self.message_user(request, f"{obj._meta.verbose_name}「{obj}」: 変更はありません。", messages.INFO)
        if "_continue" in request.POST:
            return HttpResponseRedirect(request.get_full_path())
        return self.response_post_save_change(request, obj)


class RecordAdmin(RefusalAsMessageMixin, UnchangedSaveMixin, SimpleHistoryAdmin):
    """Base of every admin: a required reason on change and delete, and a Japanese diff column."""

    form = ReasonForm
    formfield_overrides = WAREKI_FORMFIELD_OVERRIDES
    delete_confirmation_template = "admin/options/delete_confirmation_with_reason.html"
    history_list_display = [DIFF_COLUMN]
    object_history_form_template = HISTORY_VERSION_TEMPLATE

    # --- choices ----------------------------------------------------------------------------------

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A record whose name alone is ambiguous among the choices (a variant's 「標準」) names itself by its
        `choice_label()`; its queryset then fetches what that label reads."""
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        related = db_field.related_model
        if formfield is not None and hasattr(related, "choice_label") and hasattr(formfield, "label_from_instance"):
            formfield.label_from_instance = related.choice_label
            formfield.queryset = formfield.queryset.select_related(*getattr(related, "CHOICE_LABEL_RELATED", ()))
        return formfield

    # --- history list -------------------------------------------------------------------------

    def get_changelist_instance(self, request):
        """Refuse out-of-range list parameters (a year of 10**30, a page past PAGE_MAX) as Django refuses a bad
        lookup: the list comes back with its 'e=1' notice instead of a database overflow."""
        for key, value in request.GET.items():
            bound = _NUMERIC_PARAMS.get(key.rsplit("__", 1)[-1] if "__" in key else key)
            if bound is not None and not (value.isascii() and value.isdigit() and 1 <= int(value) <= bound):
                raise IncorrectLookupParameters(f"{key} is out of range")
        return super().get_changelist_instance(request)

    def history_view_title(self, request, obj):
        """simple-history has no Japanese catalogue: its 「View history: …」 is said here."""
        return f"{_record_label(obj)} の変更履歴"

    def history_changes(self, record):
        changes = record_changes(record)
        if not changes:
            return ""
        rows = format_html_join("", "<li><strong>{}</strong>: {} → {}</li>", ((c.label, c.old, c.new) for c in changes))
        return format_html("<ul>{}</ul>", rows)

    def set_history_delta_changes(self, request, page_obj, *args, **kwargs):
        """The diff column (with labels and names, not raw ids) replaces simple-history's own."""

    # --- one version of the history -------------------------------------------------------------

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Show one version read-only, to every user; a POST changes nothing and answers 405.

        simple-history's own view is a change form that saves whatever is posted to it, even with
        SIMPLE_HISTORY_REVERT_DISABLED (which only hides the button; upstream #1362). Such a save would
        bypass the services (a clerk's POST created a second migrated option contract), so it is refused
        before anything is looked up.
        """
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        request.current_app = self.admin_site.name
        record = self._history_version(object_id, version_id)
        obj = record.instance
        if not self.has_view_history_or_change_history_permission(request, obj):
            raise PermissionDenied

        opts = self.model._meta
        url_name = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}"
        label = _record_label(obj)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}（{wareki_datetime(record.history_date)} 時点）",
            "opts": opts,
            "app_label": opts.app_label,
            "record_label": label,
            "record": record,
            "action": HISTORY_TYPE_LABELS.get(record.history_type, record.history_type),
            "who": staff_name(record.history_user),
            "why": record.history_change_reason or "",
            "values": version_values(record),
            "changes": record_changes(record),
            "changelist_url": reverse(f"{url_name}_changelist"),
            "change_url": reverse(f"{url_name}_change", args=[quote(obj.pk)]),
            "history_url": reverse(f"{url_name}_history", args=[quote(obj.pk)]),
            **(extra_context or {}),
        }
        return self.render_history_view(request, self.object_history_form_template, context)

    def _history_version(self, object_id, version_id):
        """The historical row, or 404 (also for an id that is not even a number)."""
        opts = self.model._meta
        history = getattr(self.model, opts.simple_history_manager_attribute)
        lookup = {opts.pk.attname: unquote(object_id), "history_id": version_id}
        try:
            return history.select_related("history_user").get(**lookup)
        except (ObjectDoesNotExist, ValueError, TypeError, ValidationError) as error:
            raise Http404(f"{opts.verbose_name}のこの版の記録はありません。") from error

    # --- saving ---------------------------------------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would have no reason
        return actions

    def save_record(self, obj, *, actor, reason: str) -> None:
        """Save through a service: an admin whose saves are services calls `service.joined` here, inside the
        transaction Django's change form opens (core.transactions)."""
        save_with_history(obj, actor=actor, reason=reason)

    def delete_record(self, obj, *, actor, reason: str) -> None:
        obj._history_user = actor
        obj._change_reason = reason
        obj.delete()

    # --- saving: only what changed (UnchangedSaveMixin) ----------------------------------------

    def save_changes(self, request, obj, form, change) -> None:
        """Write the record through its service (ContractRecordAdmin's go through save_through_service)."""
        self.save_record(obj, actor=request.user, reason=form.cleaned_data[REASON_FIELD])

    def save_related_changes(self, request, form, formsets, change) -> None:
        # Many-to-many changes write history rows of their own; they carry the same actor and reason.
        obj = form.instance
        obj._history_user = request.user
        obj._change_reason = form.cleaned_data[REASON_FIELD]
        super().save_related_changes(request, form, formsets, change)

    # --- deleting -------------------------------------------------------------------------------

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST" and not request.POST.get(REASON_FIELD, "").strip():
            messages.error(request, f"削除の{REASON_LABEL}を入力してください。")
            return HttpResponseRedirect(request.get_full_path())
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:  # Django's transaction rolled back the delete and its admin log entry
            return refused(request, error)

    def delete_model(self, request, obj):
        self.delete_record(obj, actor=request.user, reason=request.POST[REASON_FIELD].strip())


# The diff column's header is what staff read; simple-history looks the column up by that name.
setattr(RecordAdmin, DIFF_COLUMN, RecordAdmin.history_changes)
