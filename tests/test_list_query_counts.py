"""Every list page, home page and admin changelist runs as many queries for a book of five subscribers as for a
book of one: nothing is fetched per row (the scale goal: 200,000 subscribers, 1,000,000 option contracts).

The pages are discovered, not listed: every staff URL without a parameter whose view renders a table, every
admin changelist of a registered model. A new page is covered the day it is added.
"""

import datetime as dt

import pytest
import time_machine
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_tables2.views import SingleTableMixin

from contracts.models import LedgerEntry, OptionContract, Subscriber
from contracts.queues import QUEUES
from contracts.services.applications import application_submit
from contracts.services.month_close import month_close
from core import clock
from core.clock import JST
from tests import ui_data

pytestmark = pytest.mark.django_db


def _table_pages(resolver=None, prefix="", namespace=""):
    """(url name, path) of every parameterless URL whose view is a django-tables2 list."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.app_name == "admin":
                continue  # the admin's changelists are walked below, model by model
            yield from _table_pages(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and not pattern.pattern.converters:
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class is not None and issubclass(view_class, SingleTableMixin) and pattern.name:
                yield f"{namespace}{pattern.name}"


TABLE_PAGES = sorted(set(_table_pages()))
ADMIN_CHANGELISTS = sorted(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist" for m in admin.site._registry)
OTHER_PAGES = ["home", "contracts:monthly_report", "contracts:search"] + [queue.url_name for queue in QUEUES]
# Pages counted with a query: the searches find every subscriber of either book ("S" is in every code), so the
# search's page of rows grows with the book and its query count must not.
QUERIES = {"contracts:search": "?q=S", "contracts:subscriber_list": "?q=S"}


def test_the_discovery_finds_the_pages_staff_use():
    """The walk is not empty by accident: the lists staff open every day are among what it found."""
    for name in ("contracts:subscriber_list", "contracts:application_list", "contracts:ledger_list"):
        assert name in TABLE_PAGES
    assert "admin:contracts_ledgerentry_changelist" in ADMIN_CHANGELISTS


def _unit(clerk, approver):
    """One more subscriber as staff build it: a contract in billing, and another's application waiting."""
    ui_data.billing_contract(clerk=clerk, approver=approver)
    option, variant = ui_data.swp()
    other = ui_data.swp_subscriber()
    application_submit(subscriber=other, kind="new", option=option, variant=variant, quantity=10, actor=clerk)


def _count(user, url) -> int:
    client = Client()
    client.force_login(user)  # anew: the clock moves a month between the counts, past the session's end
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def _first_allowed(users, url):
    """The first role that may open `url`, or None when the page is closed to every role (403)."""
    statuses = []
    for user in users:
        user.is_staff = True  # the admin's door; what each role may do there is its permissions'
        user.save(update_fields=["is_staff"])
        client = Client()
        client.force_login(user)
        status = client.get(url).status_code
        if status == 200:
            return user
        statuses.append(status)
    assert set(statuses) == {403}, (url, statuses)
    return None


@pytest.mark.parametrize("name", TABLE_PAGES + ADMIN_CHANGELISTS + OTHER_PAGES)
def test_a_page_runs_as_many_queries_for_five_subscribers_as_for_one(
    name, regulation, clerk, approver, accounting, sysadmin, tariff_manager
):
    # 経理's home lists the rows it wrote: the month closes are 経理's, so each book has a closed month.
    def url():  # the report of the open month (速報), whichever month is open when the page is counted
        if name == "contracts:monthly_report":
            return reverse(name) + f"?month={clock.today():%Y-%m}"
        return reverse(name) + QUERIES.get(name, "")

    with time_machine.travel(dt.datetime(2026, 3, 10, 10, 0, tzinfo=JST), tick=False) as traveller:
        _unit(clerk, approver)
        traveller.move_to(dt.datetime(2026, 4, 2, 10, 0, tzinfo=JST))
        month_close(month=dt.date(2026, 3, 1), actor=accounting)
        user = _first_allowed((accounting, approver, clerk, sysadmin, tariff_manager), url())
        if user is None:
            return  # nobody reads it in the staff roles (e.g. groups: the roles are declared in code)
        _count(user, url())  # warm the per-process caches (content types, permissions, the fee schedule)
        small = _count(user, url())
        for _ in range(4):
            _unit(clerk, approver)
        traveller.move_to(dt.datetime(2026, 5, 2, 10, 0, tzinfo=JST))
        month_close(month=dt.date(2026, 4, 1), actor=accounting)
        assert Subscriber.objects.count() >= 10 and OptionContract.objects.count() >= 5
        assert LedgerEntry.objects.filter(created_by=accounting).count() >= 5
        _count(user, url())  # 経理's first look after a close stores the month's 集計, once (contracts.views.home)
        large = _count(user, url())
    assert large == small, f"{url}: {small} queries for one subscriber's book, {large} for five"
