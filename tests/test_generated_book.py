"""The benchmarks' book (bench/generate.py) is one the app can open and bill: its pages open for their roles, its
waiting applications can be approved, and the engine's close of the open month charges what the generator charged
the month before, to the yen (the generator prices set-based; the engine prices contract by contract)."""

import datetime as dt
import sys
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.urls import reverse

from contracts.billing.seal import ledger_verify
from contracts.choices import LedgerKind
from contracts.models import (
    Application,
    LedgerEntry,
    MonthClose,
    MonthCloseSummary,
    OptionContract,
    ReportFigures,
    Subscriber,
)
from contracts.services.month_close import month_close
from core import clock
from core.clock import JST

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import generate  # noqa: E402
import pages  # noqa: E402

SCALE = 0.002  # 400 subscribers


@pytest.fixture
def book(transactional_db, regulation):  # transactional: the staff-account service opens a durable transaction
    return generate.build(SCALE, log=lambda *_: None, vacuum=False)


# The regulation's monthly fees are in force from 2026-02-01: a clock in the autumn gives five closed months.
pytestmark = [pytest.mark.postgres, pytest.mark.clock("2026-09-10T10:00+09:00")]


def test_the_book_has_the_issue_s_proportions(book):
    assert book["subscribers"] == Subscriber.objects.count() == 400
    assert 4.0 <= OptionContract.objects.count() / 400 <= 5.0
    assert 1.0 <= Application.objects.count() / 400 <= 1.6
    assert 22 <= LedgerEntry.objects.count() / 400 <= 28, LedgerEntry.objects.count()
    # Each of the six months before this one is closed, with its 集計 stored as the accounting home stores it.
    assert MonthClose.objects.count() == generate.CLOSED_MONTHS == MonthCloseSummary.objects.count()


def test_every_page_of_the_bench_opens_for_its_role_after_the_real_login(book):
    last_close = MonthClose.objects.order_by("-month").first()
    month = f"{last_close.month:%Y-%m}"
    open_month = pages._open_month_refreshed(last_close, None)  # the 速報 computed, as the bench does first
    assert ReportFigures.objects.filter(month=dt.date.fromisoformat(f"{open_month}-01"), status="done").exists()
    for _key, _label, username, name, query in pages.PAGES:
        client = pages._login(username)
        response = client.get(reverse(name) + query.format(month=month, code="S0000200", open=open_month))
        assert response.status_code == 200, (name, query, response.status_code)


def test_the_waiting_applications_of_each_kind_can_be_approved_on_screen(book):
    client = pages._login("shonin")
    for kind in ("new", "change", "cancel"):
        result = pages._approvals(client, kind, repeat=1)
        assert "skipped" not in result, result
        assert len(result["times"]) == 1


def test_the_engine_s_close_of_the_open_month_charges_what_the_generator_charged_the_month_before(book):
    last = MonthClose.objects.order_by("-month").first()
    generated = LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE, charge_month=last.month, reverses=None)
    this_month = clock.month_start(clock.today())
    next_month = (this_month + dt.timedelta(days=32)).replace(day=1)
    with time_machine.travel(dt.datetime.combine(next_month, dt.time(9), tzinfo=JST), tick=False):
        close = month_close(month=this_month, actor=get_user_model().objects.get(username="keiri"))
    closed = LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE, charge_month=this_month)
    assert close.charge_rows == generated.count() == closed.count()
    assert closed.aggregate(yen=Sum("amount_yen")) == generated.aggregate(yen=Sum("amount_yen"))
    # Nothing in the contracts changed after the last close's watermarks: the generated history is all below them.
    assert close.adjustment_rows == 0
    # The generated closes were sealed as found, the engine's close chained to them: every month verifies.
    checks = ledger_verify()
    assert len(checks) == MonthClose.objects.count() and all(check.ok for check in checks), checks
    assert MonthCloseSummary.objects.count() == MonthClose.objects.count()
