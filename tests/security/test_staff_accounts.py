"""Staff accounts (§3.15): no escalation by a システム管理者 that is not a superuser, no hard delete, who created
each account recorded, and four eyes refusing two people of whom one created the other's account."""

import datetime as dt

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from contracts import roles
from contracts.choices import LedgerKind
from contracts.demo import DEMO_STAFF, load_staff
from contracts.models import LedgerEntry, OptionContract
from contracts.services import application_approve, application_start_review, ledger_entry_reverse
from core.clock import JST
from core.errors import DomainError
from core.history_write import system_user
from options.choices import FeeKind
from security.accounts import (
    staff_account_create,
    staff_account_deactivate,
    staff_account_flags_set,
    staff_account_password_set,
    staff_account_roles_set,
    staff_account_update,
    staff_assert_independent,
)
from security.models import StaffAccount
from tests import ui_data
from tests.factories import add_fee_item, role_group

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def admin_staff(sysadmin):
    """The demo's システム管理者: staff (it uses the admin), not a superuser."""
    get_user_model().objects.filter(pk=sysadmin.pk).update(is_staff=True)
    return _fresh(sysadmin)


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


def _refused(code, call, **kwargs):
    with pytest.raises(DomainError) as refused:
        call(**kwargs)
    assert refused.value.code == code, refused.value.message
    return refused.value.message


# --- staff_account_create -------------------------------------------------------------------------------------


def test_staff_account_create_makes_a_staff_account_with_its_roles_and_records_who_created_it(admin_staff):
    user = staff_account_create(
        username="new-clerk", password=PASSWORD, last_name="受付", roles=[role_group(roles.CLERK)], actor=admin_staff
    )
    user = _fresh(user)
    assert (user.is_staff, user.is_superuser, user.is_active) == (True, False, True)
    assert list(user.groups.values_list("name", flat=True)) == [roles.CLERK]
    assert not user.user_permissions.exists()
    assert user.check_password(PASSWORD)
    record = StaffAccount.objects.get(user=user)
    assert record.created_by == admin_staff


def test_staff_account_create_refuses_a_taken_name_and_a_weak_password_and_writes_nothing(admin_staff, clerk):
    count = get_user_model().objects.count()
    assert "使用済み" in _refused(
        "username_taken", staff_account_create, username="CLERK", password=PASSWORD, actor=admin_staff
    )
    _refused("password_invalid", staff_account_create, username="weak", password="1234", actor=admin_staff)
    assert get_user_model().objects.count() == count and not StaffAccount.objects.exists()


def test_staff_account_create_needs_the_add_user_permission(clerk):
    message = _refused("permission_denied", staff_account_create, username="x", password=PASSWORD, actor=clerk)
    assert message == "職員アカウントを作成する権限がありません。"


# --- staff_roles_assert_grantable -----------------------------------------------------------------------------


def test_staff_roles_assert_grantable_a_role_carrying_a_permission_the_actor_lacks_is_refused(admin_staff, clerk):
    wider = Group.objects.create(name="削除もできる")
    wider.permissions.add(Permission.objects.get(codename="delete_user"))
    message = _refused(
        "role_beyond_actor",
        staff_account_create,
        username="x",
        password=PASSWORD,
        roles=[wider],
        actor=admin_staff,
    )
    assert message == "役割「削除もできる」にはあなたが持たない権限（auth.delete_user）が含まれるため、付与できません。"
    _refused("role_beyond_actor", staff_account_roles_set, user=clerk, roles=[wider], actor=admin_staff)
    assert list(_fresh(clerk).groups.values_list("name", flat=True)) == [roles.CLERK]
    assert not get_user_model().objects.filter(username="x").exists()


