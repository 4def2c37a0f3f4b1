from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from core.errors import DomainError

from .access import is_security_admin
from .accounts import (
    staff_account_assert_manageable,
    staff_account_create,
    staff_account_deactivate,
    staff_account_flags_set,
    staff_account_roles_set,
    staff_account_update,
)
from .models import AuthEvent, StaffAccount

admin.site.unregister(get_user_model())


@admin.register(AuthEvent)
class AuthEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, so nobody adds, changes or deletes a row here, superusers included."""

    list_display = ("at", "kind", "username", "ip_address", "path", "target", "detail")
    list_filter = ("kind",)
    search_fields = ("username", "ip_address", "target")
    date_hierarchy = "at"
    actions = None
    actions_on_top = True  # with no actions Django would otherwise add an inline <style> (blocked by the CSP)

    def has_module_permission(self, request):
        return is_security_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_security_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Staff accounts: the stock UserAdmin, with every write through security.accounts -------------------------

_FLAGS = ("is_active", "is_staff", "is_superuser")


@admin.register(get_user_model())
class StaffUserAdmin(UserAdmin):
    """User pages whose saves go through the staff-account services (security/accounts.py), so that a システム管理者
    that is not a superuser grants no more than it holds. Flags and direct permissions are read-only to it; no
    account is deleted (deactivate instead: the ledger, the history and the auth log name it)."""

    list_display = ("username", "last_name", "first_name", "is_active", "is_staff", "is_superuser")
    actions = ["deactivate_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return []
        fields = ["last_login", "date_joined", *_FLAGS, "user_permissions"]
        if obj.pk == request.user.pk:
            fields.append("groups")
        return fields

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or obj.pk == request.user.pk:
            return True
        try:
            staff_account_assert_manageable(obj, request.user)
        except DomainError:
            return False  # shown read-only: a superuser, or an account holding what this actor does not
        return True

    def has_delete_permission(self, request, obj=None):
        return False

    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied  # accounts are deactivated, never deleted

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # The stock views open an outer transaction; the services have their own durable ones.
    @method_decorator(sensitive_post_parameters())
    @method_decorator(csrf_protect)
    def add_view(self, request, form_url="", extra_context=None):
        return self._add_view(request, form_url, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._changeform_view(request, object_id, form_url, extra_context)

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, unquote(id))
        if target is not None and target.pk != request.user.pk:
            try:
                staff_account_assert_manageable(target, request.user)
            except DomainError as error:
                messages.error(request, str(error))
                raise PermissionDenied(str(error)) from error
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if not change:
                password = data.get("password1") if data.get("usable_password", "true") != "false" else None
                saved = staff_account_create(username=data["username"], password=password or None, actor=request.user)
                obj.pk = saved.pk
                obj.__dict__.update({f.attname: getattr(saved, f.attname) for f in saved._meta.concrete_fields})
                obj._state.adding = False
                return
            if any(name in data for name in _FLAGS):
                stored = type(obj)._default_manager.get(pk=obj.pk)
                staff_account_flags_set(
                    user=obj,
                    actor=request.user,
                    **{name: data.get(name, getattr(stored, name)) for name in _FLAGS},
                )
            staff_account_update(
                user=obj,
                last_name=data.get("last_name", obj.last_name),
                first_name=data.get("first_name", obj.first_name),
                email=data.get("email", obj.email),
                actor=request.user,
            )
        except DomainError as error:
            request._domain_error = error

    def save_related(self, request, form, formsets, change):
        if not change or getattr(request, "_domain_error", None):
            return
        data = form.cleaned_data
        if "groups" not in data and "user_permissions" not in data:
            return
        try:
            staff_account_roles_set(
                user=form.instance,
                roles=data["groups"] if "groups" in data else form.instance.groups.all(),
                permissions=data.get("user_permissions"),
                actor=request.user,
            )
        except DomainError as error:
            request._domain_error = error

    def log_addition(self, request, obj, message):
        if not getattr(request, "_domain_error", None):
            return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not getattr(request, "_domain_error", None):
            return super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_domain_error", None):
            messages.error(request, str(request._domain_error))
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_domain_error", None):
            messages.error(request, str(request._domain_error))
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)

    @admin.action(description="選択した職員アカウントを無効にする（削除はしません）", permissions=["change"])
    def deactivate_selected(self, request, queryset):
        done = 0
        for user in queryset.order_by("pk"):
            try:
                staff_account_deactivate(user=user, actor=request.user)
            except DomainError as error:
                messages.error(request, str(error))
            else:
                done += 1
        if done:
            messages.success(request, f"{done}件の職員アカウントを無効にしました。")


@admin.register(StaffAccount)
class StaffAccountAdmin(admin.ModelAdmin):
    """Read-only: who created which account (written once by staff_account_create)."""

    list_display = ("user", "created_by", "created_at")
    search_fields = ("user__username", "created_by__username")
    list_select_related = ("user", "created_by")

    def has_module_permission(self, request):
        return is_security_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_security_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
