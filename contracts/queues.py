"""Work queues: what waits for a staff member, oldest first, declared once.

Each queue says who sees it (a permission of contracts/roles.py), what is in it for that user (a queryset in
queue order, read from an index that holds only what waits), and how it is named. The navigation's counts, the
home's panels, the queue pages and 「次の申込へ」 all read QUEUES; nothing else decides what waits.

A queue holds what its viewer can act on: the applications to decide leave out the viewer's own (four eyes,
DOMAIN §3.8), the migrated contracts to confirm leave out those the viewer registered.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case, Q, QuerySet, Value, When
from django.urls import reverse

from contracts.billing.charges import migration_pending
from contracts.choices import ApplicationStatus, OptionContractStatus
from contracts.models import Application, OptionContract

# A count stops here, so it costs at most this many index entries however long the queue is: shown as 「99+」.
COUNT_CAP = 99


@dataclass(frozen=True)
class Queue:
    key: str
    label: str  # in the navigation: 審査待ち
    title: str  # on the home and the queue page
    permission: str
    since_field: str  # the item waits since this instant; the queue's order is (since_field, pk)
    since_label: str
    item_label: str  # 「次の申込へ」
    rows_template: str
    detail_url_name: str
    list_url_name: str  # the full list, filtered to what the queue holds ("" when there is none)
    list_query: str
    _rows: Callable[[object], QuerySet]

    @property
    def list_url(self) -> str:
        return f"{reverse(self.list_url_name)}?{self.list_query}" if self.list_url_name else ""

    @property
    def url_name(self) -> str:
        return f"contracts:queue_{self.key.replace('-', '_')}"

    @property
    def next_label(self) -> str:
        return f"次の{self.item_label}へ"

    def rows(self, user) -> QuerySet:
        """What waits for `user`, oldest first."""
        return self._rows(user).order_by(self.since_field, "pk")

    def next_after(self, user, item_pk: int):
        """The item after `item_pk` in queue order, or the oldest one when `item_pk` was the last or has left the
        queue (decided): the queue is worked through oldest first, and what was skipped comes round again."""
        rows = self.rows(user).exclude(pk=item_pk)
        current = self._rows(user).model.objects.filter(pk=item_pk).values_list(self.since_field, flat=True).first()
        if current is not None:
            later = Q(**{f"{self.since_field}__gt": current}) | Q(**{self.since_field: current, "pk__gt": item_pk})
            following = rows.filter(later).first()
            if following is not None:
                return following
        return rows.first()


def _applications(status: str, *, own: bool):
    def rows(user) -> QuerySet:
        found = (
            Application.objects.filter(status=status)
            .select_related("subscriber", "option", "variant", "entered_by")
            .annotate(entered_by_viewer=Case(When(entered_by=user, then=Value(True)), default=Value(False)))
        )
        return found if own else found.exclude(entered_by=user)

    return rows


def _awaiting_billing_start(user) -> QuerySet:
    # The condition of the partial index option_contract_to_bill_idx, written out so that it serves.
    return (
        OptionContract.objects.filter(status=OptionContractStatus.APPROVED, billing_start_date__isnull=True)
        .exclude(migration_pending())
        .select_related("subscriber", "option", "variant", "approved_by")
    )


def _migrations_to_confirm(user) -> QuerySet:
    return (
        OptionContract.objects.filter(migration_pending())
        .exclude(registered_by=user)
        .select_related("subscriber", "option", "variant", "registered_by")
    )


def _application_queue(key: str, label: str, title: str, status: str, *, own: bool) -> Queue:
    return Queue(
        key=key,
        label=label,
        title=title,
        permission="contracts.decide_application",
        since_field="entered_at",
        since_label="受付から",
        item_label="申込",
        rows_template="contracts/_queue_applications.html",
        detail_url_name="contracts:application_detail",
        list_url_name="contracts:application_list",
        list_query=f"status={status}",
        _rows=_applications(status, own=own),
    )


QUEUES: tuple[Queue, ...] = (
    _application_queue(
        "review", "審査待ち", "審査中の申込（承諾・不承諾待ち）", ApplicationStatus.UNDER_REVIEW, own=False
    ),
    _application_queue(
        "received", "審査開始待ち", "受付済みの申込（審査開始待ち）", ApplicationStatus.RECEIVED, own=True
    ),
    Queue(
        key="billing-start",
        label="課金開始日待ち",
        title="課金開始日の入力待ち（承諾済み）",
        permission="contracts.change_optioncontract",
        since_field="approved_at",
        since_label="承諾から",
        item_label="契約",
        rows_template="contracts/_queue_contracts.html",
        detail_url_name="contracts:optioncontract_detail",
        list_url_name="contracts:optioncontract_list",
        list_query="awaiting_billing_start=on",
        _rows=_awaiting_billing_start,
    ),
    Queue(
        key="migrations",
        label="移行データ確認待ち",
        title="移行データの確認待ち",
        permission="contracts.change_optioncontract",
        since_field="created_at",
        since_label="登録から",
        item_label="契約",
        rows_template="contracts/_queue_contracts.html",
        detail_url_name="contracts:optioncontract_detail",
        list_url_name="",
        list_query="",
        _rows=_migrations_to_confirm,
    ),
)
QUEUES_BY_KEY = {queue.key: queue for queue in QUEUES}


def queues_for(user) -> list[Queue]:
    """The queues `user`'s role works (each role's home and navigation show these only)."""
    if user is None or not user.is_authenticated:
        return []
    return [queue for queue in QUEUES if user.has_perm(queue.permission)]


def queue_count(queue: Queue, user) -> int:
    """How many wait, counted up to COUNT_CAP + 1 only: the ids of at most that many rows, read from the queue's
    index in its order, so a count costs the same however long the queue (and is never a COUNT of the table)."""
    return len(queue.rows(user).values_list("pk", flat=True)[: COUNT_CAP + 1])


def count_label(count: int) -> str:
    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)


def waited(since: dt.datetime | None, now: dt.datetime) -> str:
    """How long an item has waited, as staff say it: 3日, 5時間, 12分 (the largest unit, rounded down)."""
    if since is None:
        return ""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds >= 86400:
        return f"{seconds // 86400}日"
    if seconds >= 3600:
        return f"{seconds // 3600}時間"
    return f"{seconds // 60}分"


@dataclass(frozen=True)
class QueueLink:
    """A queue as the navigation and the home name it: 審査待ち 3."""

    queue: Queue
    count: int
    count_label: str
    url: str


def queue_links(request) -> list[QueueLink]:
    """The signed-in user's queues with their (capped) counts, counted once per request."""
    links = getattr(request, "_queue_links", None)
    if links is None:
        user = getattr(request, "user", None)
        links = []
        for queue in queues_for(user):
            count = queue_count(queue, user)
            links.append(QueueLink(queue, count, count_label(count), reverse(queue.url_name)))
        request._queue_links = links
    return links