def test_staff_roles_assert_grantable_a_system_admin_grants_the_roles_it_holds_and_a_superuser_grants_the_rest(
    admin_staff, clerk, root
):
    # システム管理者 deletes nothing (tests/test_service_permissions.py), so 規程管理, which may delete an empty
    # revision, carries a permission it lacks: a superuser grants that role.
    held = [role_group(name) for name in roles.ROLE_PERMISSIONS if name != roles.TARIFF_MANAGER]
    staff_account_roles_set(user=clerk, roles=held, actor=admin_staff)
    assert set(_fresh(clerk).groups.values_list("name", flat=True)) == set(roles.ROLE_PERMISSIONS) - {
        roles.TARIFF_MANAGER
    }
    message = _refused(
        "role_beyond_actor",
        staff_account_roles_set,
        user=clerk,
        roles=[role_group(roles.TARIFF_MANAGER)],
        actor=_fresh(admin_staff),
    )
    assert "options.delete_tariffrevision" in message
    staff_account_roles_set(user=clerk, roles=[role_group(roles.TARIFF_MANAGER)], actor=root)
    assert list(_fresh(clerk).groups.values_list("name", flat=True)) == [roles.TARIFF_MANAGER]


# --- staff_account_assert_not_self / staff_account_assert_manageable ------------------------------------------


def test_staff_account_assert_not_self_no_one_changes_their_own_roles_or_deactivates_themselves(admin_staff):
    message = _refused(
        "own_account", staff_account_roles_set, user=admin_staff, roles=[role_group(roles.CLERK)], actor=admin_staff
    )
    assert "自分のアカウント" in message
    _refused("own_account", staff_account_deactivate, user=admin_staff, actor=admin_staff)
    admin_staff = _fresh(admin_staff)
    assert admin_staff.is_active and list(admin_staff.groups.values_list("name", flat=True)) == [roles.SYSTEM_ADMIN]


def test_staff_account_assert_manageable_a_superuser_is_out_of_reach(admin_staff, root):
    message = _refused("superuser_account", staff_account_deactivate, user=root, actor=admin_staff)
    assert message == "「root」はスーパーユーザーのため、スーパーユーザー以外は変更できません。"
    _refused("superuser_account", staff_account_roles_set, user=root, roles=[], actor=admin_staff)
    _refused(
        "superuser_account", staff_account_update, user=root, last_name="x", first_name="", email="", actor=admin_staff
    )
    root = _fresh(root)
    assert root.is_active and root.last_name == ""


def test_staff_account_assert_manageable_an_account_holding_more_than_the_actor_is_out_of_reach(admin_staff, clerk):
    clerk.user_permissions.add(Permission.objects.get(codename="delete_user"))
    message = _refused("account_beyond_actor", staff_account_deactivate, user=clerk, actor=admin_staff)
    assert "auth.delete_user" in message
    assert _fresh(clerk).is_active


# --- flags and direct permissions: superusers only ------------------------------------------------------------


def test_staff_account_flags_set_superuser_and_staff_flags_are_set_by_a_superuser_only(admin_staff, clerk, root):
    for flags in ({"is_superuser": True, "is_staff": False}, {"is_superuser": False, "is_staff": True}):
        message = _refused(
            "flags_superuser_only", staff_account_flags_set, user=clerk, is_active=True, actor=admin_staff, **flags
        )
        assert "スーパーユーザーだけ" in message
    _refused(
        "flags_superuser_only",
        staff_account_flags_set,
        user=admin_staff,
        is_active=True,
        is_staff=True,
        is_superuser=True,
        actor=admin_staff,
    )
    assert not _fresh(admin_staff).is_superuser and not _fresh(clerk).is_staff
    staff_account_flags_set(user=clerk, is_active=True, is_staff=True, is_superuser=False, actor=root)
    assert _fresh(clerk).is_staff


def test_staff_account_roles_set_direct_permissions_are_granted_by_a_superuser_only(admin_staff, clerk, root):
    view_user = Permission.objects.get(codename="view_user")  # one the actor holds: still not granted directly
    message = _refused(
        "direct_permission",
        staff_account_roles_set,
        user=clerk,
        roles=[role_group(roles.CLERK)],
        permissions=[view_user],
        actor=admin_staff,
    )
    assert "役割（グループ）で付与してください" in message
    assert not _fresh(clerk).user_permissions.exists()
    staff_account_roles_set(user=clerk, roles=[role_group(roles.CLERK)], permissions=[view_user], actor=root)
    assert list(_fresh(clerk).user_permissions.all()) == [view_user]


