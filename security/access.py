"""Who may read the authentication log and release lockouts: superusers and the システム管理者 role, no one else.

The role is a group (contracts/roles.py); membership, not a permission, is what is checked, so no other role can be
given this by a permission change.
"""

from contracts.roles import SYSTEM_ADMIN


def is_security_admin(user) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_security_admin", None)
    if cached is None:
        cached = user.groups.filter(name=SYSTEM_ADMIN).exists()
        user._security_admin = cached
    return cached
