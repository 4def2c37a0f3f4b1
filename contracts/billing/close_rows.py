"""The rows a month's close writes, streamed once in a fixed order: the one path the close and its preview (仮締め)
both read, and the fingerprint of what they streamed (DOMAIN §3.11).

Decisions, each kept here:
- Order: the month's MONTHLY_CHARGE lines contract by contract (by id, as `contract_charges` yields them, each
  contract's lines in their fee-item order), then the ADJUSTMENT lines in `adjustment_lines`' order. The
  preview and the close stream the same generator, so they hash the same rows in the same order.
- The fingerprint is a SHA-256 over one canonical text line per row (every value the ledger row is built from),
  fed while streaming: memory holds the hash, never the rows.
- The totals beside it (count and yen per option × kind × tax rate) are what a refused close shows as the
  differences between the preview it was confirmed on and the book now.
"""

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from contracts.billing.charges import ChargeLine, ContractCharges, Unpriced, adjustment_lines, contract_charges
from contracts.billing.pricing import tax_rate_on
from core import clock

FINGERPRINT_VERSION = "close-rows-v1"
UNPRICED_NAMED = 20  # how many unpriced contracts are named; the rest are counted


def canonical_line(line: ChargeLine) -> bytes:
    """The text a row contributes to the fingerprint: every value its ledger row is built from."""
    values = (
        line.kind,
        line.option_contract_id,
        line.subscriber_id,
        line.fee_item.pk,
        line.charge_month.isoformat(),
        line.quantity,
        "" if line.blocks is None else line.blocks,
        line.monthly_amount_yen,
        line.days_billed,
        line.days_in_month,
        line.amount_yen,
        line.reason,
    )
    return ("\t".join(str(v) for v in values) + "\n").encode()


@dataclass
class CloseDigest:
    """The fingerprint and totals of the rows streamed so far."""

    rows: int = 0
    totals: dict[tuple[int, str, int], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    _hash: "hashlib._Hash" = field(default_factory=lambda: hashlib.sha256(FINGERPRINT_VERSION.encode()))

    def add(self, line: ChargeLine) -> None:
        self._hash.update(canonical_line(line))
        self.rows += 1
        total = self.totals[(line.fee_item.option_id, line.kind, tax_rate_on(line.charge_month))]
        total[0] += 1
        total[1] += line.amount_yen

    @property
    def fingerprint(self) -> str:
        return self._hash.hexdigest()

    def as_dict(self) -> dict:
        """What a preview hands to the close it confirms (JSON): the fingerprint, the row count and the totals."""
        return {
            "fingerprint": self.fingerprint,
            "rows": self.rows,
            "totals": [[*key, count, amount] for key, (count, amount) in sorted(self.totals.items())],
        }


class CloseRows:
    """The close's rows of `month`, streamed: `charge_results()` (or `charge_lines()`), then `adjustments()`.

    Adjustments are computed first (they read closed months only, a small set), as the close always did. The
    contracts that cannot be priced are counted and the first UNPRICED_NAMED named, for the refusal.
    """

    def __init__(self, month: dt.date):
        self.month = clock.month_start(month)
        self._adjustments = adjustment_lines(month=self.month)
        self.unpriced: list[Unpriced] = list(self._adjustments.unpriced[:UNPRICED_NAMED])
        self.unpriced_count = len(self._adjustments.unpriced)
        self.contracts_done = 0
        self.digest = CloseDigest()

    def charge_results(self) -> Iterator[ContractCharges]:
        """Every contract in billing in the month, by id, its lines fed to the fingerprint (an unpriced one has
        none, and is counted)."""
        for result in contract_charges(first_month=self.month, last_month=self.month):
            self.contracts_done += 1
            if result.unpriced is not None:
                self.unpriced_count += 1
                if len(self.unpriced) < UNPRICED_NAMED:
                    self.unpriced.append(result.unpriced)
            for line in result.lines:
                self.digest.add(line)
            yield result

    def charge_lines(self) -> Iterator[ChargeLine]:
        for result in self.charge_results():
            yield from result.lines

    def adjustments(self) -> Iterator[ChargeLine]:
        for line in self._adjustments.lines:
            self.digest.add(line)
            yield line

    @property
    def adjustment_count(self) -> int:
        return len(self._adjustments.lines)


def digest_differences(expected: dict, actual: CloseDigest) -> list[str]:
    """The differences, for staff, between the totals a preview showed (`expected`, CloseDigest.as_dict) and the
    rows streamed now: one line per option × kind × tax rate whose count or yen changed."""
    from contracts.choices import LedgerKind
    from options.models import Option

    if "totals" not in expected:  # a fingerprint alone (close_month --fingerprint): it says only that they differ
        return [
            f"フィンガープリントが違います（仮締め {expected.get('fingerprint')}、現在 {actual.fingerprint}、"
            f"現在の行数 {actual.rows}行）。"
        ]
    then = {(o, k, r): (c, a) for o, k, r, c, a in expected.get("totals", [])}
    now = {key: tuple(value) for key, value in actual.totals.items()}
    changed = sorted(key for key in then.keys() | now.keys() if then.get(key, (0, 0)) != now.get(key, (0, 0)))
    names = dict(Option.objects.filter(pk__in={key[0] for key in changed}).values_list("pk", "name"))
    lines = []
    for option_id, kind, rate in changed:
        (c0, a0), (c1, a1) = then.get((option_id, kind, rate), (0, 0)), now.get((option_id, kind, rate), (0, 0))
        lines.append(
            f"{names.get(option_id, f'オプション#{option_id}')}・{LedgerKind(kind).label}・税率{rate}%: "
            f"仮締め {c0}件 {a0:,}円 → 現在 {c1}件 {a1:,}円（差額 {a1 - a0:+,}円）"
        )
    if not lines:
        lines.append(
            f"合計は同じですが、行の内容（契約・数量・日数など）が変わっています（仮締め {expected.get('rows', 0)}行、"
            f"現在 {actual.rows}行）。"
        )
    return lines
