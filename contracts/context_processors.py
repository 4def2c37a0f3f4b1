from contracts.selectors import SEARCH_PERMISSIONS


def search_box(request):
    """Whether the header shows the search box: to a user who may view at least one kind it searches."""
    user = getattr(request, "user", None)

    def show_search_box():
        if user is None or not user.is_authenticated:
            return False
        return any(user.has_perm(perm) for perm in SEARCH_PERMISSIONS)

    return {"show_search_box": show_search_box}
