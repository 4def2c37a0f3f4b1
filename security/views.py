"""The security screens of the システム管理者 (the auth log, current lockouts and their release) and the 403 page."""

from django.contrib import messages
from django.contrib.auth.mixins import UserPassesTestMixin
from django.shortcuts import redirect
from django.views import View
from django.views.defaults import permission_denied as default_permission_denied
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.errors import DomainError
from core.tables import PAGINATION
from core.views import TableListMixin

from .access import is_security_admin
from .client import client_ip
from .events import record_quietly
from .filters import AuthEventFilter
from .forms import LockoutReleaseForm
from .lockouts import IP_ADDRESS, USERNAME, cool_off_minutes, current_lockouts, failure_limit
from .models import AuthEvent, AuthEventKind
from .services import lockout_release
from .tables import AuthEventTable


class SecurityAdminRequiredMixin(UserPassesTestMixin):
    """Superusers and システム管理者 only; any other signed-in user gets 403 (anonymous: the login page)."""

    raise_exception = True

    def test_func(self):
        return is_security_admin(self.request.user)


class AuthEventListView(SecurityAdminRequiredMixin, TableListMixin, SingleTableMixin, FilterView):
    template_name = "security/auth_log.html"
    filterset_class = AuthEventFilter
    table_class = AuthEventTable
    table_pagination = PAGINATION
    queryset = AuthEvent.objects.order_by("-at", "-pk")


class LockoutListView(SecurityAdminRequiredMixin, TemplateView):
    template_name = "security/lockout_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            lockouts=current_lockouts(),
            cool_off_minutes=cool_off_minutes(),
            username_limit=failure_limit(USERNAME),
            address_limit=failure_limit(IP_ADDRESS),
        )
        return context


class LockoutReleaseView(SecurityAdminRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = LockoutReleaseForm(request.POST)
        if not form.is_valid():
            messages.error(request, "解除する対象を正しく指定してください。")
            return redirect("security:lockout_list")
        try:
            removed = lockout_release(
                actor=request.user,
                username=form.cleaned_data["username"],
                ip_address=form.cleaned_data["ip_address"] or "",
                source_address=client_ip(request),
                path=request.path,
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            target = form.cleaned_data["username"] or form.cleaned_data["ip_address"]
            messages.success(request, f"{target} のロックを解除しました（失敗の記録 {removed}件を消去）。")
        return redirect("security:lockout_list")


def permission_denied(request, exception):
    """handler403: the Japanese 403 page, and a row in the auth log naming who was refused what."""
    user = getattr(request, "user", None)
    record_quietly(
        AuthEventKind.PERMISSION_DENIED,
        request,
        user=user,
        detail=f"{request.method} {request.get_full_path()}",
    )
    return default_permission_denied(request, exception, template_name="403.html")
