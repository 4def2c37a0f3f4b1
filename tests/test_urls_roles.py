"""Every URL of the project × every role: anonymous → login page; without the permission → 403; with it → 200.

A page a role may see must not carry a link or form to what that role may not do (no leak across the line).
"""

import datetime as dt
import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounting.services import account_mapping_save
from contracts import roles
from contracts.models import MonthCloseJob
from contracts.services.month_close import month_close
from core import clock
from exports.services import export_job_request
from options.models import Option
from security.access import is_security_admin
from tests import ui_data
from tests.factories import CarrierLineContractFactory, draft_revision, draft_swp_fee, role_group
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.django_db

PUBLIC = "public"  # reachable without login
ANY_STAFF = "any"  # any logged-in user

# What each URL needs: one permission, a tuple of alternatives, or a check of the user (a role, not a permission).
# A URL missing here fails the test.
REQUIRED = {
    "login": PUBLIC,
    "logout": PUBLIC,
    "home": ANY_STAFF,
    "contracts:search": (
        "contracts.view_subscriber",
        "contracts.view_baseservicecontract",
        "contracts.view_carrierlinecontract",
        "contracts.view_optioncontract",
        "contracts.view_application",
    ),
    "contracts:queue_review": "contracts.decide_application",
    "contracts:queue_received": "contracts.decide_application",
    "contracts:queue_billing_start": "contracts.change_optioncontract",
    "contracts:queue_migrations": "contracts.change_optioncontract",
    "contracts:subscriber_list": "contracts.view_subscriber",
    "contracts:subscriber_create": "contracts.add_subscriber",
    "contracts:subscriber_detail": "contracts.view_subscriber",
    "contracts:subscriber_update": "contracts.change_subscriber",
    "contracts:subscriber_lookup": "contracts.view_subscriber",
    "contracts:subscriber_base_contract_create": "contracts.add_baseservicecontract",
    "contracts:subscriber_carrier_line_create": "contracts.add_carrierlinecontract",
    "contracts:baseservicecontract_end": "contracts.change_baseservicecontract",
    "contracts:carrierlinecontract_confirm": "contracts.change_carrierlinecontract",
    "contracts:carrierlinecontract_end": "contracts.change_carrierlinecontract",
    "contracts:application_list": "contracts.view_application",
    "contracts:application_create": "contracts.add_application",
    "contracts:application_detail": "contracts.view_application",
    "contracts:application_start_review": "contracts.decide_application",
    "contracts:application_set_quote": ("contracts.change_application", "contracts.decide_application"),
    "contracts:application_approve": "contracts.decide_application",
    "contracts:application_reject": "contracts.decide_application",
    "contracts:application_withdraw": "contracts.change_application",
    "contracts:optioncontract_list": "contracts.view_optioncontract",
    "contracts:optioncontract_detail": "contracts.view_optioncontract",
    "contracts:optioncontract_billing_start": "contracts.change_optioncontract",
    "contracts:optioncontract_correction": "contracts.add_application",
    "contracts:optioncontract_confirm_migrated": "contracts.change_optioncontract",
    "contracts:ledger_list": "contracts.view_ledgerentry",
    "contracts:ledgerentry_detail": "contracts.view_ledgerentry",
    "contracts:ledgerentry_reverse": "contracts.reverse_ledgerentry",
    "contracts:monthly_report": "contracts.export_report",
    "contracts:monthly_report_download": "contracts.export_report",
    "contracts:report_figures_refresh": "contracts.export_report",
    "contracts:close_preview": "contracts.preview_close",
    "contracts:month_close": "contracts.close_month",
    "contracts:month_close_job": "contracts.export_report",
    "contracts:ledger_verify": "contracts.preview_close",
    "options:revision_list": "options.view_tariffrevision",
    "options:revision_detail": "options.view_tariffrevision",
    "options:revision_create": "options.add_tariffrevision",
    "options:revision_update": "options.change_tariffrevision",
    "options:revision_transition": "options.change_tariffrevision",
    "options:revision_feeitem_create": "options.add_feeitem",
    "options:feeitem_update": "options.change_feeitem",
    "options:revision_option_add": "options.add_option",
    "options:revision_option_retire": "options.change_option",
    "options:revision_succession_create": "options.add_succession",
    "options:revision_succession_withdraw": "options.change_succession",
    "contracts:revision_impact": "options.preview_tariffrevision",
    "contracts:revision_impact_download": "options.preview_tariffrevision",
    "options:tariff_as_of": "options.view_feeitem",
    "options:revision_diff": "options.view_tariffrevision",
    "options:option_list": "options.view_option",
    "options:option_detail": "options.view_option",
    "accounting:mapping_list": "accounting.view_accountmapping",
    "accounting:mapping_edit": "accounting.change_accountmapping",
    "accounting:journal_download": "contracts.export_report",
    # Asking needs one kind's permission (the view checks the kind asked for); a job is its requester's and
    # システム管理者's: the world's job is 経理's fixture user, so of the roles only システム管理者 opens it.
    "exports:exportjob_request": ("contracts.export_report", "options.preview_tariffrevision"),
    "exports:exportjob_detail": "exports.download_any_exportjob",
    "exports:exportjob_download": "exports.download_any_exportjob",
    "exports:exportjob_retry": "exports.download_any_exportjob",
    "exports:exportlog_list": "exports.view_exportlog",
    "security:auth_log": is_security_admin,
    "security:lockout_list": is_security_admin,
    "security:lockout_release": is_security_admin,
}
# History pages need the view permission of their model: contracts:history_subscriber → contracts.view_subscriber.
HISTORY = re.compile(r"^(?P<app>\w+):history_(?P<model>\w+)$")

