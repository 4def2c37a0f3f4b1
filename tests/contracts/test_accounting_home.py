"""The accounting home (経理): each month's state for the last twelve months, this month's and last month's totals,
the chart by option, the comparison with the month before, and a drill-down to the rows; a closed month's totals
equal its monthly report's to the yen, read from its 集計 stored once (contracts.models.MonthCloseSummary)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts import reports
from contracts.models import MonthCloseSummary
from contracts.reports.overview import accounting_overview
from contracts.services.month_close import month_close
from contracts.services.month_summaries import month_summary_record
from core.errors import DomainError
from tests import factories
from tests.writes import data_writes

pytestmark = pytest.mark.django_db

FEB, MAR, APR = dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)


@pytest.fixture
def two_closed_months(regulation, clerk, approver, accounting, fixed_clock):
    """SWP 30 accounts (9,000円 a month) billed from 2026-02-10, SWP 10 accounts (3,000円) from 2026-03-05;
    February and March closed by 経理; the home is read on 2026-04-02."""
    fixed_clock.set("2026-02-10T10:00+09:00")
    first = factories.billing_contract(clerk=clerk, approver=approver, quantity=30)
    fixed_clock.set("2026-03-05T10:00+09:00")
    month_close(month=FEB, actor=accounting)
    second = factories.billing_contract(clerk=clerk, approver=approver, quantity=10)
    fixed_clock.set("2026-04-02T10:00+09:00")
    month_close(month=MAR, actor=accounting)
    return first, second


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_accounting_home_shows_a_closed_months_totals_equal_to_its_report_to_the_yen(
    client, two_closed_months, accounting
):
    html = _home(client, accounting)
    overview = accounting_overview(today=APR)
    march, february = overview.last_month, overview.months[-3]
    assert (march.month, march.state_label, february.state_label) == (MAR, "確定", "確定")
    # February: 9,000円 × 19 days ÷ 28 (from the 10th), rounded down; tax 10% rounded down on the total.
    assert (february.total_excl_yen, february.total_tax_yen, february.total_incl_yen) == (6107, 610, 6717)
    # March: 9,000円 a full month, and 3,000円 × 27 days ÷ 31 (from the 5th) = 2,612円.
    assert (march.total_excl_yen, march.total_tax_yen, march.total_incl_yen) == (11612, 1161, 12773)
    for month, figures in ((FEB, february), (MAR, march)):
        report = reports.monthly_report(month=month).summary
        assert (figures.total_excl_yen, figures.total_tax_yen, figures.total_incl_yen) == (
            report.total_excl_yen,
            report.total_tax_yen,
            report.total_incl_yen,
        )
        assert [(line.option_name, line.kind, line.count, line.amount_yen) for line in figures.lines] == [
            (line.option_name, line.kind, line.count, line.amount_yen) for line in report.lines
        ]
    card = html[html.index('id="month-card-2026-03"') :]
    assert '<strong class="total-incl">12,773円</strong>' in card
    assert "<strong>+5,505円</strong> +90.1%" in card  # 11,612円 against February's 6,107円


def test_each_month_has_its_state_for_the_last_twelve_months(two_closed_months):
    overview = accounting_overview(today=APR)
    states = {f.month: f.state_label for f in overview.months}
    assert len(states) == 12 and min(states) == dt.date(2025, 5, 1) and max(states) == APR
    assert (states[APR], states[MAR], states[FEB]) == ("速報", "確定", "確定")
    assert states[dt.date(2026, 1, 1)] == "締め対象外"  # before the first close: never closed (month_close)
    with_may_open = accounting_overview(today=dt.date(2026, 5, 20))
    assert (with_may_open.this_month.state_label, with_may_open.last_month.state_label) == ("速報", "締め待ち")
    assert with_may_open.last_month.total_excl_yen is None  # an open month's charges are not priced on the home


def test_an_open_month_shows_what_it_has_booked_and_sends_to_the_report_for_its_provisional_total(
    client, two_closed_months, accounting
):
    html = _home(client, accounting)
    card = html[html.index('id="month-card-2026-04"') : html.index('id="month-card-2026-03"')]
    assert "速報" in card and "月額料金は締めで確定します" in card
    assert f'href="{reverse("contracts:monthly_report")}?month=2026-04"' in card
    assert '<strong class="booked">0円</strong>' in card  # no 初期費用 in the seed (DOMAIN §3.14)


def test_the_chart_draws_each_closed_month_by_option_and_drills_down_to_its_ledger_rows(
    client, two_closed_months, accounting
):
    first, _second = two_closed_months
    html = _home(client, accounting)
    chart = html[html.index('<svg class="chart"') : html.index("</svg>")]
    ledger = reverse("contracts:ledger_list")
    assert f'href="{ledger}?month=2026-03&amp;option={first.option_id}"' in chart
    assert f'href="{ledger}?month=2026-02&amp;option={first.option_id}"' in chart
    assert chart.count('<rect class="series-0"') == 2  # one option, two closed months
    assert chart.count('class="pending"') == 10  # the ten months with no close: 速報 or not closed
    assert "11,612円" in chart and "6,107円" in chart
    assert "<script" not in html[html.index('id="accounting-home"') :]  # drawn on the server, no JS library
    breakdown = html[html.index('id="accounting-breakdown"') :]
    drill = f'href="{ledger}?month=2026-03&amp;option={first.option_id}&amp;kind=monthly_charge">月額料金（月次）</a>'
    assert "+5,505円" in breakdown and drill in breakdown
    drilled = client.get(f"{ledger}?month=2026-03&option={first.option_id}&kind=monthly_charge").content.decode()
    assert "9,000円" in drilled and "2,612円" in drilled


def test_a_closed_months_summary_is_stored_by_its_close_and_the_home_only_reads_it(
    client, two_closed_months, accounting, clerk
):
    assert sorted(s.close.month for s in MonthCloseSummary.objects.all()) == [FEB, MAR]  # by the two closes
    stored = MonthCloseSummary.objects.get(close__month=MAR)
    assert stored.recorded_by == accounting and stored.total_incl_yen == 12773
    client.force_login(accounting)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    assert data_writes(queries) == []
    assert MonthCloseSummary.objects.count() == 2
    again = month_summary_record(
        close=stored.close, lines=[], rates=[], total_excl_yen=0, total_tax_yen=0, total_incl_yen=0, actor=accounting
    )
    assert again == stored and again.total_incl_yen == 12773  # the one stored stays
    with pytest.raises(DomainError, match="権限がありません"):
        month_summary_record(
            close=stored.close, lines=[], rates=[], total_excl_yen=0, total_tax_yen=0, total_incl_yen=0, actor=clerk
        )
    with pytest.raises(TypeError):
        stored.save()


def test_a_summary_that_does_not_add_up_is_refused(regulation, accounting, fixed_clock):
    fixed_clock.set("2026-03-05T10:00+09:00")
    close = month_close(month=FEB, actor=accounting)
    MonthCloseSummary.objects.filter(close=close).delete()  # a close made before the close stored its 集計
    with pytest.raises(DomainError, match="一致しません"):
        month_summary_record(
            close=close,
            lines=[],
            rates=[(10, 100, 10)],
            total_excl_yen=100,
            total_tax_yen=10,
            total_incl_yen=111,
            actor=accounting,
        )
    with pytest.raises(DomainError, match="整数"):
        month_summary_record(
            close=close,
            lines=[],
            rates=[(10, 100.5, 10)],
            total_excl_yen=100,
            total_tax_yen=10,
            total_incl_yen=110,
            actor=accounting,
        )
    assert not MonthCloseSummary.objects.exists()


def test_an_open_month_shows_the_initial_fees_it_has_booked_so_far(
    client, regulation, clerk, approver, accounting, tariff_manager
):
    from options.choices import FeeKind

    factories.add_fee_item(
        factories.SWP, "additional-accounts", FeeKind.INITIAL, 1100, revision_on=FEB, actor=tariff_manager
    )
    factories.approved_swp_contract(clerk=clerk, approver=approver)  # 初期費用 1,100円 owed at approval, in February
    overview = accounting_overview(today=dt.date(2026, 2, 15))
    assert overview.this_month.state_label == "速報" and overview.this_month.booked_excl_yen == 1100
    assert overview.this_month.total_excl_yen is None
    html = _home(client, accounting)
    assert '<strong class="booked">1,100円</strong>' in html[html.index('id="month-card-2026-02"') :]
