"""The suite's clock stands still at a fixed JST instant unless a test moves it (tests/conftest.py)."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from core import clock
from tests.conftest import FIXED_NOW


def test_every_test_runs_at_the_fixed_instant_by_default():
    assert clock.now() == FIXED_NOW == dt.datetime(2026, 2, 15, 1, 0, tzinfo=dt.UTC)
    assert (clock.today(), timezone.now()) == (dt.date(2026, 2, 15), FIXED_NOW)


def test_the_clock_does_not_tick_by_itself():
    first = clock.now()
    sum(range(100_000))
    assert clock.now() == first


@pytest.mark.clock("2026-03-01T09:00+09:00")
def test_a_marker_says_when_a_test_runs():
    assert clock.now() == dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC)
    assert clock.today() == dt.date(2026, 3, 1)


@pytest.mark.clock("2026-03-01T00:30+09:00")
def test_the_marker_is_read_in_its_own_offset_so_a_jst_morning_is_the_previous_utc_day():
    assert clock.now().astimezone(dt.UTC).date() == dt.date(2026, 2, 28)
    assert clock.today() == dt.date(2026, 3, 1)


def test_a_test_moves_the_clock_as_it_goes(fixed_clock):
    assert fixed_clock.set("2026-04-30T23:59+09:00").date() == dt.date(2026, 4, 30)
    assert fixed_clock.today() == dt.date(2026, 4, 30)
    fixed_clock.advance(minutes=1)
    assert fixed_clock.today() == dt.date(2026, 5, 1) == clock.today()


def test_a_travel_block_nests_inside_and_the_fixed_clock_comes_back():
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=clock.JST), tick=False):
        assert clock.today() == dt.date(2026, 6, 1)
    assert clock.now() == FIXED_NOW


def test_an_instant_without_an_offset_is_refused(fixed_clock):
    with pytest.raises(ValueError, match="タイムゾーン付き"):
        fixed_clock.set("2026-03-01T09:00")
