"""Work queues (contracts.queues): each role's own, counted in the navigation (capped), oldest first with how long
each item has waited, and 「次の申込へ」 after a decision goes to the next in that queue."""

import datetime as dt

import pytest
from django.urls import reverse

from contracts import queues
from contracts.choices import ApplicationStatus
from contracts.queues import QUEUES_BY_KEY, count_label, queue_count, waited
from contracts.services import (
    application_approve,
    application_reject,
    application_start_review,
    option_contract_register_migrated,
)
from contracts.services.applications import application_terms_version
from tests import factories
from tests.factories import option, subscriber_with_base, variant

pytestmark = pytest.mark.django_db


def _html(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _under_review(*, clerk, approver, fixed_clock, days_apart=(3, 2, 1)):
    """Three applications under review, entered `days_apart` days before now, oldest first."""
    now = fixed_clock.now()
    found = []
    for days in days_apart:
        fixed_clock.set(now - dt.timedelta(days=days))
        application = factories.submit_swp(subscriber=factories.swp_subscriber(actor=clerk), actor=clerk)
        application_start_review(application=application, actor=approver)
        found.append(application)
    fixed_clock.set(now)
    return found


def test_each_role_home_shows_its_own_queues_only(client, regulation, clerk, approver, accounting, tariff_manager):
    factories.approved_swp_contract(clerk=clerk, approver=approver)  # waits for its 課金開始日
    factories.submit_swp(subscriber=factories.swp_subscriber(actor=clerk), actor=clerk)  # waits for its review
    homes = {user.username: _html(client, user, reverse("home")) for user in (clerk, approver, accounting)}
    homes["tariff"] = _html(client, tariff_manager, reverse("home"))
    shown = {name: {q.key for q in queues.QUEUES if f'id="queue-{q.key}"' in html} for name, html in homes.items()}
    assert shown == {
        "clerk": {"billing-start", "migrations"},
        "approver": {"review", "received"},
        "accounting": set(),
        "tariff": set(),
    }
    assert "課金開始日の入力待ち" not in homes["approver"] + homes["accounting"] + homes["tariff"]
    assert 'id="accounting-home"' in homes["accounting"] and 'id="accounting-home"' not in homes["clerk"]


def test_the_navigation_counts_what_waits_for_the_viewer(client, regulation, clerk, approver, fixed_clock):
    _under_review(clerk=clerk, approver=approver, fixed_clock=fixed_clock)
    factories.submit_swp(subscriber=factories.swp_subscriber(actor=clerk), actor=clerk)
    html = _html(client, approver, reverse("contracts:application_list"))
    review = reverse("contracts:queue_review")
    assert f'<a href="{review}" class="queue-link">審査待ち <span class="queue-count waiting">3</span></a>' in html
    assert '審査開始待ち <span class="queue-count waiting">1</span>' in html
    assert "課金開始日待ち" not in html  # the clerk's queue
    clerk_nav = _html(client, clerk, reverse("contracts:application_list"))
    assert "審査待ち" not in clerk_nav and '課金開始日待ち <span class="queue-count">0</span>' in clerk_nav


def test_a_count_stops_at_the_cap_and_reads_no_more_rows_than_it(
    regulation, clerk, approver, fixed_clock, monkeypatch, django_assert_max_num_queries
):
    _under_review(clerk=clerk, approver=approver, fixed_clock=fixed_clock)
    monkeypatch.setattr(queues, "COUNT_CAP", 2)
    queue = QUEUES_BY_KEY["review"]
    assert queue_count(queue, approver) == 3  # cap + 1: enough to say 「2+」
    assert count_label(3) == "2+" and count_label(2) == "2"
    monkeypatch.undo()
    assert count_label(99) == "99" and count_label(100) == "99+"
    with django_assert_max_num_queries(1) as captured:
        queue_count(queue, approver)
    sql = captured.captured_queries[0]["sql"]
    assert " LIMIT 100" in sql and "COUNT(" not in sql


def test_a_queue_lists_oldest_first_with_how_long_each_has_waited(client, regulation, clerk, approver, fixed_clock):
    oldest, middle, newest = _under_review(clerk=clerk, approver=approver, fixed_clock=fixed_clock)
    html = _html(client, approver, reverse("contracts:queue_review"))
    assert html.index(f"#{oldest.pk} ") < html.index(f"#{middle.pk} ") < html.index(f"#{newest.pk} ")
    waited = '<td class="num nowrap waited" data-label="待ち時間">{}</td>'
    assert waited.format("3日") in html and waited.format("1日") in html
    assert f'href="{reverse("contracts:application_detail", args=[oldest.pk])}?queue=review"' in html


def test_waited_says_the_largest_unit_rounded_down():
    now = dt.datetime(2026, 2, 15, 10, 0, tzinfo=dt.UTC)
    assert waited(now - dt.timedelta(minutes=12, seconds=59), now) == "12分"
    assert waited(now - dt.timedelta(hours=5, minutes=59), now) == "5時間"
    assert waited(now - dt.timedelta(days=3, hours=23), now) == "3日"
    assert waited(now + dt.timedelta(minutes=1), now) == "0分"  # a clock a little ahead never waits negative
    assert waited(None, now) == ""


def test_after_a_decision_next_application_goes_to_the_next_in_that_queue(
    client, regulation, clerk, approver, fixed_clock
):
    oldest, middle, newest = _under_review(clerk=clerk, approver=approver, fixed_clock=fixed_clock)
    client.force_login(approver)
    detail = reverse("contracts:application_detail", args=[middle.pk])
    response = client.post(reverse("contracts:application_reject", args=[middle.pk]), {"reason": "書類不備"})
    assert response.status_code == 302 and response["Location"] == f"{detail}?queue=review"
    page = client.get(response["Location"]).content.decode()
    next_url = f"{reverse('contracts:queue_review')}?after={middle.pk}"
    assert "不承諾としました。" in page and f'href="{next_url}">次の申込へ</a>' in page
    # The next after the one decided is the one entered after it; after the last, the oldest comes round again.
    assert (
        client.get(next_url)["Location"] == reverse("contracts:application_detail", args=[newest.pk]) + "?queue=review"
    )
    approve = client.post(
        reverse("contracts:application_approve", args=[newest.pk]),
        {"version": application_terms_version(newest)},
    )
    assert approve.status_code == 302
    wrapped = client.get(f"{reverse('contracts:queue_review')}?after={newest.pk}")["Location"]
    assert wrapped == reverse("contracts:application_detail", args=[oldest.pk]) + "?queue=review"
    application_reject(application=oldest, reason="重複", actor=approver)
    empty = client.get(f"{reverse('contracts:queue_review')}?after={oldest.pk}", follow=True)
    assert "審査待ちの申込はほかにありません。" in empty.content.decode()


def test_starting_a_review_offers_the_next_application_waiting_for_one(client, regulation, clerk, approver):
    first = factories.submit_swp(subscriber=factories.swp_subscriber(actor=clerk), actor=clerk)
    second = factories.submit_swp(subscriber=factories.swp_subscriber(actor=clerk), actor=clerk)
    client.force_login(approver)
    response = client.post(reverse("contracts:application_start_review", args=[first.pk]), {"confirm": "on"})
    assert response["Location"].endswith("?queue=received")
    assert (
        f"{reverse('contracts:queue_received')}?after={first.pk}" in client.get(response["Location"]).content.decode()
    )
    following = client.get(f"{reverse('contracts:queue_received')}?after={first.pk}")["Location"]
    assert following == reverse("contracts:application_detail", args=[second.pk]) + "?queue=received"


def test_the_next_link_is_offered_only_in_a_queue_the_viewer_works(client, regulation, clerk, approver):
    application = factories.submit_swp(subscriber=factories.swp_subscriber(actor=clerk), actor=clerk)
    url = reverse("contracts:application_detail", args=[application.pk])
    assert "次の申込へ" not in _html(client, clerk, f"{url}?queue=review")  # not the clerk's queue
    assert "次の申込へ" not in _html(client, approver, f"{url}?queue=billing-start")  # not a queue of applications
    assert "次の申込へ" in _html(client, approver, f"{url}?queue=received")
    client.force_login(approver)
    bad = client.get(f"{reverse('contracts:queue_review')}?after=abc", follow=True)
    assert "番号が正しくありません" in bad.content.decode()


def test_the_review_queue_leaves_out_what_the_viewer_entered(regulation, sysadmin, approver):
    own = factories.submit_swp(subscriber=factories.swp_subscriber(actor=sysadmin), actor=sysadmin)
    application_start_review(application=own, actor=approver)
    review, received = QUEUES_BY_KEY["review"], QUEUES_BY_KEY["received"]
    assert list(review.rows(sysadmin)) == [] and list(review.rows(approver)) == [own]
    assert queue_count(review, sysadmin) == 0
    assert received.rows(sysadmin).count() == 0  # under review now


def test_the_migrated_contracts_queue_leaves_out_what_the_viewer_registered(regulation, clerk, clerk2):
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk, start_date=dt.date(2025, 4, 1))
    contract = option_contract_register_migrated(
        subscriber=subscriber,
        option=option("swp-accounts"),
        variant=variant("swp-accounts", "additional-accounts"),
        quantity=20,
        contracted_on=dt.date(2026, 1, 1),
        billing_start_date=dt.date(2026, 2, 1),
        base_contract=subscriber.base_contracts.get(),
        actor=clerk,
    )
    queue = QUEUES_BY_KEY["migrations"]
    assert list(queue.rows(clerk)) == [] and list(queue.rows(clerk2)) == [contract]


def test_my_decisions_show_the_decision_date(client, regulation, clerk, approver, fixed_clock):
    application = factories.submit_swp(subscriber=factories.swp_subscriber(actor=clerk), actor=clerk)
    application_start_review(application=application, actor=approver)
    fixed_clock.set("2026-02-17T14:30+09:00")
    application_approve(application=application, actor=approver)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    html = _html(client, approver, reverse("home"))
    decisions = html[html.index('id="my-decisions"') :]
    assert "決裁日時" in decisions
    assert '<td class="nowrap decided-at" data-label="決裁日時">令和8年2月17日 (2026-02-17) 14:30</td>' in decisions
