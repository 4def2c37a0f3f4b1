"""Subscriber registration and edits through the screens: the reason goes to the history, refusals are form errors."""

import pytest
from django.urls import reverse

from contracts.models import Subscriber
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "name": "株式会社登録試験",
    "kana": "カブシキガイシャトウロクシケン",
    "kind": "corporate",
    "email": "",
    "phone": "",
    "address": "",
    "note": "",
}


def test_the_clerk_registers_a_subscriber(client, clerk):
    client.force_login(clerk)
    response = client.post(reverse("contracts:subscriber_create"), {**FIELDS, "code": "N00001", "reason": ""})
    subscriber = Subscriber.objects.get(code="N00001")
    assert response.status_code == 302
    assert response["Location"] == reverse("contracts:subscriber_detail", args=[subscriber.pk])
    assert subscriber.history.get().history_user == clerk


def test_a_taken_code_is_a_form_error_in_the_services_words(client, clerk):
    SubscriberFactory(code="N00001")
    client.force_login(clerk)
    response = client.post(reverse("contracts:subscriber_create"), {**FIELDS, "code": "N00001", "reason": ""})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["契約者コード「N00001」は登録済みです。"]


def test_an_edit_needs_a_reason_which_the_history_keeps(client, clerk, fixed_clock):
    subscriber = SubscriberFactory(name="株式会社旧")
    fixed_clock.advance(minutes=1)  # staff edit a minute later: history is ordered by its instant
    client.force_login(clerk)
    url = reverse("contracts:subscriber_update", args=[subscriber.pk])
    response = client.post(url, {**FIELDS, "name": "株式会社新", "reason": ""})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    response = client.post(url, {**FIELDS, "name": "株式会社新", "reason": "商号変更"})
    assert response.status_code == 302
    latest = subscriber.history.latest("history_date")
    assert (latest.name, latest.history_change_reason, latest.history_user) == ("株式会社新", "商号変更", clerk)
    assert "code" not in client.get(url).context["form"].fields  # the code never changes