# Query strings that make a GET page show its full content rather than an empty form.
QUERY = {
    "options:tariff_as_of": "?on=令和8年2月1日",
    "contracts:monthly_report": "?month=令和8年2月",
    "contracts:monthly_report_download": "?month=2026-02&fmt=csv",
    "contracts:subscriber_lookup": "?q=S0",
    "contracts:close_preview": "?month=2026-02",
    "contracts:ledger_verify": "?month=2026-01",
    "accounting:journal_download": "?month=2026-01&fmt=journal-freee",
}


# Who may open each URL, written out by hand from DOMAIN §3.15 (not derived from REQUIRED or the roles'
# permissions, which are what this pins): 受付担当 enters, 承認者 decides and reverses, 経理 reads everything and
# alone (with システム管理者) exports and closes, 規程管理 sees the catalogue and no personal data, and the security
# pages are the システム管理者's. A user with no role reaches only the home page.
EVERYONE = frozenset({"clerk", "approver", "accounting", "tariff_manager", "sysadmin", "no_role"})
CATALOGUE_READERS = frozenset({"clerk", "approver", "accounting", "tariff_manager", "sysadmin"})
PERSONAL_DATA_READERS = frozenset({"clerk", "approver", "accounting", "sysadmin"})
ENTRY = frozenset({"clerk", "sysadmin"})
DECISION = frozenset({"approver", "sysadmin"})
ACCOUNTS = frozenset({"accounting", "sysadmin"})
SECURITY = frozenset({"sysadmin"})
CATALOGUE_EDITORS = frozenset({"tariff_manager", "sysadmin"})
# The impact preview names contracts by number and amount only: 規程管理 drafts with it, 経理 plans with it.
IMPACT_READERS = frozenset({"accounting", "tariff_manager", "sysadmin"})
EXPECTED = {
    "home": EVERYONE,
    "contracts:search": PERSONAL_DATA_READERS,
    "contracts:queue_review": DECISION,
    "contracts:queue_received": DECISION,
    "contracts:queue_billing_start": ENTRY,
    "contracts:queue_migrations": ENTRY,
    "contracts:subscriber_list": PERSONAL_DATA_READERS,
    "contracts:subscriber_create": ENTRY,
    "contracts:subscriber_detail": PERSONAL_DATA_READERS,
    "contracts:subscriber_update": ENTRY,
    "contracts:subscriber_lookup": PERSONAL_DATA_READERS,
    "contracts:subscriber_base_contract_create": ENTRY,
    "contracts:subscriber_carrier_line_create": ENTRY,
    "contracts:baseservicecontract_end": ENTRY,
    "contracts:carrierlinecontract_confirm": ENTRY,
    "contracts:carrierlinecontract_end": ENTRY,
    "contracts:application_list": PERSONAL_DATA_READERS,
    "contracts:application_create": ENTRY,
    "contracts:application_detail": PERSONAL_DATA_READERS,
    "contracts:application_start_review": DECISION,
    "contracts:application_set_quote": frozenset({"clerk", "approver", "sysadmin"}),
    "contracts:application_approve": DECISION,
    "contracts:application_reject": DECISION,
    "contracts:application_withdraw": ENTRY,
    "contracts:optioncontract_list": PERSONAL_DATA_READERS,
    "contracts:optioncontract_detail": PERSONAL_DATA_READERS,
    "contracts:optioncontract_billing_start": ENTRY,
    "contracts:optioncontract_correction": ENTRY,
    "contracts:optioncontract_confirm_migrated": ENTRY,
    "contracts:ledger_list": PERSONAL_DATA_READERS,
    "contracts:ledgerentry_detail": PERSONAL_DATA_READERS,
    "contracts:ledgerentry_reverse": DECISION,
    "contracts:monthly_report": ACCOUNTS,
    "contracts:monthly_report_download": ACCOUNTS,
    "contracts:report_figures_refresh": ACCOUNTS,
    "contracts:close_preview": frozenset({"approver", "accounting", "sysadmin"}),
    "contracts:month_close": ACCOUNTS,
    "contracts:month_close_job": ACCOUNTS,
    "contracts:ledger_verify": frozenset({"approver", "accounting", "sysadmin"}),
    "contracts:history_subscriber": PERSONAL_DATA_READERS,
    "contracts:history_application": PERSONAL_DATA_READERS,
    "contracts:history_optioncontract": PERSONAL_DATA_READERS,
    "contracts:history_ledgerentry": PERSONAL_DATA_READERS,
    "contracts:history_baseservicecontract": PERSONAL_DATA_READERS,
    "contracts:history_carrierlinecontract": PERSONAL_DATA_READERS,
    "contracts:history_monthclose": PERSONAL_DATA_READERS,
    "options:revision_list": CATALOGUE_READERS,
    "options:revision_detail": CATALOGUE_READERS,
    "options:revision_create": CATALOGUE_EDITORS,
    "options:revision_update": CATALOGUE_EDITORS,
    "options:revision_transition": CATALOGUE_EDITORS,
    "options:revision_feeitem_create": CATALOGUE_EDITORS,
    "options:feeitem_update": CATALOGUE_EDITORS,
    "options:revision_option_add": CATALOGUE_EDITORS,
    "options:revision_option_retire": CATALOGUE_EDITORS,
    "options:revision_succession_create": CATALOGUE_EDITORS,
    "options:revision_succession_withdraw": CATALOGUE_EDITORS,
    "contracts:revision_impact": IMPACT_READERS,
    "contracts:revision_impact_download": IMPACT_READERS,
    "options:tariff_as_of": CATALOGUE_READERS,
    "options:revision_diff": CATALOGUE_READERS,
    "options:option_list": CATALOGUE_READERS,
    "options:option_detail": CATALOGUE_READERS,
    "options:history_tariffrevision": CATALOGUE_READERS,
    "options:history_option": CATALOGUE_READERS,
    "options:history_feeitem": CATALOGUE_READERS,
    "options:history_optionvariant": CATALOGUE_READERS,
    "options:history_eligibilityrule": CATALOGUE_READERS,
    "options:history_succession": CATALOGUE_READERS,
    "options:history_section": CATALOGUE_READERS,
    "options:history_service": CATALOGUE_READERS,
    "options:history_carrier": CATALOGUE_READERS,
    "options:history_carrierservice": CATALOGUE_READERS,
    "accounting:mapping_list": ACCOUNTS,
    "accounting:mapping_edit": ACCOUNTS,
    "accounting:journal_download": ACCOUNTS,
    "accounting:history_accountmapping": ACCOUNTS,
    "exports:exportjob_request": IMPACT_READERS | ACCOUNTS,
    "exports:exportjob_detail": SECURITY,
    "exports:exportjob_download": SECURITY,
    "exports:exportjob_retry": SECURITY,
    "exports:exportlog_list": SECURITY,
    "security:auth_log": SECURITY,
    "security:lockout_list": SECURITY,
    "security:lockout_release": SECURITY,
}

