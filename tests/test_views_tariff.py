"""Tariff screens and record history: 和暦 dates, the regulation as of a date, revision diffs, who/when/why."""

import pytest
from django.urls import reverse

from contracts.services.subscribers import subscriber_update
from options.models import FeeItem, Option, TariffRevision
from tests import ui_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, accounting):
    client.force_login(accounting)
    return client


def test_revisions_are_listed_with_wareki_dates(regulation, staff):
    html = staff.get(reverse("options:revision_list")).content.decode()
    assert "平成16年8月1日 (2004-08-01)" in html
    assert "令和8年2月1日 (2026-02-01)" in html
    assert "令和2年2月1日変更" in html


def test_the_regulation_as_of_a_date_shows_the_fees_in_force(regulation, staff):
    response = staff.get(reverse("options:tariff_as_of"), {"on": "R8.2.1"})
    html = response.content.decode()
    assert "令和8年2月1日変更" in html
    assert "10アカウントあたり 3,000円" in html
    assert "当社が別途契約者に示す金額" in html
    assert len(response.context["table"].page.object_list) == FeeItem.objects.count()


def test_before_the_fee_table_no_fee_is_in_force_and_retired_options_are_listed_until_retired(regulation, staff):
    response = staff.get(reverse("options:tariff_as_of"), {"on": "平成20年4月1日"})
    assert len(response.context["table"].page.object_list) == 0
    assert "0円とはみなしません" in response.content.decode()
    names = [o.name for o in response.context["options"]]
    assert "Bフレッツ接続オプション機能" in names  # retired only on 平成26年3月1日


def test_a_date_that_does_not_exist_is_a_form_error(regulation, staff):
    response = staff.get(reverse("options:tariff_as_of"), {"on": "平成31年5月1日"})
    assert "平成31年5月1日は平成の終了日（平成31年4月30日）より後です。" in response.content.decode()


def test_the_diff_of_two_revisions_lists_the_fees_added(regulation, staff):
    older = TariffRevision.objects.get(effective_on="2025-04-01")
    newer = TariffRevision.objects.get(effective_on="2026-02-01")
    response = staff.get(reverse("options:revision_diff"), {"older": newer.pk, "newer": older.pk})
    changes = response.context["changes"]
    assert (response.context["older"], response.context["newer"]) == (older, newer)  # put in date order
    assert {c.change for c in changes} == {"追加"}
    assert len(changes) == FeeItem.objects.count()
    assert "10アカウントあたり 3,000円" in response.content.decode()


def test_the_same_revision_twice_is_refused(regulation, staff):
    revision = TariffRevision.objects.first()
    response = staff.get(reverse("options:revision_diff"), {"older": revision.pk, "newer": revision.pk})
    assert "異なる2つの改定を選んでください。" in response.content.decode()


def test_an_option_shows_its_fees_over_time_and_its_conditions(regulation, staff):
    option = Option.objects.get(code=ui_data.SWP)
    html = staff.get(reverse("options:option_detail", args=[option.pk])).content.decode()
    assert "第3条" in html
    assert "IIJ Web ハイグレード2 サービス" in html
    assert "10アカウントあたり 3,000円" in html


def test_history_shows_who_when_why_and_the_field_diff(regulation, client, clerk, clerk2):
    subscriber = ui_data.swp_subscriber(name="株式会社旧名")
    subscriber_update(subscriber=subscriber, actor=clerk2, reason="商号変更の届出", name="株式会社新名")
    client.force_login(clerk)
    response = client.get(reverse("contracts:history_subscriber", args=[subscriber.pk]))
    html = response.content.decode()
    latest = response.context["entries"][0]
    assert (latest.action, latest.who, latest.why) == ("変更", "clerk2", "商号変更の届出")
    assert [(c.label, c.old, c.new) for c in latest.changes] == [("契約者名", "株式会社旧名", "株式会社新名")]
    assert "商号変更の届出" in html


def test_history_as_of_a_day_is_the_record_at_the_end_of_that_jst_day(regulation, client, accounting):
    revision = TariffRevision.objects.get(effective_on="2026-02-01")
    client.force_login(accounting)
    url = reverse("options:history_tariffrevision", args=[revision.pk])
    before = client.get(url, {"on": "令和元年5月1日"})
    assert before.context["as_of_values"] is None
    assert "存在しませんでした" in before.content.decode()
    today = client.get(url, {"on": "2099-12-31"})  # the last date the fields accept (core.limits)
    values = {v.label: v.value for v in today.context["as_of_values"]}
    assert values["表題"] == "令和8年2月1日変更"
    assert values["実施日"] == "令和8年2月1日 (2026-02-01)"
