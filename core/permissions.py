"""Who may write (DOMAIN §3.15): every write service asks here, so no view, admin page or command is a back door."""

from django.conf import settings

from .errors import DomainError


def is_system_user(actor) -> bool:
    """The named user management commands act as: it cannot log in, and acts for whoever runs the command."""
    return actor.get_username() == settings.SYSTEM_USERNAME and not actor.is_active


def require_permission(actor, *perms: str, action: str) -> None:
    """Refuse an action unless the actor's role grants every one of `perms` (DOMAIN §3.15).

    Views and the admin check too; this is the last line, so that no future entry point is a back door.
    """
    if is_system_user(actor):
        return
    if not actor.has_perms(perms):
        raise DomainError(f"{action}権限がありません。", code="permission_denied")


def require_any_permission(actor, *perms: str, action: str) -> None:
    """Refuse an action unless the actor's role grants at least one of `perms`."""
    if is_system_user(actor):
        return
    if not any(actor.has_perm(perm) for perm in perms):
        raise DomainError(f"{action}権限がありません。", code="permission_denied")