ROLE_USERS = {
    "clerk": roles.CLERK,
    "approver": roles.APPROVER,
    "accounting": roles.ACCOUNTING,
    "tariff_manager": roles.TARIFF_MANAGER,
    "sysadmin": roles.SYSTEM_ADMIN,
    "no_role": None,
}


def walk(patterns, prefix="", namespace=""):
    """Yield (full name, route, view callback) of every named pattern, admin and static left out."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            route = prefix + str(entry.pattern)
            if route.startswith(("admin/", "static/")):
                continue
            ns = entry.namespace or ""
            yield from walk(entry.url_patterns, route, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern), entry.callback


def required_for(name):
    if name in REQUIRED:
        return REQUIRED[name]
    match = HISTORY.match(name)
    if match:
        return f"{match['app']}.view_{match['model']}"
    return None


@pytest.fixture
def world(regulation, clerk, approver, accounting, tariff_manager):
    """One of each record, made through the services: an open application, a billing contract and a draft
    revision of its fee (so that its impact preview has something to show)."""
    contract = ui_data.billing_contract(clerk=clerk, approver=approver)
    draft = draft_revision(dt.date(2026, 4, 1), actor=tariff_manager)
    fee_item = draft_swp_fee(draft, 3300, actor=tariff_manager)
    open_application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk, quantity=10)
    line = CarrierLineContractFactory(subscriber=contract.subscriber)
    last_month = clock.month_start(clock.month_start(clock.today()) - dt.timedelta(days=1))
    month_close(month=last_month, actor=accounting)
    job = MonthCloseJob.objects.create(month=last_month, requested_by=accounting, requested_at=clock.now())
    mapping = account_mapping_save(
        option=contract.option, kind="monthly_charge", values={}, actor=accounting, reason="勘定科目の対応"
    )
    export_job = export_job_request(
        kind="report", data={"month": f"{last_month:%Y-%m}", "fmt": "csv"}, actor=accounting
    )
    run_queued_tasks()
    return {
        "accounting:accountmapping": mapping,
        "exports:exportjob": export_job,
        "contracts:month": job,
        "contracts:subscriber": contract.subscriber,
        "contracts:baseservicecontract": contract.base_contract,
        "contracts:carrierlinecontract": line,
        "contracts:application": open_application,
        "contracts:optioncontract": contract,
        "contracts:ledgerentry": contract.ledger_entries.get(),
        "options:tariffrevision": draft,
        "options:feeitem": fee_item,
        "options:option": Option.objects.get(code=ui_data.SWP),
    }


def object_for(name, world):
    """The record a URL with <pk> is about."""
    match = HISTORY.match(name)
    if match:
        key = f"{match['app']}:{match['model']}"
        if key in world:
            return world[key]
        return apps.get_model(match["app"], match["model"])._default_manager.order_by("pk").first()
    app, _, view = name.partition(":")
    for key, obj in world.items():
        model = key.partition(":")[2]
        if view.startswith(model + "_") or (model == "tariffrevision" and view.startswith("revision_")):
            return obj
    raise AssertionError(f"no record for {name}")


def concrete_urls(world):
    """Return {name: (url, required, post_only)} for every URL of the project."""
    urls = {}
    for name, route, callback in walk(get_resolver().url_patterns):
        obj = object_for(name, world) if "<int:pk>" in route else None
        assert obj is not None or "<int:pk>" not in route, f"no record for {name}"
        kwargs = {"pk": obj.pk} if obj is not None else {}
        view_class = getattr(callback, "view_class", None)
        post_only = view_class is not None and list(view_class.http_method_names) == ["post"]
        urls[name] = (reverse(name, kwargs=kwargs), required_for(name), post_only)
    return urls


def allowed(user, required) -> bool:
    if required in (PUBLIC, ANY_STAFF):
        return True
    if callable(required):
        return required(user)
    alternatives = required if isinstance(required, tuple) else (required,)
    return any(user.has_perm(p) for p in alternatives)


def make_user(key):
    user = get_user_model().objects.create_user(username=f"role-{key}", password="pass-1234")
    if ROLE_USERS[key]:
        user.groups.add(role_group(ROLE_USERS[key]))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def request(client, url, post_only):
    """GET a page, or POST (empty) to an action."""
    return client.post(url, {}) if post_only else client.get(url)


def pages_then_actions(urls):
    """GET pages first, then POST actions, so an action's effect never changes what a page check sees."""
    return sorted(urls.items(), key=lambda item: item[1][2])


