"""How an amount is computed from a fee item: blocks, quotes, proration and tax (DOMAIN §3.4–3.6, §3.10).

Pure functions on integers; every money amount is integer yen.
"""

import datetime as dt
from dataclasses import dataclass

from core.errors import DomainError
from core.wareki import format_date
from options.choices import ChargeBasis, Pricing, Proration
from options.models import FeeItem


@dataclass(frozen=True)
class Priced:
    """An amount priced from one fee item."""

    fee_item: FeeItem
    quantity: int
    units: int  # what the unit amount is multiplied by: blocks, accounts or 1
    blocks: int | None
    unit_amount_yen: int
    amount_yen: int


def blocks_for(*, quantity: int, block_size: int, option_name: str = "", article: str = "") -> int:
    """Return the number of whole blocks; a quantity that is not a whole number of blocks is refused (§3.4)."""
    if quantity <= 0 or quantity % block_size:
        lower = (quantity // block_size) * block_size
        hint = f"{lower}または{lower + block_size}" if lower else f"{block_size}"
        raise DomainError(
            f"{option_name}の数量は{block_size}アカウント単位で申し込んでください"
            f"（{quantity}アカウントは{block_size}の倍数ではありません。例: {hint}）。",
            article=article,
            code="not_whole_blocks",
        )
    return quantity // block_size


def price(*, fee_item: FeeItem, quantity: int, quoted_amount_yen: int | None) -> Priced:
    """Return the amount owed under `fee_item` for `quantity`; a quoted fee needs its quote (§3.5)."""
    if quantity <= 0:
        raise DomainError("数量は1以上で入力してください。", code="quantity_not_positive")
    if fee_item.pricing == Pricing.QUOTED:
        if quoted_amount_yen is None:
            raise DomainError(
                f"「{fee_item.name}」の料金は当社が別途契約者に示す金額です。見積額を入力してから承諾してください。",
                article=fee_item.article,
                code="quote_missing",
            )
        if quoted_amount_yen < 0:
            raise DomainError("見積額は0円以上の整数で入力してください。", code="quote_negative")
        unit_amount = quoted_amount_yen
    else:
        unit_amount = fee_item.amount_yen

    blocks = None
    if fee_item.pricing == Pricing.PER_BLOCK:
        blocks = blocks_for(
            quantity=quantity, block_size=fee_item.block_size, option_name=fee_item.name, article=fee_item.article
        )
        units = blocks
    elif fee_item.charge_basis == ChargeBasis.PER_ACCOUNT:
        units = quantity
    else:
        units = 1
    return Priced(fee_item, quantity, units, blocks, unit_amount, unit_amount * units)


def prorate(*, monthly_amount_yen: int, days_billed: int, days_in_month: int, policy: str = Proration.DAILY) -> int:
    """Return a month's charge when service covers only `days_billed` days of it (§3.6).

    DAILY: monthly × days ÷ days in month, rounded down to the yen. FULL_MONTH: any day is a whole month.
    """
    if not 0 <= days_billed <= days_in_month:
        raise ValueError(f"days_billed {days_billed} outside 0..{days_in_month}")
    if days_billed == 0:
        return 0
    if policy == Proration.FULL_MONTH or days_billed == days_in_month:
        return monthly_amount_yen
    return (monthly_amount_yen * days_billed) // days_in_month


# Consumption tax rates by the first day they apply (§3.10); the tariff amounts are tax-exclusive.
TAX_RATES: list[tuple[dt.date, int]] = [
    (dt.date(1997, 4, 1), 5),
    (dt.date(2014, 4, 1), 8),
    (dt.date(2019, 10, 1), 10),
]


def tax_rate_on(day: dt.date) -> int:
    """Return the consumption tax rate (percent) in force on `day`."""
    rate = None
    for since, percent in TAX_RATES:
        if day >= since:
            rate = percent
    if rate is None:
        raise DomainError(f"{format_date(day)}時点の消費税率が定義されていません。", code="no_tax_rate")
    return rate


def tax_for(*, amount_yen: int, rate_percent: int) -> int:
    """Return the consumption tax on a report total at one rate, rounded down (toward zero for refunds)."""
    tax = abs(amount_yen) * rate_percent // 100
    return tax if amount_yen >= 0 else -tax