def test_staff_account_deactivate_deactivates_and_never_deletes(admin_staff, clerk):
    staff_account_deactivate(user=clerk, actor=admin_staff)
    assert _fresh(clerk).is_active is False
    staff_account_deactivate(user=clerk, actor=admin_staff)  # again: nothing more
    assert get_user_model().objects.filter(pk=clerk.pk).exists()


# --- staff_assert_independent: four eyes -----------------------------------------------------------------------


def test_staff_assert_independent_one_who_created_the_others_account_is_not_independent(admin_staff, clerk):
    made = staff_account_create(username="made", password=PASSWORD, last_name="新人", actor=admin_staff)
    for first, second in ((made, admin_staff), (admin_staff, made)):
        with pytest.raises(DomainError) as refused:
            staff_assert_independent(first, second, what="受付者と承認者")
        assert refused.value.code == "four_eyes_not_independent"
        assert (
            "sysadmin" in refused.value.message and "新人（made）のアカウントを作成しています" in refused.value.message
        )
    staff_assert_independent(made, clerk, what="受付者と承認者")  # neither created the other's account
    with pytest.raises(DomainError, match="同じ職員"):
        staff_assert_independent(clerk, clerk, what="受付者と承認者")


def test_staff_assert_independent_an_approver_who_created_the_entrants_account_cannot_approve(
    regulation, approver, admin_staff
):
    staff_account_roles_set(
        user=approver, roles=[role_group(roles.APPROVER), role_group(roles.SYSTEM_ADMIN)], actor=admin_staff
    )
    approver = _fresh(approver)
    entrant = staff_account_create(
        username="entrant", password=PASSWORD, roles=[role_group(roles.CLERK)], actor=approver
    )
    application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=entrant)
    application_start_review(application=application, actor=approver)
    with pytest.raises(DomainError) as refused:
        application_approve(application=application, actor=approver)
    assert refused.value.code == "four_eyes_not_independent"
    assert refused.value.message.startswith("申込の受付者と決裁する職員は互いに独立していません")
    application.refresh_from_db()
    assert application.status == "under_review" and not OptionContract.objects.exists()


def test_staff_assert_independent_the_reversal_of_a_row_approved_by_the_account_creator_is_refused(
    regulation, clerk, approver, admin_staff, tariff_manager
):
    add_fee_item(
        "swp-accounts",
        "additional-accounts",
        FeeKind.INITIAL,
        6000,
        revision_on=dt.date(2026, 2, 1),
        actor=tariff_manager,
    )
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=JST), tick=False):
        ui_data.approve(
            ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk, quantity=20), approver=approver
        )
    entry = LedgerEntry.objects.get(kind=LedgerKind.INITIAL)
    # A second approver whose account the first approver created: not independent of the one who approved.
    staff_account_roles_set(
        user=approver, roles=[role_group(roles.APPROVER), role_group(roles.SYSTEM_ADMIN)], actor=admin_staff
    )
    protege = staff_account_create(
        username="protege", password=PASSWORD, roles=[role_group(roles.APPROVER)], actor=_fresh(approver)
    )
    rows = LedgerEntry.objects.count()
    with pytest.raises(DomainError) as refused:
        ledger_entry_reverse(entry=entry, reason="誤記帳", actor=protege)
    assert refused.value.code == "four_eyes_not_independent"
    assert refused.value.message.startswith("申込の承認者と取消を行う職員は互いに独立していません")
    assert LedgerEntry.objects.count() == rows


def test_demo_staff_are_created_by_the_system_user_so_any_two_are_independent(regulation):
    load_staff()
    creators = set(
        StaffAccount.objects.filter(user__username__in=[u for u, _, _ in DEMO_STAFF]).values_list(
            "created_by", flat=True
        )
    )
    assert creators == {system_user().pk}