def test_every_url_is_declared(world):
    undeclared = [name for name, (_, required, _) in concrete_urls(world).items() if required is None]
    assert undeclared == [], f"URL の必要権限が未宣言です: {undeclared}"


def test_every_url_is_in_the_hand_written_table_and_its_declaration_grants_exactly_those_roles(world):
    """REQUIRED is what the views check; EXPECTED is what DOMAIN §3.15 says. They must agree, URL by URL."""
    urls = concrete_urls(world)
    assert sorted(name for name, (_, required, _) in urls.items() if required != PUBLIC) == sorted(EXPECTED)
    users = {key: make_user(key) for key in ROLE_USERS}
    wrong = {}
    for name, (_, required, _) in urls.items():
        if required == PUBLIC:
            continue
        granted = {key for key, user in users.items() if allowed(user, required)}
        if granted != EXPECTED[name]:
            wrong[name] = sorted(granted)
    assert wrong == {}


def test_anonymous_is_sent_to_the_login_page(client, world):
    login = reverse("login")
    for name, (url, required, post_only) in concrete_urls(world).items():
        if required == PUBLIC:
            continue
        response = request(client, url + QUERY.get(name, ""), post_only)
        assert response.status_code == 302, name
        assert response["Location"].startswith(login + "?next="), name


