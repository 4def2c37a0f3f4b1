import datetime as dt

import pytest
import time_machine

from contracts.services.month_close import month_close
from tests.accounting.journal_checks import map_everything
from tests.factories import draft_revision, draft_swp_fee, february_report_book, jst

FEB = dt.date(2026, 2, 1)


@pytest.fixture
def closed_february(regulation, approver, approver2, clerk, tariff_manager, accounting):
    """February's book (tests.factories.february_report_book), mapped and closed on 3/2; a draft revision from
    4/11 raising SWP to 3,300円 (so its impact preview has rows)."""
    february_report_book(clerk=clerk, approver=approver, approver2=approver2, tariff_manager=tariff_manager)
    map_everything(accounting)
    with time_machine.travel(jst(2026, 3, 2, 9, 0), tick=False):
        month_close(month=FEB, actor=accounting)
    draft = draft_revision(dt.date(2026, 4, 11), actor=tariff_manager)
    draft_swp_fee(draft, 3300, actor=tariff_manager)
    return draft
