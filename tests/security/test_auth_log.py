"""The authentication log: what is written, from which address, who may read it, and that it is append-only."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import RequestFactory, override_settings
from django.urls import reverse

from security.client import client_ip
from security.models import AuthEvent, AuthEventKind

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db


def _events():
    return list(AuthEvent.objects.order_by("pk").values_list("kind", "username", "ip_address", "path"))


def test_login_failed_login_and_logout_are_recorded_with_user_time_and_address(client, clerk):
    login(client, "clerk", "wrong", REMOTE_ADDR="192.0.2.10")
    login(client, "nobody", "wrong", REMOTE_ADDR="192.0.2.10")
    login(client, "clerk", REMOTE_ADDR="192.0.2.10")
    client.post(reverse("logout"), REMOTE_ADDR="192.0.2.10")
    login_path, logout_path = reverse("login"), reverse("logout")
    assert _events() == [
        (AuthEventKind.LOGIN_FAILED, "clerk", "192.0.2.10", login_path),
        (AuthEventKind.LOGIN_FAILED, "nobody", "192.0.2.10", login_path),
        (AuthEventKind.LOGIN, "clerk", "192.0.2.10", login_path),
        (AuthEventKind.LOGOUT, "clerk", "192.0.2.10", logout_path),
    ]
    failed, unknown, logged_in, logged_out = AuthEvent.objects.order_by("pk")
    assert (failed.user, unknown.user, logged_in.user, logged_out.user) == (clerk, None, clerk, clerk)
    assert logged_in.at >= failed.at
    assert "pass" not in failed.detail and "wrong" not in failed.detail


def test_a_permission_denial_is_recorded_with_the_user_and_the_japanese_403_page_is_kept(client, accounting):
    client.force_login(accounting)
    url = reverse("contracts:application_create")
    response = client.get(url)
    assert response.status_code == 403
    assert "権限がありません" in response.content.decode()
    denial = AuthEvent.objects.get(kind=AuthEventKind.PERMISSION_DENIED)
    assert (denial.user, denial.username, denial.path, denial.detail) == (accounting, "accounting", url, f"GET {url}")


class TestSourceAddress:
    factory = RequestFactory()

    def _request(self, forwarded=None, remote="10.0.0.1"):
        extra = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            extra["HTTP_X_FORWARDED_FOR"] = forwarded
        return self.factory.get("/", **extra)

    def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(self):
        assert client_ip(self._request("203.0.113.9")) == "10.0.0.1"

    @override_settings(SECURITY_TRUSTED_PROXY_COUNT=1)
    def test_one_trusted_proxy_the_client_is_the_address_it_appended(self):
        assert client_ip(self._request("198.51.100.66, 203.0.113.9")) == "203.0.113.9"  # the first one is forged
        assert client_ip(self._request(None)) == "10.0.0.1"
        assert client_ip(self._request("not-an-address")) == "10.0.0.1"

    @override_settings(SECURITY_TRUSTED_PROXY_COUNT=2)
    def test_two_trusted_proxies(self):
        assert client_ip(self._request("203.0.113.9, 192.0.2.1")) == "203.0.113.9"
        assert client_ip(self._request("192.0.2.1")) == "10.0.0.1"  # shorter than the proxy chain: not trusted

    @pytest.mark.django_db
    @override_settings(SECURITY_TRUSTED_PROXY_COUNT=1)
    def test_the_log_uses_the_trusted_address(self, client, clerk):
        login(client, "clerk", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
        assert AuthEvent.objects.get(kind=AuthEventKind.LOGIN).ip_address == "203.0.113.9"


def test_a_system_admin_reads_the_log_filtered_and_paginated(client, sysadmin, clerk):
    login(client, "clerk", "wrong", REMOTE_ADDR="192.0.2.10")
    client.force_login(sysadmin)
    page = client.get(reverse("security:auth_log"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "認証ログ" in html and "ログイン失敗" in html and "192.0.2.10" in html
    only_failures = client.get(reverse("security:auth_log"), {"kind": AuthEventKind.LOGIN_FAILED}).content.decode()
    assert "192.0.2.10" in only_failures
    other_address = client.get(reverse("security:auth_log"), {"ip_address": "192.0.2.99"}).content.decode()
    assert "192.0.2.10" not in other_address
    bad = client.get(reverse("security:auth_log"), {"ip_address": "x' OR 1=1", "on": "令和99年99月99日", "page": "x"})
    assert bad.status_code in (200, 404)


def test_a_superuser_reads_the_log_too(client):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    assert client.get(reverse("security:auth_log")).status_code == 200


@pytest.mark.parametrize("role", ["clerk", "approver", "accounting", "tariff_manager"])
def test_no_other_role_reads_the_log_and_none_sees_the_menu(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("security:auth_log")).status_code == 403
    home = client.get(reverse("home")).content.decode()
    assert reverse("security:auth_log") not in home and reverse("security:lockout_list") not in home


def test_the_menu_links_the_security_pages_for_the_system_admin(client, sysadmin):
    client.force_login(sysadmin)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("security:auth_log")}"' in home
    assert f'href="{reverse("security:lockout_list")}"' in home


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("security:auth_log"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


class TestAppendOnly:
    @pytest.fixture
    def event(self, clerk):
        return AuthEvent.objects.create(kind=AuthEventKind.LOGIN, user=clerk, username="clerk")

    def test_a_row_cannot_be_changed_or_deleted_through_the_orm(self, event):
        event.detail = "changed"
        with pytest.raises(TypeError, match="追記のみ"):
            event.save()
        with pytest.raises(TypeError, match="追記のみ"):
            event.delete()
        with pytest.raises(TypeError, match="追記のみ"):
            AuthEvent.objects.filter(pk=event.pk).update(detail="changed")
        with pytest.raises(TypeError, match="追記のみ"):
            AuthEvent.objects.all().delete()

    def test_deleting_an_account_leaves_its_rows_alone(self, event, clerk):
        clerk.delete()
        assert AuthEvent.objects.get(pk=event.pk).username == "clerk"

    def test_the_admin_shows_the_log_read_only(self, client, event):
        root = get_user_model().objects.create_superuser("root", password=PASSWORD)
        client.force_login(root)
        assert client.get(reverse("admin:security_authevent_changelist")).status_code == 200
        change = client.get(reverse("admin:security_authevent_change", args=[event.pk]))
        assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
        change_url = reverse("admin:security_authevent_change", args=[event.pk])
        delete_url = reverse("admin:security_authevent_delete", args=[event.pk])
        assert client.post(change_url, {"detail": "x"}).status_code == 403
        assert client.post(delete_url, {"post": "yes"}).status_code == 403
        assert client.get(reverse("admin:security_authevent_add")).status_code == 403
        assert AuthEvent.objects.get(pk=event.pk).detail == ""

    def test_the_admin_hides_the_log_from_other_staff(self, client, event, clerk):
        clerk.is_staff = True
        clerk.save()
        client.force_login(clerk)
        assert client.get(reverse("admin:security_authevent_changelist")).status_code == 403

    @pytest.mark.postgres
    def test_postgresql_refuses_update_and_delete_in_sql(self, event):
        for sql in ("UPDATE security_authevent SET detail = 'x'", "DELETE FROM security_authevent"):
            with pytest.raises(DatabaseError, match="追記のみ"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        assert AuthEvent.objects.filter(pk=event.pk).exists()
