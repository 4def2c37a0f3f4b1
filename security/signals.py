"""The authentication log, written from Django's auth signals and axes' user_locked_out."""

from axes.handlers.proxy import AxesProxyHandler
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .events import record
from .lockouts import cool_off_minutes, current_lockouts
from .models import AuthEventKind
from .sessions import mark_login

ALREADY_LOCKED = "security_already_locked"


@receiver(user_logged_in, dispatch_uid="security.login")
def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        mark_login(request)
    record(AuthEventKind.LOGIN, request, user=user)


@receiver(user_logged_out, dispatch_uid="security.logout")
def on_logout(sender, request, user, **kwargs):
    if user is None:  # an anonymous POST to the logout page: nobody logged out
        return
    record(AuthEventKind.LOGOUT, request, user=user, detail=getattr(request, "security_logout_reason", ""))


@receiver(user_login_failed, dispatch_uid="security.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    model = get_user_model()
    username = str(credentials.get(model.USERNAME_FIELD) or credentials.get("username") or "")
    user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first() if username else None
    # Runs before axes counts this failure (security comes before axes in INSTALLED_APPS): a request refused
    # because it was already locked is told apart from a wrong password, and does not count as a new lockout.
    locked = bool(settings.AXES_ENABLED and request is not None and AxesProxyHandler.is_locked(request, credentials))
    if request is not None:
        setattr(request, ALREADY_LOCKED, locked)
    detail = "ロック中のため拒否（パスワードは確認していません）" if locked else "ユーザー名またはパスワードの誤り"
    record(AuthEventKind.LOGIN_FAILED, request, user=user, username=username, detail=detail)


@receiver(user_locked_out, dispatch_uid="security.locked_out")
def on_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    if request is not None and getattr(request, ALREADY_LOCKED, False):
        return
    locks = current_lockouts(username=username or "", ip_address=ip_address)
    target = "、".join(lock.description for lock in locks)
    minutes = cool_off_minutes()
    detail = f"最後の失敗から{minutes}分間ロック" if minutes is not None else "解除されるまでロック"
    record(AuthEventKind.LOCKOUT, request, username=username or "", target=target, detail=detail)
