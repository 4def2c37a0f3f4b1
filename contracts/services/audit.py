"""Every write states why (the reason becomes the history row's change reason) and is made
by someone whose role allows it (DOMAIN §3.15)."""

from core.errors import DomainError

# Who may write (DOMAIN §3.15) is checked the same way for the catalogue and for contracts.
from core.permissions import is_system_user, require_any_permission, require_permission
from core.text import TextKind, text_assert_clean

__all__ = ["is_system_user", "require_any_permission", "require_permission", "require_reason"]


def require_reason(reason: str | None, *, label: str = "変更理由") -> str:
    """Return the reason stripped; a blank one, or one the text rule forbids, is refused."""
    if reason is not None and not isinstance(reason, str):
        raise DomainError(f"{label}を文字列で入力してください。", code="reason_required")
    text = (reason or "").strip()
    if not text:
        raise DomainError(f"{label}を入力してください。", code="reason_required")
    return text_assert_clean(text, label=label, kind=TextKind.TEXT)
