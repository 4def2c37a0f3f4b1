"""What an application or contract may ask for: a quantity in whole blocks, a quote where the fee is quoted."""

import datetime as dt

from contracts.billing.pricing import Priced, blocks_for
from contracts.selectors import fee_preview
from core.errors import DomainError
from core.limits import Number, number_assert_in_bounds
from options.choices import Pricing
from options.models import Option, OptionVariant
from options.selectors import fee_items_in_force


def terms_assert_quantity(*, option: Option, variant: OptionVariant, quantity: int, on: dt.date) -> None:
    """Refuse a quantity below 1 or not in whole blocks of a fee in force on `on` (§3.4); the quote may wait."""
    if variant.option_id != option.pk:
        raise DomainError(f"「{variant.name}」は{option.name}のサービス・細目ではありません。", code="variant_mismatch")
    terms_assert_quantity_in_bounds(quantity)
    for item in fee_items_in_force(on=on, variant=variant):
        if item.pricing != Pricing.PER_BLOCK:
            continue
        blocks_for(quantity=quantity, block_size=item.block_size, option_name=item.name, article=item.article)


def terms_assert_quantity_in_bounds(quantity) -> int:
    """Refuse a quantity that is not a whole number within the declared bounds (core.limits)."""
    return number_assert_in_bounds(quantity, kind=Number.QUANTITY, label="数量", code="quantity_not_positive")


def terms_assert_quote(amount_yen) -> int:
    """Refuse a quote that is not a whole number of yen within the declared bounds (core.limits)."""
    return number_assert_in_bounds(amount_yen, kind=Number.YEN, label="見積額", code="quote_invalid")


def terms_price_all(
    *, option: Option, variant: OptionVariant, quantity: int, quoted_amount_yen: int | None, on: dt.date
) -> list[Priced]:
    """Price every fee of `variant` in force on `on`, refusing what approval refuses (blocks, missing quote)."""
    terms_assert_quantity(option=option, variant=variant, quantity=quantity, on=on)
    return fee_preview(option=option, variant=variant, quantity=quantity, quoted_amount_yen=quoted_amount_yen, on=on)
