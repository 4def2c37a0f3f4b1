"""Reads of the monthly report (月次レポート): 明細, 月額 and 集計 of a JST month.

An open month is computed on the fly and is 速報 (provisional). A closed month reads only what its close
froze: ledger rows up to the close's ledger watermark (its MONTHLY_CHARGE and ADJUSTMENT rows among them) and
subscribers as they were at the close, so it gives the same bytes whenever it is regenerated (DOMAIN §3.11).
"""

import datetime as dt
from collections.abc import Iterator
from functools import cached_property

from django.db.models import Case, F, QuerySet, Value, When
from django.db.models.functions import Coalesce

from contracts.billing.charges import Unpriced
from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, MonthClose
from core import clock
from core.clock import JstWallTime
from core.formats import wareki_datetime
from options.models import Option, OptionVariant

from .as_closed import Closes, catalogue_field, closes_for, ledger_scope, subscriber_field
from .charge_rows import ChargeRow, ChargeTally, charge_rows, charge_tally
from .layout import DETAIL_COLUMNS, DETAIL_ORDER, OBLIGATION_KINDS, PROVISIONAL_LABEL
from .summary import Summary, amounts_by_rate, summary


def _kind_label():
    return Case(*[When(kind=value, then=Value(label)) for value, label in LedgerKind.choices], default=F("kind"))


def detail_queryset(closes: Closes) -> QuerySet:
    """Return 明細 as a values_list queryset in DETAIL_COLUMNS order, oldest obligation first."""
    expressions = {
        "c_ledger_no": F("pk"),
        "c_booked_month": F("booked_month"),
        "c_arisen_at": JstWallTime("arisen_at"),
        "c_subscriber_code": subscriber_field(closes, "code"),
        "c_subscriber_name": subscriber_field(closes, "name"),
        "c_option": catalogue_field(closes, Option, "fee_item__option", "name"),
        "c_variant": catalogue_field(closes, OptionVariant, "fee_item__variant", "name"),
        "c_kind": _kind_label(),
        "c_quantity": F("quantity"),
        "c_blocks": F("blocks"),
        "c_unit_amount": F("unit_amount_yen"),
        "c_amount": F("amount_yen"),
        "c_effective_from": F("effective_from"),
        "c_revision": F("revision__title"),
        "c_article": F("article"),
        "c_approver": Coalesce(F("application__decided_by__username"), F("option_contract__approved_by__username")),
        "c_booked_by": F("created_by__username"),
        "c_reverses": F("reverses_id"),
        "c_reason": F("reason"),
    }
    assert list(expressions) == [c.key for c in DETAIL_COLUMNS]
    return (
        LedgerEntry.objects.filter(ledger_scope(closes), kind__in=OBLIGATION_KINDS)
        .annotate(**expressions)
        .values_list(*expressions)
        .order_by(*DETAIL_ORDER)
    )


class MonthlyReport:
    """The report of one JST month; parts are read when first asked for."""

    def __init__(self, closes: Closes):
        self.closes = closes
        self.month = closes.month
        self.close = closes.this

    @property
    def is_closed(self) -> bool:
        return self.close is not None

    @property
    def is_provisional(self) -> bool:
        return self.close is None

    @property
    def status_label(self) -> str:
        if self.close is None:
            return PROVISIONAL_LABEL
        return f"確定（{wareki_datetime(self.close.closed_at)} 締め）"

    @property
    def export_status_label(self) -> str:
        """The same state in the exports' documented date-time form (docs/monthly_report.md)."""
        if self.close is None:
            return PROVISIONAL_LABEL
        closed_at = self.close.closed_at.astimezone(clock.JST)
        return f"確定（{closed_at:%Y-%m-%d %H:%M} 締め）"

    @property
    def detail_rows(self) -> QuerySet:
        return detail_queryset(self.closes)

    @property
    def charge_rows(self) -> Iterator[ChargeRow]:
        """月額, streamed in the report's order (a new pass each time). A whole pass leaves its totals behind, so
        集計 after 月額 (the workbook's sheets, in order) computes nothing twice."""
        tally = ChargeTally()
        yield from charge_rows(self.closes, tally)
        self._charge_tally = tally

    @property
    def charge_tally(self) -> ChargeTally:
        """月額 counted and summed: from the last whole pass over `charge_rows`, or one made now."""
        if getattr(self, "_charge_tally", None) is None:
            self._charge_tally = charge_tally(self.closes)
        return self._charge_tally

    @property
    def unpriced(self) -> list[Unpriced]:
        """Contracts in billing the 速報 could not price (empty for a closed month): each is named on the page."""
        return self.charge_tally.unpriced

    @cached_property
    def summary(self) -> Summary:
        return summary(self.closes, self.charge_tally)

    @cached_property
    def amounts_by_rate(self) -> dict[tuple[int, str, int], list[int]]:
        """The month's money per option × kind × tax rate, [count, yen]: what 集計 adds up (the journals' lines)."""
        return amounts_by_rate(self.closes, self.charge_tally)


def monthly_report(*, month: dt.date) -> MonthlyReport:
    """Return the report of the JST month containing `month`."""
    return MonthlyReport(closes_for(month))


def month_close_of(*, month: dt.date) -> MonthClose | None:
    return MonthClose.objects.filter(month=clock.month_start(month)).first()
