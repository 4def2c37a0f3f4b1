"""Login throttling: a username locks after 5 failures, a source address after 20, for 30 minutes from the last
failure; the Japanese lockout page; a システム管理者 releases a lock on the staff page, and that is recorded."""

import datetime as dt

import pytest
import time_machine
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core.errors import DomainError
from security.lockouts import current_lockouts
from security.models import AuthEvent, AuthEventKind
from security.services import lockout_release

from .conftest import PASSWORD, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("axes_on")]

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _fail(client, username, times, **extra):
    return [login(client, username, "wrong-password", **extra) for _ in range(times)]


def _logged_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_attempts_are_kept_by_axes_database_handler_so_every_app_server_shares_them(client, approver):
    assert isinstance(AxesProxyHandler.get_implementation(), AxesDatabaseHandler)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    _fail(client, "approver", 2)
    assert AccessAttempt.objects.get(username="approver").failures_since_start == 2


def test_the_fifth_failure_locks_the_username_with_a_japanese_page_and_the_right_password_is_refused(client, approver):
    responses = _fail(client, "approver", 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    page = responses[-1].content.decode()
    assert "ログインを一時停止しています" in page
    assert "30分" in page and "システム管理者" in page
    assert "Account locked" not in page

    refused = login(client, "approver", PASSWORD)
    assert refused.status_code == 429
    assert not _logged_in(client)

    kinds = list(AuthEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == [AuthEventKind.LOGIN_FAILED] * 5 + [AuthEventKind.LOCKOUT, AuthEventKind.LOGIN_FAILED]
    lockout = AuthEvent.objects.get(kind=AuthEventKind.LOCKOUT)
    assert (lockout.username, lockout.target, lockout.ip_address) == ("approver", "ユーザー名 approver", "127.0.0.1")
    assert "ロック中" in AuthEvent.objects.filter(kind=AuthEventKind.LOGIN_FAILED).latest("pk").detail


def test_a_locked_username_does_not_lock_other_staff_on_the_same_address(client, approver, clerk):
    _fail(client, "approver", 5)
    assert login(client, "clerk").status_code == 302
    assert _logged_in(client)


def test_the_lock_lifts_30_minutes_after_the_last_failure(client, approver):
    with time_machine.travel(T0, tick=False) as clock:
        _fail(client, "approver", 5)
        clock.shift(dt.timedelta(minutes=29))
        assert login(client, "approver").status_code == 429  # and this failure starts the 30 minutes again
        clock.shift(dt.timedelta(minutes=29))
        assert login(client, "approver").status_code == 429
        clock.shift(dt.timedelta(minutes=31))
        assert login(client, "approver").status_code == 302


def test_a_successful_login_clears_the_usernames_failures(client, approver):
    _fail(client, "approver", 4)
    assert login(client, "approver").status_code == 302
    client.post(reverse("logout"))
    assert [r.status_code for r in _fail(client, "approver", 4)] == [200] * 4
    assert login(client, "approver").status_code == 302


def test_twenty_failures_from_one_address_lock_that_address_for_every_username(client, clerk):
    office = {"REMOTE_ADDR": "203.0.113.7"}
    for n in range(19):
        assert login(client, f"guess{n}", "x", **office).status_code == 200
    assert login(client, "guess19", "x", **office).status_code == 429
    assert login(client, "clerk", **office).status_code == 429
    # The same person from another address is not affected: the address, not the username, is locked.
    assert login(client, "clerk", REMOTE_ADDR="198.51.100.1").status_code == 302
    lockout = AuthEvent.objects.get(kind=AuthEventKind.LOCKOUT)
    assert lockout.target == "送信元アドレス 203.0.113.7"


def test_the_admin_login_is_throttled_too(client, approver):
    url = reverse("admin:login")
    statuses = [client.post(url, {"username": "approver", "password": "bad"}).status_code for _ in range(5)]
    assert statuses[-1] == 429
    assert login(client, "approver").status_code == 429


def test_a_system_admin_sees_the_lockout_and_releases_it_which_is_recorded(client, approver, sysadmin):
    _fail(client, "approver", 5)
    client.force_login(sysadmin)
    page = client.get(reverse("security:lockout_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "approver" in html and "解除" in html and 'name="username" value="approver"' in html

    response = client.post(reverse("security:lockout_release"), {"username": "approver"}, follow=True)
    assert "approver のロックを解除しました" in response.content.decode()
    assert current_lockouts() == []
    release = AuthEvent.objects.get(kind=AuthEventKind.LOCKOUT_RELEASED)
    assert (release.user, release.username, release.target) == (sysadmin, "sysadmin", "ユーザー名 approver")

    client.post(reverse("logout"))
    assert login(client, "approver").status_code == 302


def test_an_address_lock_is_released_from_the_same_page(client, sysadmin):
    for n in range(20):
        login(client, f"guess{n}", "x", REMOTE_ADDR="203.0.113.7")
    client.force_login(sysadmin)
    assert "203.0.113.7" in client.get(reverse("security:lockout_list")).content.decode()
    client.post(reverse("security:lockout_release"), {"ip_address": "203.0.113.7"})
    assert current_lockouts() == []
    assert AuthEvent.objects.get(kind=AuthEventKind.LOCKOUT_RELEASED).target == "送信元アドレス 203.0.113.7"


@pytest.mark.parametrize("role", ["clerk", "approver", "accounting", "tariff_manager"])
def test_other_roles_can_neither_see_nor_release_lockouts(client, request, role, approver2):
    _fail(client, "approver2", 5)
    user = request.getfixturevalue(role)
    client.force_login(user)
    assert client.get(reverse("security:lockout_list")).status_code == 403
    assert client.post(reverse("security:lockout_release"), {"username": "approver2"}).status_code == 403
    assert [lock.value for lock in current_lockouts()] == ["approver2"]
    with pytest.raises(PermissionDenied):
        lockout_release(actor=user, username="approver2")
    assert not AuthEvent.objects.filter(kind=AuthEventKind.LOCKOUT_RELEASED).exists()


def test_the_service_lets_a_superuser_release_and_refuses_what_is_not_locked(client, approver):
    _fail(client, "approver", 5)
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    assert lockout_release(actor=root, username="approver") == 1
    with pytest.raises(DomainError, match="ロックされていません"):
        lockout_release(actor=root, username="approver")
    with pytest.raises(DomainError, match="どちらか一つ"):
        lockout_release(actor=root, username="approver", ip_address="127.0.0.1")
    inactive = get_user_model().objects.create_superuser("gone", password=PASSWORD, is_active=False)
    with pytest.raises(PermissionDenied):
        lockout_release(actor=inactive, username="approver")
