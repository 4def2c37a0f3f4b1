"""Every write states why: the reason becomes the history row's change reason (issue 3, rule 9)."""

from django.conf import settings

from options.errors import DomainError


def require_reason(reason: str | None, *, label: str = "変更理由") -> str:
    """Return the reason stripped; a blank one is refused."""
    text = (reason or "").strip()
    if not text:
        raise DomainError(f"{label}を入力してください。", code="reason_required")
    return text


def is_system_user(actor) -> bool:
    """The named user management commands act as: it cannot log in, and acts for whoever runs the command."""
    return actor.get_username() == settings.SYSTEM_USERNAME and not actor.is_active


def require_permission(actor, perm: str, *, action: str) -> None:
    """Refuse an action the actor's role does not grant (DOMAIN §3.15); views check too, this is the last line."""
    if is_system_user(actor):
        return
    if not actor.has_perm(perm):
        raise DomainError(f"{action}権限がありません。", code="permission_denied")
