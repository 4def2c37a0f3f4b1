"""Work queue pages: what waits, oldest first, with how long each item has waited; 「次の申込へ」 from an item."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from contracts.queues import QUEUES_BY_KEY, Queue, queue_links, queues_for
from core import clock

from .base import StaffPermissionMixin

PAGE_ROWS = 100  # the head of the queue: staff work it oldest first, and the full list is one link away


def queue_item_url(queue: Queue, pk: int) -> str:
    """An item's page, opened from `queue` (it offers 「次の…へ」 in that queue)."""
    return f"{reverse(queue.detail_url_name, args=[pk])}?queue={queue.key}"


def queue_of(request, key: str | None, *, detail: str) -> Queue | None:
    """The queue named `key` if it holds the records of the `detail` page and the user works it, else None."""
    queue = QUEUES_BY_KEY.get(key or "")
    if queue is None or queue.detail_url_name != detail or queue not in queues_for(request.user):
        return None
    return queue


class QueueView(StaffPermissionMixin, TemplateView):
    """One queue: its head, oldest first. `?after=<pk>` goes to the item after that one (「次の申込へ」)."""

    template_name = "contracts/queue.html"
    queue: Queue = None

    def get_permission_required(self):
        return [self.queue.permission]

    def get(self, request, *args, **kwargs):
        after = request.GET.get("after", "")
        if after:
            if not after.isdigit() or len(after) > 12:
                messages.error(request, "次の項目を探せませんでした（番号が正しくありません）。")
                return redirect(self.queue.url_name)
            following = self.queue.next_after(request.user, int(after))
            if following is None:
                messages.info(request, f"{self.queue.label}の{self.queue.item_label}はほかにありません。")
                return redirect(self.queue.url_name)
            return redirect(queue_item_url(self.queue, following.pk))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        link = next(link for link in queue_links(self.request) if link.queue.key == self.queue.key)
        rows = list(self.queue.rows(self.request.user)[: PAGE_ROWS + 1])
        context.update(queue=self.queue, link=link, rows=rows[:PAGE_ROWS], more=len(rows) > PAGE_ROWS, now=clock.now())
        return context
