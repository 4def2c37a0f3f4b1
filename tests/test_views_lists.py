"""The list pages: bounded query counts as rows grow (10 and 200), sorting that ends with the pk, no uncapped
COUNT(*)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.choices import ApplicationKind, ApplicationStatus, LedgerKind, OptionContractStatus
from contracts.models import Application, LedgerEntry, OptionContract
from options.models import FeeItem
from tests import ui_data
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

# The most queries any list page may make, whatever the number of rows (session, user, groups, filters, page),
# and the session saved on every request for the 30-minute idle limit (SESSION_SAVE_EVERY_REQUEST: 3 queries).
MAX_QUERIES = 17
LISTS = [
    "contracts:subscriber_list",
    "contracts:application_list",
    "contracts:optioncontract_list",
    "contracts:ledger_list",
    "options:revision_list",
    "options:option_list",
    "home",
]
DETAILS = ["contracts:subscriber_detail", "contracts:optioncontract_detail"]


def build(n, *, clerk, approver):
    """n subscribers, each with a decided application, an option contract and a ledger row (written directly)."""
    option, variant = ui_data.swp()
    fee = FeeItem.objects.get(option=option)
    first = None
    for i in range(n):
        subscriber = SubscriberFactory()
        at = dt.datetime(2026, 2, 1, 1, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
        application = Application.objects.create(
            kind=ApplicationKind.NEW,
            status=ApplicationStatus.APPROVED,
            subscriber=subscriber,
            option=option,
            variant=variant,
            quantity=10,
            entered_by=clerk,
            entered_at=at,
            decided_by=approver,
            decided_at=at,
        )
        contract = OptionContract.objects.create(
            subscriber=subscriber,
            option=option,
            variant=variant,
            quantity=10,
            status=OptionContractStatus.BILLING,
            origin_application=application,
            contracted_on=at.date(),
            approved_at=at,
            approved_by=approver,
            billing_start_date=at.date(),
        )
        LedgerEntry.objects.create(
            kind=LedgerKind.MONTHLY,
            option_contract=contract,
            application=application,
            fee_item=fee,
            revision=fee.revision,
            article=fee.article,
            quantity=10,
            blocks=1,
            unit_amount_yen=3000,
            amount_yen=3000,
            arisen_at=at,
            booked_month=dt.date(2026, 2, 1),
            effective_from=at.date(),
            created_by=clerk,
        )
        first = first or (subscriber, contract)
    return first


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("rows", [10, 200])
def test_list_and_detail_pages_make_a_bounded_number_of_queries(regulation, client, clerk, approver, rows):
    subscriber, contract = build(rows, clerk=clerk, approver=approver)
    client.force_login(approver)
    urls = [reverse(name) for name in LISTS]
    urls += [reverse("contracts:subscriber_detail", args=[subscriber.pk])]
    urls += [reverse("contracts:optioncontract_detail", args=[contract.pk])]
    for url in urls:
        sql = queries_for(client, url)
        assert len(sql) <= MAX_QUERIES, f"{url}: {len(sql)} queries\n" + "\n".join(sql)
        # A list counts its matches only up to a cap (core.tables.capped_count): never a COUNT of the whole table.
        assert not any('"__count"' in q and " LIMIT " not in q for q in sql), f"{url} counts all its rows"


def test_query_counts_do_not_grow_with_rows(regulation, client, clerk, approver):
    """The same page with 10 and with 60 more rows makes the same number of queries (no N+1)."""
    build(10, clerk=clerk, approver=approver)
    client.force_login(approver)
    before = {name: len(queries_for(client, reverse(name))) for name in LISTS}
    build(60, clerk=clerk, approver=approver)
    after = {name: len(queries_for(client, reverse(name))) for name in LISTS}
    assert before == after


def test_sorting_by_a_column_still_ends_with_the_pk_and_pages_are_stable(regulation, client, clerk, approver):
    build(60, clerk=clerk, approver=approver)
    client.force_login(approver)
    url = reverse("contracts:ledger_list") + "?sort=amount_yen"
    response = client.get(url)
    table = response.context["table"]
    assert list(table.data.data.query.order_by)[-1] == "pk"
    first_page = [row.record.pk for row in table.page.object_list]
    second_page = [row.record.pk for row in client.get(url + "&page=2").context["table"].page.object_list]
    assert len(first_page) == 50 and len(second_page) == 10
    assert not set(first_page) & set(second_page)
    assert "次へ" in response.content.decode()


def test_the_ledger_filters_by_month_in_wareki(regulation, client, clerk, approver):
    build(3, clerk=clerk, approver=approver)
    client.force_login(approver)
    hits = client.get(reverse("contracts:ledger_list") + "?month=令和8年2月").context["table"].page.object_list
    misses = client.get(reverse("contracts:ledger_list") + "?month=2026-03").context["table"].page.object_list
    assert (len(hits), len(misses)) == (3, 0)


def test_subscribers_are_found_by_code_name_or_kana(regulation, client, clerk):
    SubscriberFactory(code="A00001", name="株式会社青空", kana="カブシキガイシャアオゾラ")
    SubscriberFactory(code="B00002", name="有限会社夕焼", kana="ユウゲンガイシャユウヤケ")
    client.force_login(clerk)

    def found(q):
        table = client.get(reverse("contracts:subscriber_list"), {"q": q}).context["table"]
        return [row.record.code for row in table.page.object_list]

    assert found("A0000") == ["A00001"]
    assert found("夕焼") == ["B00002"]
    assert found("アオゾラ") == ["A00001"]
    table = client.get(reverse("contracts:subscriber_list"), {"is_active": "false"}).context["table"]
    assert list(table.page.object_list) == []
