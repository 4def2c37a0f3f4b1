"""Sessions end after 30 minutes idle and 12 hours after login at most; staff responses are never stored."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.http import StreamingHttpResponse
from django.urls import reverse

from core import clock
from security.models import AuthEvent, AuthEventKind
from tests import ui_data

from .conftest import login

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


def _home(client):
    return client.get(reverse("home"))


def _sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login") + "?next=")


def test_session_settings():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SECURITY_SESSION_MAX_AGE == 12 * 60 * 60
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_the_session_cookie_lasts_30_minutes_and_is_renewed_on_every_request(client, clerk):
    with time_machine.travel(T0, tick=False):
        assert login(client, "clerk").status_code == 302
        response = _home(client)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 1800


def test_30_minutes_idle_ends_the_session_but_activity_keeps_it(client, clerk):
    with time_machine.travel(T0, tick=False) as clock:
        login(client, "clerk")
        for _ in range(3):  # 87 minutes in all, never 30 idle
            clock.shift(dt.timedelta(minutes=29))
            assert _home(client).status_code == 200
        clock.shift(dt.timedelta(minutes=30, seconds=1))
        assert _sent_to_login(_home(client))


def test_12_hours_after_login_the_session_ends_however_active(client, clerk):
    with time_machine.travel(T0, tick=False) as clock:
        login(client, "clerk")
        for _ in range(28):  # every 25 minutes: 11 h 40 min
            clock.shift(dt.timedelta(minutes=25))
            assert _home(client).status_code == 200, clock.time()
        clock.shift(dt.timedelta(minutes=19))  # 11 h 59 min
        assert _home(client).status_code == 200
        clock.shift(dt.timedelta(minutes=1))  # 12 h
        response = _home(client)
        assert _sent_to_login(response)
        page = client.get(response["Location"])
        assert "ログインから12時間が経ったため、ログアウトしました" in page.content.decode()
        assert _sent_to_login(_home(client))
        logout = AuthEvent.objects.get(kind=AuthEventKind.LOGOUT)
        assert (logout.user, logout.detail) == (clerk, "ログインから12時間の上限でログアウト")

        # Logging in again starts a new 12 hours.
        login(client, "clerk")
        assert _home(client).status_code == 200


def test_staff_pages_and_the_admin_are_never_stored(client, sysadmin):
    sysadmin.is_staff = True
    sysadmin.save()
    client.force_login(sysadmin)
    for url in (reverse("home"), reverse("security:auth_log"), reverse("admin:index"), "/no-such-page/"):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_a_streamed_export_is_never_stored(client, regulation, clerk, approver, accounting):
    ui_data.billing_contract(clerk=clerk, approver=approver)
    client.force_login(accounting)
    month = clock.today().strftime("%Y-%m")
    response = client.get(reverse("contracts:monthly_report_download"), {"month": month, "fmt": "csv"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content)
