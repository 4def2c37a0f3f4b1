from django.utils.functional import SimpleLazyObject

from contracts.roles import SYSTEM_ADMIN


def security(request):
    """The signed-in user's role groups (the header's badges) and whether the security menu shows.

    One lazy query serves both, so a page asks for the groups once, and only if it shows them.
    """
    user = getattr(request, "user", None)

    def groups():
        if user is None or not user.is_authenticated:
            return []
        return list(user.groups.all())

    user_groups = SimpleLazyObject(groups)

    def show_security_menu():
        # The same rule as security.access.is_security_admin, read from the groups already fetched.
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        return user.is_superuser or any(group.name == SYSTEM_ADMIN for group in user_groups)

    return {"user_groups": user_groups, "show_security_menu": show_security_menu}
