from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from core.admin import RefusalAsMessageMixin, UnchangedSaveMixin, refused
from core.errors import DomainError

from .access import is_security_admin
from .accounts import (
    staff_account_assert_manageable,
    staff_account_create,
    staff_account_deactivate,
    staff_account_flags_set,
    staff_account_password_set,
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
class StaffUserAdmin(RefusalAsMessageMixin, UnchangedSaveMixin, UserAdmin):
    """User pages whose saves go through the staff-account services (security/accounts.py), so that a システム管理者
    that is not a superuser grants no more than it holds. Flags and direct permissions are read-only to it; no
    account is deleted (deactivate instead: the ledger, the history and the auth log name it). A save that changes
    nothing says 「変更はありません」 and writes nothing (UnchangedSaveMixin, as every record admin)."""

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

    def user_change_password(self, request, id, form_url=""):
        """The stock page, whose valid POST sets the password through staff_account_password_set."""
        target = self.get_object(request, unquote(id))
        if target is not None and target.pk != request.user.pk:
            try:
                staff_account_assert_manageable(target, request.user)
            except DomainError as error:
                messages.error(request, str(error))
                raise PermissionDenied(str(error)) from error
        if request.method != "POST" or target is None or not self.has_change_permission(request, target):
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(target, request.POST)
        if not form.is_valid() or not (form.cleaned_data["set_usable_password"] or "unset-password" in request.POST):
            return super().user_change_password(request, id, form_url)  # the stock page says what is wrong
        password = form.cleaned_data["password1"] if form.cleaned_data["set_usable_password"] else None
        try:
            with transaction.atomic():  # the password and the admin log entry together
                user = staff_account_password_set.joined(user=target, password=password, actor=request.user)
                self.log_change(request, user, self.construct_change_message(request, form, None))
        except DomainError as error:
            return refused(request, error)
        messages.success(
            request, "パスワードを変更しました。" if password else "パスワードによるログインを無効にしました。"
        )
        update_session_auth_hash(request, user)
        return HttpResponseRedirect(reverse("admin:auth_user_change", args=[user.pk]))

    def save_changes(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            password = data.get("password1") if data.get("usable_password", "true") != "false" else None
            saved = staff_account_create.joined(
                username=data["username"], password=password or None, actor=request.user
            )
            obj.pk = saved.pk
            obj.__dict__.update({f.attname: getattr(saved, f.attname) for f in saved._meta.concrete_fields})
            obj._state.adding = False
            return
        if any(name in data for name in _FLAGS):
            stored = type(obj)._default_manager.get(pk=obj.pk)
            staff_account_flags_set.joined(
                user=obj,
                actor=request.user,
                **{name: data.get(name, getattr(stored, name)) for name in _FLAGS},
            )
        staff_account_update.joined(
            user=obj,
            last_name=data.get("last_name", obj.last_name),
            first_name=data.get("first_name", obj.first_name),
            email=data.get("email", obj.email),
            actor=request.user,
        )

    def save_related_changes(self, request, form, formsets, change):
        data = form.cleaned_data
        if not change or ("groups" not in data and "user_permissions" not in data):
            return
        staff_account_roles_set.joined(
            user=form.instance,
            roles=data["groups"] if "groups" in data else form.instance.groups.all(),
            permissions=data.get("user_permissions"),
            actor=request.user,
        )

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
