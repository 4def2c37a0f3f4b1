"""Read-only in the admin: the export log is append-only, a job changes only through its task."""

from django.contrib import admin

from .models import ExportJob, ExportLog


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "kind", "filename", "rows", "size", "outcome")
    list_filter = ("kind", "outcome")
    search_fields = ("filename", "user__username")
    show_full_result_count = False


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ("requested_at", "requested_by", "kind", "status", "filename", "row_count", "size")
    list_filter = ("kind", "status")
    exclude = ()
    show_full_result_count = False
