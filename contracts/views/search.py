"""Find anything: one query across subscribers, their contracts and applications, grouped by kind."""

from django.views.generic import TemplateView

from contracts.selectors import SEARCH_PERMISSIONS, SEARCH_QUERY_MAX, search_everything

from .base import StaffPermissionMixin


class SearchView(StaffPermissionMixin, TemplateView):
    """The results of the header's search box; each group only for a role that may view its kind."""

    template_name = "contracts/search.html"

    def has_permission(self):
        user = self.request.user
        return any(user.has_perm(perm) for perm in SEARCH_PERMISSIONS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "").strip()
        context.update(query=query, query_max=SEARCH_QUERY_MAX)
        if query:
            groups = search_everything(text=query, user=self.request.user)
            context.update(groups=groups, found=sum(len(group.rows) for group in groups))
        return context
