"""The one write of the security screens: releasing a lockout, by a システム管理者, recorded in the auth log."""

from axes.handlers.proxy import AxesProxyHandler
from django.core.exceptions import PermissionDenied
from django.db import transaction

from core.errors import DomainError

from .access import is_security_admin
from .lockouts import IP_ADDRESS, LABELS, USERNAME
from .models import AuthEvent, AuthEventKind


def lockout_release(
    *, actor, username: str = "", ip_address: str = "", source_address: str | None = None, path: str = ""
) -> int:
    """Clear the failed logins of one username or one source address, so it may log in again at once.

    Only a superuser or a member of システム管理者 may (the view checks too; this is the last line). Returns how
    many attempt records were removed; refuses, as a DomainError, a target with nothing to release.
    """
    if not is_security_admin(actor):
        raise PermissionDenied("ロックを解除できるのはシステム管理者だけです。")
    username, ip_address = (username or "").strip(), (ip_address or "").strip()
    if bool(username) == bool(ip_address):
        raise DomainError("解除するユーザー名または送信元アドレスを、どちらか一つ指定してください。")
    parameter, value = (USERNAME, username) if username else (IP_ADDRESS, ip_address)
    target = f"{LABELS[parameter]} {value}"
    with transaction.atomic():
        removed = AxesProxyHandler.reset_attempts(**{parameter: value})
        if not removed:
            raise DomainError(f"{target} はロックされていません（期限が過ぎて解除済みの可能性があります）。")
        AuthEvent.objects.create(
            kind=AuthEventKind.LOCKOUT_RELEASED,
            user=actor,
            username=actor.get_username(),
            ip_address=source_address,
            path=path[:255],
            target=target[:255],
            detail=f"ログイン失敗の記録 {removed}件を消去",
        )
    return removed
