"""Every write states why (the reason becomes the history row's change reason) and is made
by someone whose role allows it (DOMAIN §3.15)."""

from core.errors import DomainError

# Who may write (DOMAIN §3.15) is checked the same way for the catalogue and for contracts.
from core.permissions import is_system_user, require_any_permission, require_permission

__all__ = ["is_system_user", "require_any_permission", "require_permission", "require_reason"]


def require_reason(reason: str | None, *, label: str = "変更理由") -> str:
    """Return the reason stripped; a blank one is refused."""
    text = (reason or "").strip()
    if not text:
        raise DomainError(f"{label}を入力してください。", code="reason_required")
    return text
