"""The admin's per-version history pages (`…/<pk>/history/<history_id>/`) are read-only for every user.

simple-history's own page is a change form that saves a POST even with SIMPLE_HISTORY_REVERT_DISABLED
(upstream django-simple-history #1362): a clerk's POST created a second migrated option contract and the
ledger row's page answered 500. Every model registered in the admin with a history is walked here.
"""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import models
from django.forms.models import model_to_dict
from django.urls import reverse

from contracts.services.month_close import month_close
from core import clock
from tests import ui_data
from tests.factories import UserFactory, subscriber_with_line

pytestmark = pytest.mark.django_db

# Fewer models than this with a record to look at means the walk no longer proves much.
MIN_COVERED = 8
# Names a reverting form would post besides the model's own fields.
FORM_ONLY_NAMES = {"change_reason", "_change_reason", "_save", "_continue", "_addanother", "_change_history"}


def history_models():
    return [model for model in admin.site._registry if isinstance(getattr(model, "history", None), models.Manager)]


def version_url(record):
    opts = record.instance_type._meta
    args = [getattr(record, opts.pk.attname), record.history_id]
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=args)


def first_version(model):
    """The oldest history row of the model's first record (an older version than the record as it is now)."""
    obj = model._base_manager.order_by("pk").first()
    if obj is None:
        return None
    return model.history.filter(**{model._meta.pk.attname: obj.pk}).order_by("history_date", "history_id").first()


def revert_payload(record):
    """What the stock revert form would post: the version's field values, a reason and the save button."""
    data = {}
    for name, value in model_to_dict(record.instance).items():
        if value is None:
            value = ""
        elif isinstance(value, list):
            value = [getattr(v, "pk", v) for v in value]
        elif isinstance(value, dt.date):
            value = value.isoformat()
        data[name] = value
    reason = "履歴からの再保存（拒否されるべき）"
    data.update({"change_reason": reason, "_change_reason": reason, "_save": "保存"})
    return data


class _Page(HTMLParser):
    """Collects the forms that post, the names of every input, and the rows of the values table."""

    def __init__(self):
        super().__init__()
        self.post_forms: list[str] = []  # id of each <form method="post">
        self.input_names: list[tuple[str, str | None]] = []  # (name, enclosing form id)
        self.submits: list[str] = []  # enclosing form id of each submit control inside a form
        self.values: dict[str, str] = {}
        self.h1 = ""
        self._form: str | None = None
        self._in_values = False
        self._cell: str | None = None
        self._label = ""
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = attrs.get("id") or "(no id)"
            if (attrs.get("method") or "get").lower() == "post":
                self.post_forms.append(self._form)
        elif tag in ("input", "select", "textarea", "button"):
            if attrs.get("name"):
                self.input_names.append((attrs["name"], self._form))
            submits = attrs.get("type") in ("submit", "image") or (tag == "button" and not attrs.get("type"))
            if submits and self._form is not None:  # a button outside any form submits nothing
                self.submits.append(self._form)
        elif tag == "table" and attrs.get("id") == "history-version-values":
            self._in_values = True
        elif (tag in ("th", "td") and self._in_values) or tag == "h1":
            self._cell, self._text = tag, []

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "table":
            self._in_values = False
        elif tag == self._cell:
            text = "".join(self._text).strip()
            if tag == "h1":
                self.h1 = text
            elif tag == "th":
                self._label = text
            else:
                self.values[self._label] = text
            self._cell = None

    def handle_data(self, data):
        if self._cell:
            self._text.append(data)


def parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def assert_read_only_page(response, record):
    assert response.status_code == 200, version_url(record)
    page = parse(response)
    # The admin's header has its logout form; nothing else on the page posts or submits.
    assert [form for form in page.post_forms if form != "logout-form"] == [], version_url(record)
    assert [form for form in page.submits if form != "logout-form"] == [], version_url(record)
    model = record.instance_type
    field_names = {f.name for f in model._meta.get_fields()} | {f.attname for f in model._meta.concrete_fields}
    posted = {name for name, _ in page.input_names} & (field_names | FORM_ONLY_NAMES)
    assert posted == set(), f"{version_url(record)} has inputs {posted}"
    # The record as it was at that version, in Japanese: 「<record>（<history date> 時点）」 and every field.
    assert page.h1.endswith(" 時点）"), page.h1
    # Every field the history holds (a derived field excluded from it, the subscriber's search key, has no past).
    tracked = {f.name for f in model.history.model.tracked_fields}
    for f in (f for f in model._meta.concrete_fields if f.name in tracked):
        assert str(f.verbose_name) in page.values, f"{version_url(record)} lacks {f.verbose_name}"