def test_staff_assert_independent_the_system_user_is_no_accomplice_of_the_accounts_it_made(regulation):
    # The demo's staff are made by the system user, which also books the month close: a demo システム管理者 may
    # still reverse a close's charge row (the before-stop month end and ops/check_db_roles.sh do).
    load_staff()
    admin = get_user_model().objects.get(username="admin")
    staff_assert_independent(system_user(), admin, what="支払義務を記帳した職員と取消を行う職員")
    staff_assert_independent(admin, system_user(), what="支払義務を記帳した職員と取消を行う職員")
    with pytest.raises(DomainError, match="同じ職員"):
        staff_assert_independent(system_user(), system_user(), what="受付者と承認者")


# --- the admin's user pages go through the services ------------------------------------------------------------


def test_the_admin_user_page_of_a_non_superuser_system_admin_cannot_escalate(client, admin_staff, clerk, root):
    client.force_login(admin_staff)
    url = reverse("admin:auth_user_change", args=[clerk.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert {"is_superuser", "is_staff", "user_permissions"}.isdisjoint(form.fields)
    data = {
        "username": "clerk",
        "last_name": "受付 改",
        "first_name": "",
        "email": "",
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [role_group(roles.CLERK).pk],
        "user_permissions": [Permission.objects.get(codename="delete_user").pk],
    }
    assert client.post(url, data).status_code == 302
    clerk = _fresh(clerk)
    assert clerk.last_name == "受付 改"
    assert (clerk.is_superuser, clerk.is_staff, clerk.user_permissions.exists()) == (False, False, False)
    # Its own page: groups read-only too.
    own = client.get(reverse("admin:auth_user_change", args=[admin_staff.pk]))
    assert "groups" not in own.context["adminform"].form.fields
    # A superuser's page: read-only, no password change, and a POST is refused.
    assert client.post(reverse("admin:auth_user_change", args=[root.pk]), {"username": "root"}).status_code == 403
    assert client.get(reverse("admin:auth_user_password_change", args=[root.pk])).status_code == 403
    # No delete, for anyone.
    assert client.get(reverse("admin:auth_user_delete", args=[clerk.pk])).status_code == 403
    client.force_login(root)
    assert client.get(reverse("admin:auth_user_delete", args=[clerk.pk])).status_code == 403


def test_the_admin_adds_a_staff_account_through_the_service(client, admin_staff):
    client.force_login(admin_staff)
    response = client.post(
        reverse("admin:auth_user_add"),
        {"username": "newbie", "usable_password": "true", "password1": PASSWORD + "x", "password2": PASSWORD + "x"},
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert user.is_staff and not user.is_superuser
    assert StaffAccount.objects.get(user=user).created_by == admin_staff


def test_the_admin_refuses_granting_a_role_beyond_the_actor_with_a_japanese_message(client, admin_staff, clerk):
    wider = Group.objects.create(name="削除もできる")
    wider.permissions.add(Permission.objects.get(codename="delete_user"))
    client.force_login(admin_staff)
    url = reverse("admin:auth_user_change", args=[clerk.pk])
    response = client.post(url, {"username": "clerk", "last_name": "clerk", "groups": [wider.pk]}, follow=True)
    assert any("付与できません" in str(m) for m in response.context["messages"])
    assert list(_fresh(clerk).groups.values_list("name", flat=True)) == [roles.CLERK]


# --- staff_account_password_set ---------------------------------------------------------------------------------


def test_staff_account_password_set_no_escalation_a_system_admin_never_sets_a_superusers_password(
    admin_staff, clerk, root
):
    old_hash = _fresh(root).password
    message = _refused(
        "superuser_account", staff_account_password_set, user=root, password="x-" + PASSWORD, actor=admin_staff
    )
    assert message == "「root」はスーパーユーザーのため、スーパーユーザー以外は変更できません。"
    assert _fresh(root).password == old_hash
    staff_account_password_set(user=clerk, password="new-" + PASSWORD, actor=admin_staff)
    assert _fresh(clerk).check_password("new-" + PASSWORD)
    staff_account_password_set(user=admin_staff, password="own-" + PASSWORD, actor=admin_staff)  # one's own
    assert _fresh(admin_staff).check_password("own-" + PASSWORD)
    staff_account_password_set(user=root, password="root-" + PASSWORD, actor=root)
    assert _fresh(root).check_password("root-" + PASSWORD)


def test_staff_account_password_set_refuses_a_weak_password_and_unsets_on_none(admin_staff, clerk):
    _refused("password_invalid", staff_account_password_set, user=clerk, password="1234", actor=admin_staff)
    assert _fresh(clerk).check_password(PASSWORD)
    staff_account_password_set(user=clerk, password=None, actor=admin_staff)
    assert not _fresh(clerk).has_usable_password()


def test_the_admin_password_page_sets_the_password_through_the_service_and_logs_it(client, admin_staff, clerk):
    client.force_login(admin_staff)
    url = reverse("admin:auth_user_password_change", args=[clerk.pk])
    new = "admin-set-" + PASSWORD
    response = client.post(url, {"password1": new, "password2": new, "usable_password": "true"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:auth_user_change", args=[clerk.pk])
    assert "パスワードを変更しました。" in [str(m) for m in response.context["messages"]]
    assert _fresh(clerk).check_password(new)
    entry = LogEntry.objects.get(object_id=str(clerk.pk))
    assert (entry.user_id, entry.action_flag) == (admin_staff.pk, CHANGE)
    # A password the validators refuse is the stock form's error, and nothing is written.
    weak = client.post(url, {"password1": "1234", "password2": "1234", "usable_password": "true"})
    assert weak.status_code == 200 and "このパスワードは短すぎます" in weak.content.decode()
    assert _fresh(clerk).check_password(new) and LogEntry.objects.count() == 1


def test_the_admin_refused_save_of_a_staff_account_writes_nothing_at_all(client, admin_staff, clerk):
    """The rename (staff_account_update) and the refused role (staff_account_roles_set) are one transaction."""
    wider = Group.objects.create(name="削除もできる")
    wider.permissions.add(Permission.objects.get(codename="delete_user"))
    client.force_login(admin_staff)
    url = reverse("admin:auth_user_change", args=[clerk.pk])
    response = client.post(url, {"username": "clerk", "last_name": "改名", "groups": [wider.pk]}, follow=True)
    assert "役割「削除もできる」にはあなたが持たない権限（auth.delete_user）が含まれるため、付与できません。" in [
        str(m) for m in response.context["messages"]
    ]
    clerk = _fresh(clerk)
    assert clerk.last_name != "改名" and list(clerk.groups.values_list("name", flat=True)) == [roles.CLERK]
    assert not LogEntry.objects.exists()


def test_the_admin_save_of_a_staff_account_that_changes_nothing_says_so_and_writes_nothing(client, admin_staff, clerk):
    """As every record admin (core.admin.UnchangedSaveMixin): no 変更しました, no LogEntry, the account as it was."""
    client.force_login(admin_staff)
    url = reverse("admin:auth_user_change", args=[clerk.pk])
    before = _fresh(clerk)
    data = {
        "username": "clerk",
        "last_name": before.last_name,
        "first_name": "",
        "email": "",
        "groups": [role_group(roles.CLERK).pk],
    }

    response = client.post(url, data, follow=True)

    assert [str(m) for m in response.context["messages"]] == ["ユーザー「clerk」: 変更はありません。"]
    assert not LogEntry.objects.exists()
    after = _fresh(clerk)
    assert (after.last_name, after.password, list(after.groups.values_list("name", flat=True))) == (
        before.last_name,
        before.password,
        [roles.CLERK],
    )
    # A real change still saves through the service and is logged once.
    client.post(url, {**data, "last_name": "受付 改"}, follow=True)
    assert _fresh(clerk).last_name == "受付 改"
    assert LogEntry.objects.get().action_flag == CHANGE