def test_login_page_is_public_and_japanese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "ログイン" in response.content.decode()


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_each_role_gets_exactly_the_pages_and_actions_the_table_grants_it(client, world, role):
    user = make_user(role)
    client.force_login(user)
    urls = concrete_urls(world)
    wrong = []
    for name, (url, required, post_only) in pages_then_actions(urls):
        if required == PUBLIC:
            continue
        response = request(client, url + QUERY.get(name, ""), post_only)
        may = role in EXPECTED[name]
        if not may:
            if response.status_code != 403:
                wrong.append(f"{name}: {response.status_code}, 403 のはず")
            continue
        ok = response.status_code in (200, 302) if post_only else response.status_code == 200
        if not ok:
            wrong.append(f"{name}: {response.status_code}")
            continue
        if post_only or response.get("Content-Type", "").split(";")[0] != "text/html":
            continue
        html = response.content.decode()
        if "{#" in html or "{%" in html:
            wrong.append(f"{name}: テンプレートの構文がそのまま表示されています")
        for other, (other_url, other_required, _) in urls.items():
            if other_required == PUBLIC or role in EXPECTED[other]:
                continue
            for attr in (f'href="{other_url}"', f'href="{other_url}?', f'action="{other_url}"'):
                if attr in html:
                    wrong.append(f"{name} に権限のない {other} へのリンク・フォーム（{attr}）")
    assert wrong == [], "\n".join(wrong)


def test_refusals_and_missing_pages_are_in_japanese(client, world, accounting):
    client.force_login(accounting)
    forbidden = client.get(reverse("contracts:application_create"))
    assert forbidden.status_code == 403
    assert "権限がありません" in forbidden.content.decode()
    missing = client.get("/applications/999999/")
    assert missing.status_code == 404
    assert "ページが見つかりません" in missing.content.decode()


MISSING_PK = 999_999


