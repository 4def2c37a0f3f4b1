"""Hostile input over HTTP, found from the URLconf (not a hand list): every staff view that takes a POST, every
list, and the admin's add and change forms of every registered model, as the roles that may use them.

Asserted on every example: never a 500 nor a traceback; a refusal (any answer but a redirect after success) writes
nothing (every model's rows counted, history tables and the ledger included). FUZZ_EXAMPLES sets the examples
per target (small by default, so `make test` stays quick).
"""

import io
import os
import re

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import roles
from contracts.services import carrier_line_create
from options.models import CarrierService
from tests import ui_data
from tests.conftest import FIXED_NOW
from tests.factories import role_group

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE = [
    "",
    "1" + "0" * 30,
    str(2**31),
    "-1",
    "0",
    "1.5",
    "abc",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "9999-12",
    "X\x00",
    "A\x07B",
    "A\u202eB",
    "\ufeffA",
    "A\u200bB",
    "😀",
    "あ" * 5000,
    "<script>",
    "on",
]
values = st.sampled_from(HOSTILE) | st.text(max_size=30)

# Written by the act of asking, not by the form: the auth log (denials are recorded), sessions, throttling.
NOT_COUNTED = {"sessions", "axes"}
NOT_COUNTED_MODELS = {"security.authevent", "admin.logentry"}


def counts() -> dict:
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in NOT_COUNTED and model._meta.label_lower not in NOT_COUNTED_MODELS
    }


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", entry


def staff_urls() -> dict:
    """Every named staff URL (the admin's are fuzzed through its registry), by its name."""
    return {name: entry for name, entry in _walk(get_resolver().url_patterns) if not name.startswith("admin:")}


def _view_class(entry):
    return getattr(entry.callback, "view_class", None)


def posts(entry) -> bool:
    view = _view_class(entry)
    return view is not None and "post" in view.http_method_names and hasattr(view, "post")


def _model(entry):
    view = _view_class(entry)
    initkwargs = getattr(entry.callback, "view_initkwargs", {}) or {}
    model = initkwargs.get("model") or getattr(view, "model", None)
    queryset = getattr(view, "queryset", None)
    return model or (queryset.model if queryset is not None else None)


def _field_names(entry) -> list[str]:
    view = _view_class(entry)
    names = []
    form_class = getattr(view, "form_class", None)
    if form_class is not None:
        names += list(form_class.base_fields)
        names += list(getattr(getattr(form_class, "_meta", None), "fields", None) or [])
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None:
        names += list(filterset.base_filters)
    return sorted({*names, "page", "month", "on", "q", "reason", "version"})


def url_for(name, entry):
    keys = list(entry.pattern.converters)
    if not keys:
        return reverse(name)
    model = _model(entry)
    record = model._default_manager.order_by("pk").first() if model is not None else None
    # No such record in the book (or a view that names no model): its 404 must still be an answer.
    return reverse(name, kwargs={"pk": record.pk if record is not None else 1})


STAFF = [
    ("clerk", roles.CLERK),
    ("approver", roles.APPROVER),
    ("accounting", roles.ACCOUNTING),
    ("tariff", roles.TARIFF_MANAGER),
    ("sysadmin", roles.SYSTEM_ADMIN),
]


@pytest.fixture(scope="module")
def book(django_db_setup, django_db_blocker):
    """The regulation, a contract billing and an application submitted, and one user per role: built once for
    the module (loading the regulation for each of ~75 targets took most of the suite's time).

    It is built inside a transaction rolled back when the module ends; each test's own transaction is a
    savepoint inside it and rolls back what the test wrote. The block is marked as a test case's, as Django's
    TestCase marks its class-wide one (setUpTestData), so that the services' durable transactions may run in
    it. Every example also counts the rows before and after, so a test cannot leave a write to the next.
    """
    with django_db_blocker.unblock():
        block = transaction.atomic()
        block._from_testcase = True
        with block:
            with time_machine.travel(FIXED_NOW, tick=False):
                call_command("load_regulation", stdout=io.StringIO())
                User = get_user_model()
                users = {}
                for username, role in [*STAFF, ("clerk2", roles.CLERK), ("approver2", roles.APPROVER)]:
                    users[username] = User.objects.create_user(username=username, last_name=username)
                    users[username].groups.add(role_group(role))
                contract = ui_data.billing_contract(clerk=users["clerk"], approver=users["approver"])
                # An unconfirmed carrier line, so that its 確認 and 終了 have a record to act on.
                carrier_line_create(
                    subscriber=contract.subscriber,
                    carrier_service=CarrierService.objects.get(code="flets-next-prio1"),
                    line_id="CAF-FUZZ-1",
                    start_date=contract.contracted_on,
                    actor=users["clerk"],
                )
                ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=users["clerk2"], quantity=10)
                assert contract.pk
            yield [users[username] for username, _ in STAFF]
            transaction.set_rollback(True)


def _users_who_may(entry, users):
    view = _view_class(entry)
    wanted = getattr(view, "permission_required", None)
    if wanted:
        wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        allowed = [u for u in users if u.has_perms(wanted)]
        return allowed or users
    return users


def _assert_answer(response, url):
    assert response.status_code != 500, url
    body = response.content.decode(errors="replace") if not response.streaming else ""
    assert "Traceback" not in body, url