def staff(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def world(regulation, clerk, clerk2, approver, accounting):
    """At least one record of every admin model with a history, made through the services."""
    contract = ui_data.billing_contract(clerk=clerk, approver=approver)  # application, contract, ledger row
    subscriber_with_line(actor=clerk, confirmer=clerk2)  # a carrier-line contract
    last_month = clock.month_start(clock.month_start(clock.today()) - dt.timedelta(days=1))
    month_close(month=last_month, actor=accounting)
    return contract


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(username="kanri", last_name="管理")


def covered_versions():
    versions, skipped = [], []
    for model in history_models():
        record = first_version(model)
        (versions if record is not None else skipped).append(record if record is not None else model)
    assert len(versions) >= MIN_COVERED, f"only {len(versions)} models had a record; no record for {skipped}"
    return versions


def test_every_admin_history_model_is_walked(world):
    walked = {record.instance_type for record in covered_versions()}
    assert walked == set(history_models())  # today every one of them has a record in the world


def test_a_version_page_is_a_read_only_page_for_a_view_only_role_and_for_a_superuser(
    client, world, accounting, superuser
):
    versions = covered_versions()
    for user in (staff(accounting), superuser):
        client.force_login(user)
        for record in versions:
            assert_read_only_page(client.get(version_url(record)), record)


def test_posting_to_a_version_page_saves_nothing_for_any_role(client, world, clerk, accounting, superuser):
    versions = covered_versions()
    for user in (staff(clerk), staff(accounting), superuser):
        client.force_login(user)
        for record in versions:
            model = record.instance_type
            before = (model._base_manager.count(), model.history.count(), LogEntry.objects.count())
            response = client.post(version_url(record), revert_payload(record))
            assert response.status_code in (403, 405), (user.username, version_url(record), response.status_code)
            after = (model._base_manager.count(), model.history.count(), LogEntry.objects.count())
            assert after == before, (user.username, model._meta.label)


def test_a_version_shows_the_record_as_it_was_then(client, world, accounting):
    """The option contract's first version is the approved contract, before its 課金開始日 was set."""
    client.force_login(staff(accounting))
    versions = world.history.order_by("history_date", "history_id")
    first, latest = versions.first(), versions.last()
    assert first.history_id != latest.history_id
    status = str(type(world)._meta.get_field("status").verbose_name)
    billing_start = str(type(world)._meta.get_field("billing_start_date").verbose_name)
    then, now = parse(client.get(version_url(first))), parse(client.get(version_url(latest)))
    assert then.values[status] == first.get_status_display()
    assert now.values[status] == world.get_status_display() != first.get_status_display()
    assert then.values[billing_start] == "—" != now.values[billing_start]
    assert "clerk" in client.get(version_url(latest)).content.decode()  # who set the billing start


def test_the_history_list_links_to_the_read_only_version(client, world, accounting):
    client.force_login(staff(accounting))
    record = first_version(type(world))
    opts = type(world)._meta
    listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[world.pk]))
    assert listing.status_code == 200
    assert version_url(record) in listing.content.decode()


def test_a_missing_or_malformed_version_is_404(client, world, superuser):
    client.force_login(superuser)
    record = first_version(type(world))
    good, pk = version_url(record), world.pk
    for url in (
        good.replace(f"/history/{record.history_id}/", "/history/abc/"),
        good.replace(f"/history/{record.history_id}/", "/history/999999/"),
        good.replace(f"/{pk}/history/", "/abc/history/"),
        good.replace(f"/{pk}/history/", "/999999/history/"),
    ):
        assert client.get(url).status_code == 404, url


def test_a_version_page_needs_the_view_permission(client, world):
    client.force_login(UserFactory(username="norole", is_staff=True))  # admin access, no model permission
    for record in covered_versions():
        assert client.get(version_url(record)).status_code == 403, version_url(record)
