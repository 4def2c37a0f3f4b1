"""The one rule for "the fee in force on day D" (DOMAIN §3.3), shared by the catalogue screens, the application
preview, the services that price an obligation and the month's charges.

A fee item is keyed by (variant, kind). On a day D the item in force for a key is the one of the latest revision
whose 実施日 ≤ D (ties: the later 改正日, then the later row); an item marked discontinued ends the fee. The
schedule is loaded with one query and answered in memory, so pricing a month of a million contracts asks the
database nothing per day.
"""

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from .models import FeeItem


def _in_force_order(item: FeeItem):
    return (item.revision.effective_on, item.revision.amended_on, item.pk)


class FeeSchedule:
    """Fee items by (variant, kind) in the order the rule reads them."""

    def __init__(self, items: Iterable[FeeItem]):
        by_key: dict[tuple[int, str], list[FeeItem]] = defaultdict(list)
        for item in items:
            by_key[(item.variant_id, item.kind)].append(item)
        self._items: dict[tuple[int, str], list[FeeItem]] = {}
        self._dates: dict[tuple[int, str], list[dt.date]] = {}
        for key, key_items in by_key.items():
            key_items.sort(key=_in_force_order)
            self._items[key] = key_items
            self._dates[key] = [i.revision.effective_on for i in key_items]

    def in_force(self, *, variant_id: int, kind: str, on: dt.date) -> FeeItem | None:
        """Return the fee item in force for (variant, kind) on `on`, or None (none yet, or discontinued)."""
        dates = self._dates.get((variant_id, kind), [])
        index = bisect.bisect_right(dates, on) - 1
        if index < 0:
            return None
        item = self._items[(variant_id, kind)][index]
        return None if item.discontinued else item

    def all_in_force(self, *, on: dt.date) -> list[FeeItem]:
        """Return every fee item in force on `on`, one per (variant, kind)."""
        found = (self.in_force(variant_id=v, kind=k, on=on) for v, k in self._items)
        return [item for item in found if item is not None]

    def changes_between(self, *, variant_id: int, kind: str, first: dt.date, last: dt.date) -> list[dt.date]:
        """Return the dates in (first, last] on which a revision changes this key's fee."""
        return [d for d in self._dates.get((variant_id, kind), []) if first < d <= last]