# Where a page says why it refused: a form's error list (by the field or above the form), a message of the
# messages framework, the admin's note above its form, and the 400 page's message.
_SAID = re.compile(
    r'<ul class="errorlist[^"]*"[^>]*>(?P<errors>.*?)</ul>'
    r'|<ul class="messages">(?P<messages>.*?)</ul>'
    r'|<p class="errornote">(?P<note>.*?)</p>'
    r"|<h1>入力を受け付けられません</h1>\s*<p>(?P<bad>.*?)</p>",
    re.S,
)
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def refusals_said(body: str) -> list[str]:
    """The refusals a page shows staff, as text."""
    return [re.sub(r"<[^>]+>", " ", m.group(0)).strip() for m in _SAID.finditer(body)]


def _assert_a_refusal_is_said(response, url, data):
    """A refused submission (a 200 answer to a POST: the form again; or a 400) says why, in Japanese, by the
    field or above the form; a file answered (a download) is not a refusal."""
    if response.status_code not in (200, 400) or response.streaming or response.has_header("Content-Disposition"):
        return
    said = [text for text in refusals_said(response.content.decode()) if _JAPANESE.search(text)]
    assert said, f"{url} answered {response.status_code} to {data!r} without saying why"
    if response.status_code == 400:
        assert any("「" in text for text in said), f"{url}: the 400 names no field: {said}"


def _post_empty_and_garbage(url, users, fields):
    """Not left to the draw: each role's empty submission and one with every field garbage, which must be
    refused aloud (about 34 such posts once answered a silent 200: an error on a hidden field, or on a form
    the page no longer shows)."""
    for user in users:
        for data in ({}, dict.fromkeys(fields, "abc")):
            client = Client(raise_request_exception=False)
            client.force_login(user)
            before = counts()
            response = client.post(url, data)
            _assert_answer(response, url)
            _assert_a_refusal_is_said(response, url, data)
            if response.status_code != 302:
                assert counts() == before, (url, data)


FORM_URLS = sorted(name for name, entry in staff_urls().items() if posts(entry))
LIST_URLS = sorted(name for name, entry in staff_urls().items() if not posts(entry))


def _post_and_check(user, url, data) -> None:
    """Post `data` as `user`: never a 500, a refusal says why, and only a success (a redirect) writes."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    before = counts()
    response = client.post(url, data)
    _assert_answer(response, url)
    _assert_a_refusal_is_said(response, url, data)
    if response.status_code != 302:
        assert counts() == before, (url, data)


def test_every_staff_url_is_fuzzed():
    """A new URL is fuzzed from the URLconf, by POST if its view takes one and by GET otherwise; a URL whose
    arguments the suite cannot fill fails here rather than going unfuzzed."""
    unknown = [n for n, e in staff_urls().items() if set(e.pattern.converters) - {"pk"}]
    assert unknown == []
    assert {"contracts:subscriber_create", "contracts:optioncontract_billing_start"} <= set(FORM_URLS)
    assert {"contracts:subscriber_list", "contracts:ledger_list"} <= set(LIST_URLS)


@pytest.mark.parametrize("name", FORM_URLS)
def test_hostile_posts_answer_without_a_server_error_and_a_refusal_writes_nothing(book, name):
    entry = staff_urls()[name]
    url = url_for(name, entry)
    assert url is not None, f"{name}: no record to post to"
    users = _users_who_may(entry, book)
    fields = _field_names(entry)
    _post_empty_and_garbage(url, users, fields)

    @FUZZ
    @given(user=st.sampled_from(users), data=st.dictionaries(st.sampled_from(fields), values, max_size=len(fields)))
    def post(user, data):
        _post_and_check(user, url, data)

    post()


@pytest.mark.parametrize("name", LIST_URLS)
def test_hostile_list_parameters_answer_without_a_server_error_and_write_nothing(book, name):
    entry = staff_urls()[name]
    url = url_for(name, entry)
    assert url is not None, f"{name}: no record to show"
    users = _users_who_may(entry, book)
    fields = _field_names(entry)

    @FUZZ
    @given(user=st.sampled_from(users), data=st.dictionaries(st.sampled_from(fields), values, max_size=4))
    def get(user, data):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        before = counts()
        response = client.get(url, data)
        _assert_answer(response, url)
        assert counts() == before, (url, data)

    get()


ADMIN_MODELS = sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry)


@pytest.mark.parametrize("label", ADMIN_MODELS)
def test_hostile_admin_forms_answer_without_a_server_error_and_a_refusal_writes_nothing(book, label):
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    record = model._default_manager.order_by("pk").first()
    info = (model._meta.app_label, model._meta.model_name)
    urls = [reverse("admin:{}_{}_add".format(*info))]
    if record is not None:
        urls.append(reverse("admin:{}_{}_change".format(*info), args=[record.pk]))
    fields = sorted({*(f.name for f in model._meta.fields if f.editable), "change_reason"})
    users = [u for u in book if u.has_perm(f"{info[0]}.add_{info[1]}") or u.has_perm(f"{info[0]}.change_{info[1]}")]
    users = users or [book[-1]]  # システム管理者
    assert model_admin is not None
    for url in urls:
        _post_empty_and_garbage(url, users, fields)

    @FUZZ
    @given(
        user=st.sampled_from(users),
        url=st.sampled_from(urls),
        data=st.dictionaries(st.sampled_from(fields), values, max_size=len(fields)),
    )
    def post(user, url, data):
        _post_and_check(user, url, data)

    post()
