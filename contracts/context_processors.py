from contracts.queues import queue_links
from contracts.selectors import SEARCH_PERMISSIONS


def search_box(request):
    """Whether the header shows the search box: to a user who may view at least one kind it searches."""
    user = getattr(request, "user", None)

    def show_search_box():
        if user is None or not user.is_authenticated:
            return False
        return any(user.has_perm(perm) for perm in SEARCH_PERMISSIONS)

    return {"show_search_box": show_search_box}


def work_queues(request):
    """The navigation's queues (審査待ち 3), counted only when a page renders them."""
    return {"work_queues": lambda: queue_links(request)}