def test_a_forbidden_record_answers_the_same_whether_it_exists_or_not(client, world):
    """Need to know: without the permission, an existing pk and a missing one both get 403 (no existence oracle);
    with it, a missing one is 404."""
    with_pk = {name for name, route, _ in walk(get_resolver().url_patterns) if "<int:pk>" in route}
    urls = {name: entry for name, entry in concrete_urls(world).items() if name in with_pk}
    assert len(urls) > 15
    wrong = []
    for key in ROLE_USERS:
        user = make_user(key)
        client.force_login(user)
        for name, (url, _required, post_only) in pages_then_actions(urls):
            pk = object_for(name, world).pk
            missing_url = url.replace(f"/{pk}/", f"/{MISSING_PK}/")
            missing = request(client, missing_url + QUERY.get(name, ""), post_only).status_code
            if key in EXPECTED[name]:
                if missing != 404:
                    wrong.append(f"{key} {name}: 存在しない記録に {missing}、404 のはず")
                continue
            existing = request(client, url + QUERY.get(name, ""), post_only).status_code
            if (existing, missing) != (403, 403):
                wrong.append(f"{key} {name}: 既存 {existing}・存在しない {missing}、どちらも 403 のはず")
    assert wrong == [], "\n".join(wrong)


def test_the_tariff_manager_sees_the_catalogue_and_no_personal_data(client, world):
    """規程管理 (DOMAIN §3.15): catalogue and revisions; no subscriber, contract, application, terms or ledger."""
    user = make_user("tariff_manager")
    personal = ["subscriber", "baseservicecontract", "carrierlinecontract", "optioncontract", "application"]
    personal += ["contractterms", "ledgerentry", "monthclose"]
    assert [m for m in personal if user.has_perm(f"contracts.view_{m}")] == []
    assert user.has_perms(["options.view_tariffrevision", "options.change_feeitem", "options.view_option"])
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True)  # as the demo's 規程管理: the admin too
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    for name in ["subscriber_list", "application_list", "optioncontract_list", "ledger_list"]:
        assert reverse(f"contracts:{name}") not in html, name
    subscriber = world["contracts:subscriber"]
    for url in [
        reverse("contracts:subscriber_detail", args=[subscriber.pk]),
        reverse("contracts:history_subscriber", args=[subscriber.pk]),
        reverse("admin:contracts_subscriber_change", args=[subscriber.pk]),
        reverse("admin:contracts_subscriber_change", args=[MISSING_PK]),
        reverse("admin:contracts_subscriber_changelist"),
        reverse("admin:contracts_optioncontract_change", args=[world["contracts:optioncontract"].pk]),
        reverse("admin:contracts_optioncontract_change", args=[MISSING_PK]),
    ]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert subscriber.name not in response.content.decode()
    assert client.get(reverse("options:revision_list")).status_code == 200


def test_personal_data_matrix(world):
    """Who reads subscribers and what they hold, pinned per role (need to know)."""
    users = {key: make_user(key) for key in ROLE_USERS}
    everyone_but_tariff = {"clerk", "approver", "accounting", "sysadmin"}
    for name in [
        "contracts:subscriber_detail",
        "contracts:application_detail",
        "contracts:optioncontract_detail",
        "contracts:ledgerentry_detail",
        "contracts:history_baseservicecontract",
        "contracts:history_carrierlinecontract",
    ]:
        required = required_for(name)
        assert {key for key, user in users.items() if allowed(user, required)} == everyone_but_tariff, name
    assert {key for key, user in users.items() if allowed(user, "options.view_tariffrevision")} == {
        "clerk",
        "approver",
        "accounting",
        "tariff_manager",
        "sysadmin",
    }


def test_role_matrix_for_the_decisive_actions(world):
    """The roles of DOMAIN §3.15, pinned: who may decide, reverse, enter, close and export."""
    users = {key: make_user(key) for key in ROLE_USERS}
    expect = {
        "contracts:application_approve": {"approver", "sysadmin"},
        "contracts:ledgerentry_reverse": {"approver", "sysadmin"},
        "contracts:application_create": {"clerk", "sysadmin"},
        "contracts:optioncontract_billing_start": {"clerk", "sysadmin"},
        "contracts:optioncontract_correction": {"clerk", "sysadmin"},
        "contracts:month_close": {"accounting", "sysadmin"},
        "contracts:monthly_report": {"accounting", "sysadmin"},
    }
    for name, who in expect.items():
        required = required_for(name)
        assert {key for key, user in users.items() if allowed(user, required)} == who, name
