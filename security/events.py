"""Writing one authentication-log row from a request (or from no request: a command or a test client login)."""

import logging

from django.db import DatabaseError

from .client import client_ip, user_agent
from .models import AuthEvent

log = logging.getLogger(__name__)


def record(kind, request=None, *, user=None, username: str = "", target: str = "", detail: str = "") -> AuthEvent:
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return AuthEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:255],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        path=(request.path[:255] if request is not None else ""),
        target=target[:255],
        detail=detail[:255],
    )


def record_quietly(kind, request=None, **kwargs) -> AuthEvent | None:
    """Record, but never let a failing log write turn the page being answered (a 403) into a 500."""
    try:
        return record(kind, request, **kwargs)
    except DatabaseError:
        log.exception("認証ログを書き込めませんでした（%s）", kind)
        return None
