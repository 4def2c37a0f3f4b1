"""仮締め (close preview, DOMAIN §3.11): exactly the rows the close writes, through the same code, with their
fingerprint, totals and differences from the previous closed month; nothing written. A close confirmed on a
preview is refused, naming the differences, when the book changed in between."""

import datetime as dt

import pytest
import time_machine

from contracts.choices import LedgerKind
from contracts.models import ContractTerms, LedgerEntry, MonthClose
from contracts.reports import close_preview as preview_module
from contracts.reports.close_preview import ADJUSTED, ALL, CHANGED, ENDED, NEW, close_preview
from contracts.services import option_contract_set_billing_start
from contracts.services.month_close import month_close
from core.errors import DomainError
from tests.factories import contract_approved, contract_billed_from, contract_change, entry_clerk, jst

pytestmark = pytest.mark.django_db

FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def _at(*args):
    return time_machine.travel(jst(*args), tick=False)


def _written() -> tuple:
    return (
        LedgerEntry.objects.count(),
        LedgerEntry.history.count(),
        MonthClose.objects.count(),
        MonthClose.history.count(),
        ContractTerms.history.count(),
    )


@pytest.fixture
def february(regulation, approver):
    """February: A from 2/15 (1,500円), B whole month (3,000円), C 30 accounts (9,000円), D ends 2/20 (2,142円)."""
    made = {}
    for name, start, quantity, end in (
        ("A", dt.date(2026, 2, 15), 10, None),
        ("B", FEB, 10, None),
        ("C", FEB, 30, None),
        ("D", FEB, 10, dt.date(2026, 2, 20)),
    ):
        made[name] = contract_billed_from(
            start, code=f"P{name}0001", name=f"株式会社{name}", quantity=quantity, end_date=end, approver=approver
        )
    return made


def test_the_preview_shows_exactly_the_rows_the_close_writes_and_writes_nothing(february, accounting):
    with _at(2026, 3, 2, 9, 0):
        before = _written()
        preview = close_preview(month=FEB)
        assert _written() == before  # nothing written
        assert preview.row_count == 4 and preview.contracts == 4
        assert [(t.kind_label, t.rate_percent, t.count, t.amount_yen) for t in preview.totals] == [
            ("月額料金（月次）", 10, 4, 1500 + 3000 + 9000 + 2142)
        ]
        assert [(r.rate_percent, r.amount_yen, r.tax_yen) for r in preview.rates] == [(10, 15642, 1564)]
        assert preview.previous_close is None and preview.diff_lines == []  # January is not closed

        close = month_close(month=FEB, actor=accounting, expected=preview.digest)

    assert close.fingerprint == preview.fingerprint
    written = LedgerEntry.objects.filter(kind=LedgerKind.MONTHLY_CHARGE, booked_month=FEB)
    assert sorted(written.values_list("option_contract_id", "amount_yen")) == sorted(
        (r.option_contract_id, r.amount_yen) for r in preview.rows
    )


def test_a_close_confirmed_on_a_stale_preview_is_refused_naming_the_differences_and_writes_nothing(
    february, accounting, approver
):
    late = contract_approved(
        code="PE0001", name="株式会社E", quantity=10, approved_at=jst(2026, 2, 1, 9, 0), approver=approver
    )
    with _at(2026, 3, 2, 9, 0):
        preview = close_preview(month=FEB)
        # The book changes after the preview: the 課金開始日 2/1 of a contract approved on 2/1 is entered now.
        option_contract_set_billing_start(option_contract=late, billing_start_date=FEB, actor=entry_clerk())
        before = _written()
        with pytest.raises(DomainError) as refused:
            month_close(month=FEB, actor=accounting, expected=preview.digest)
        assert _written() == before
        assert refused.value.code == "book_changed"
        message = str(refused.value)
        assert (
            "仮締めの確認後に台帳・契約が変わったため、令和8年2月 (2026-02)を締めませんでした（何も記帳していません）"
            in message
        )
        assert "月額料金（月次）・税率10%: 仮締め 4件 15,642円 → 現在 5件 18,642円（差額 +3,000円）" in message

        fresh = close_preview(month=FEB)  # confirmed on the preview of the book as it is now, it closes
        close = month_close(month=FEB, actor=accounting, expected=fresh.digest)
    assert close.fingerprint == fresh.fingerprint != preview.fingerprint
    assert close.charge_rows == 5


def test_the_preview_compares_with_the_previous_closed_month_new_ended_changed_adjusted(
    february, accounting, approver, monkeypatch
):
    a, b, c, d = (february[k] for k in "ABCD")
    e = contract_approved(  # new in March: approved on 2/15, its 課金開始日 3/1 entered in April
        code="PE0001", name="株式会社E", quantity=10, approved_at=jst(2026, 2, 15, 9, 0), approver=approver
    )
    with _at(2026, 3, 2, 9, 0):
        month_close(month=FEB, actor=accounting)
    with _at(2026, 4, 2, 9, 0):
        now = jst(2026, 4, 2, 9, 0)
        option_contract_set_billing_start(option_contract=e, billing_start_date=MAR, actor=entry_clerk())
        contract_change(c, approver=approver, approved_at=now, effective_date=MAR, quantity=20)  # 9,000 → 6,000円
        contract_change(b, approver=approver, approved_at=now, effective_date=dt.date(2026, 2, 10), quantity=20)
        before = _written()
        preview = close_preview(month=MAR)
        assert _written() == before

        assert preview.previous_close.month == FEB
        assert preview.diff_totals == {NEW: 1, ENDED: 1, CHANGED: 3, ADJUSTED: 1}
        (line,) = preview.diff_lines
        assert (line.previous_yen, line.current_yen) == (1500 + 3000 + 9000 + 2142, 3000 + 6000 + 6000 + 3000)

        def shown(show):
            return sorted(
                (r.option_contract_id, r.previous_yen, r.amount_yen) for r in close_preview(month=MAR, show=show).rows
            )

        assert shown(NEW) == [(e.pk, None, 3000)]
        assert shown(ENDED) == [(d.pk, 2142, 0)]
        assert shown(CHANGED) == [(a.pk, 1500, 3000), (b.pk, 3000, 6000), (c.pk, 9000, 6000)]
        # B at 20 accounts from 2/10: 3,000 × 9/28 + 6,000 × 19/28 = 964 + 4,071 = 5,035円, 2,035円 more.
        assert shown(ADJUSTED) == [(b.pk, None, 2035)]

        monkeypatch.setattr(preview_module, "PAGE_SIZE", 2)  # the rows, page by page
        pages = [close_preview(month=MAR, show=ALL, page=n) for n in (1, 2, 3)]
        assert [len(p.rows) for p in pages] == [2, 2, 1] and pages[0].matched == 5 and pages[0].pages == 3
        assert not pages[0].has_previous and pages[2].has_previous and not pages[2].has_next
        assert {r.option_contract_id for p in pages for r in p.rows} == {a.pk, b.pk, c.pk, e.pk}

        close = month_close(month=MAR, actor=accounting, expected=preview.digest)
    assert close.fingerprint == preview.fingerprint
    assert (close.charge_rows, close.adjustment_rows) == (4, 1)
