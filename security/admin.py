from django.contrib import admin

from .access import is_security_admin
from .models import AuthEvent


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
