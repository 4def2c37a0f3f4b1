"""Every permission denial (403) is in the auth log with the user and the path: pages, records one may not view
(existing or not: the same answer, the same row) and the admin's user pages."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from security.models import AuthEvent, AuthEventKind
from tests.factories import SubscriberFactory

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _denials():
    return list(
        AuthEvent.objects.filter(kind=AuthEventKind.PERMISSION_DENIED)
        .order_by("pk")
        .values_list("user", "username", "path", "detail")
    )


def test_a_forbidden_record_is_refused_and_logged_alike_whether_or_not_it_exists(client, tariff_manager):
    subscriber = SubscriberFactory()
    client.force_login(tariff_manager)
    existing = reverse("contracts:subscriber_detail", args=[subscriber.pk])
    missing = reverse("contracts:subscriber_detail", args=[999_999])
    assert client.get(existing).status_code == client.get(missing).status_code == 403
    assert _denials() == [
        (tariff_manager.pk, "tariff", existing, f"GET {existing}"),
        (tariff_manager.pk, "tariff", missing, f"GET {missing}"),
    ]


def test_a_refused_admin_user_page_is_logged_with_the_user(client, sysadmin):
    get_user_model().objects.filter(pk=sysadmin.pk).update(is_staff=True)
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(sysadmin)
    url = reverse("admin:auth_user_password_change", args=[root.pk])
    assert client.get(url).status_code == 403
    assert _denials() == [(sysadmin.pk, "sysadmin", url, f"GET {url}")]
