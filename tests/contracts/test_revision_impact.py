"""The impact preview of a revision (contracts.billing.impact, contracts.reports.impact): through the close's own
charge code, so that the preview equals, to the yen, what the close writes once the revision is in force."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from contracts.billing.charges import contract_charges
from contracts.reports.impact import revision_impact
from core.errors import DomainError
from options.choices import FeeKind
from options.models import TariffRevision
from options.selectors import fee_schedule
from tests import factories
from tests.factories import closed_month, draft_revision, draft_swp_fee, publish_revision

pytestmark = pytest.mark.django_db

APRIL_11 = dt.date(2026, 4, 11)


@pytest.fixture
def book(regulation, clerk, approver):
    """Two SWP contracts billing since February (30 and 10 accounts) and one ended in March (not touched)."""
    thirty = factories.billing_contract(clerk=clerk, approver=approver, billing_start=dt.date(2026, 2, 15))
    ten = factories.billing_contract(clerk=clerk, approver=approver, quantity=10, billing_start=dt.date(2026, 2, 15))
    return thirty, ten


def _charged(month, contract_id, *, fees=None):
    return sum(
        line.amount_yen
        for result in contract_charges(first_month=month, last_month=month, fees=fees)
        if result.option_contract_id == contract_id
        for line in result.lines
    )


def test_impact_of_a_mid_month_rise_prorated_from_its_date_and_for_the_first_full_month(book, tariff_manager):
    """3,000円 → 3,300円 per 10 accounts from 令和8年4月11日. 30 accounts: April 9,000 × 10/30 + 9,900 × 20/30 =
    3,000 + 6,600 = 9,600円 (600円 more), May 9,900円 (900円 more); 10 accounts: 200円 and 300円 more."""
    thirty, ten = book
    draft = draft_revision(APRIL_11, actor=tariff_manager)
    draft_swp_fee(draft, 3300, actor=tariff_manager)
    impact = revision_impact(revision=draft)
    rows = {row.option_contract_id: row for row in impact.contracts()}
    assert set(rows) == {thirty.pk, ten.pk}
    row = rows[thirty.pk]
    assert (row.monthly_before_yen, row.monthly_after_yen) == (9000, 9900)
    assert (row.effect_month_before_yen, row.effect_month_after_yen, row.effect_month_difference_yen) == (
        9000,
        9600,
        600,
    )
    assert (row.full_month_before_yen, row.full_month_after_yen, row.full_month_difference_yen) == (9000, 9900, 900)
    assert row.state_label == "課金中"
    assert (rows[ten.pk].effect_month_difference_yen, rows[ten.pk].full_month_difference_yen) == (200, 300)
    [total] = impact.totals.options
    assert (total.kind_label, total.contracts, total.effect_month_difference_yen, total.full_month_difference_yen) == (
        "月額費用",
        2,
        800,
        1200,
    )
    rates = {(r.month, r.rate_percent): r for r in impact.totals.rates}
    may = rates[(dt.date(2026, 5, 1), 10)]
    assert (may.before_yen, may.after_yen, may.tax_difference_yen) == (12000, 13200, 120)
    assert impact.totals.difference_yen(dt.date(2026, 4, 1)) == 800


def test_the_preview_equals_what_the_close_writes_less_the_charges_without_the_revision(
    book, tariff_manager, tariff_manager2, accounting, fixed_clock
):
    thirty, _ten = book
    draft = draft_revision(APRIL_11, actor=tariff_manager)
    draft_swp_fee(draft, 3300, actor=tariff_manager)
    impact = revision_impact(revision=draft)
    previewed = {r.option_contract_id: r for r in impact.contracts()}[thirty.pk]
    publish_revision(draft, drafter=tariff_manager, publisher=tariff_manager2)
    fixed_clock.set("2026-06-01T09:00+09:00")
    for month in (2, 3, 4, 5):
        closed_month(dt.date(2026, month, 1), actor=accounting)
    draft.refresh_from_db()
    for month in (dt.date(2026, 4, 1), dt.date(2026, 5, 1)):
        closed = sum(
            row.amount_yen for row in thirty.subscriber.option_contracts.get(pk=thirty.pk).ledger_entries.filter(
                kind="monthly_charge", charge_month=month
            )
        )  # fmt: skip
        without = _charged(
            month, thirty.pk, fees=fee_schedule(until=month.replace(day=28), kinds=[FeeKind.MONTHLY], excluding=draft)
        )
        expected = previewed.effect_month_difference_yen if month.month == 4 else previewed.full_month_difference_yen
        assert closed - without == expected
    assert (previewed.effect_month_difference_yen, previewed.full_month_difference_yen) == (600, 900)


def test_the_preview_names_the_contracts_a_discontinuation_would_leave_unpriceable(book, tariff_manager):
    thirty, ten = book
    draft = draft_revision(APRIL_11, actor=tariff_manager)
    draft_swp_fee(draft, None, actor=tariff_manager)
    impact = revision_impact(revision=draft)
    rows = list(impact.contracts())
    assert {r.option_contract_id for r in rows if r.becomes_unpriceable} == {thirty.pk, ten.pk}
    assert "月額費用が登録されていないため" in rows[0].becomes_unpriceable.message
    assert impact.totals.unpriceable == 2 and impact.totals.options == []


def test_a_revision_already_in_force_has_no_preview(regulation):
    in_force = TariffRevision.objects.get(effective_on=dt.date(2026, 2, 1))
    with pytest.raises(DomainError, match="既に実施されています"):
        revision_impact(revision=in_force)


def test_the_impact_page_shows_the_figures_to_the_tariff_manager_without_subscribers(client, book, tariff_manager):
    thirty, _ten = book
    draft = draft_revision(APRIL_11, actor=tariff_manager)
    draft_swp_fee(draft, 3300, actor=tariff_manager)
    client.force_login(tariff_manager)
    html = client.get(reverse("contracts:revision_impact", args=[draft.pk])).content.decode()
    assert "影響を受ける契約 2件" in html
    assert f"#{thirty.pk}" in html and "9,900円" in html and "1,200円" in html
    assert thirty.subscriber.name not in html and thirty.subscriber.code not in html
    response = client.get(reverse("contracts:revision_impact_download", args=[draft.pk]) + "?fmt=csv")
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="revision-impact-{draft.pk}-contracts.csv"'
    )
    assert (
        "filename*=UTF-8''%E6%94%B9%E5%AE%9A%E3%81%AE%E5%BD%B1%E9%9F%BF%E8%A9%A6%E7%AE%97_"
        in response["Content-Disposition"]
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *lines = body.splitlines()
    assert header.startswith("オプション契約番号,オプション,サービス・細目,実施日の状態,月額（改定前）")
    assert f"{thirty.pk},IIJ セキュア Web プラットフォーム" in lines[0] and lines[0].endswith(
        ",9000,9600,600,9000,9900,900,"
    )
    summary = client.get(reverse("contracts:revision_impact_download", args=[draft.pk]) + "?fmt=csv&part=summary")
    text = b"".join(summary.streaming_content).decode("utf-8-sig")
    assert "税率別,,,2026-05-01,10,,12000,13200,1200,120" in text
    xlsx = client.get(reverse("contracts:revision_impact_download", args=[draft.pk]) + "?fmt=xlsx")
    assert b"".join(xlsx.streaming_content)[:2] == b"PK"
    bad = client.get(reverse("contracts:revision_impact_download", args=[draft.pk]) + "?fmt=pdf")
    assert bad.status_code == 400 and "出力形式" in bad.content.decode()


def test_the_revision_impact_command_prints_the_same_figures_and_writes_the_file(book, tariff_manager, tmp_path):
    draft = draft_revision(APRIL_11, actor=tariff_manager)
    draft_swp_fee(draft, 3300, actor=tariff_manager)
    out = io.StringIO()
    target = tmp_path / "impact.csv"
    call_command(
        "revision_impact", str(draft.pk), "--format", "csv", "--part", "summary", "--output", target, stdout=out
    )
    printed = out.getvalue()
    assert "影響を受ける契約: 2件" in printed
    assert "税率別 2026-05 税率10% 改定前 12,000円 → 改定後 13,200円（差額 1,200円） 消費税の差額 120円" in printed
    assert "税率別,,,2026-05-01,10,,12000,13200,1200,120" in target.read_text(encoding="utf-8-sig")
    by_title = io.StringIO()
    call_command("revision_impact", draft.title, stdout=by_title)
    assert "オプション別 IIJ セキュア Web プラットフォーム" in by_title.getvalue()
    for args, message in [
        (["999999"], "見つかりません"),
        (["令和8年2月1日変更"], "既に実施されています"),
        ([str(draft.pk), "--part", "summary"], "--part は --format"),
        ([str(draft.pk), "--output", str(tmp_path)], "フォルダです"),
        ([str(draft.pk), "--format", "xlsx", "--part", "summary", "--output", str(tmp_path / "x.xlsx")], "出力内容"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("revision_impact", *args, stdout=io.StringIO())
