"""contracts.pricing.price and blocks_for: blocks (DOMAIN §3.4) and quotes (§3.5)."""

import datetime as dt

import pytest

from contracts.billing.pricing import blocks_for, price
from core.errors import DomainError
from options.choices import FeeKind
from options.selectors import fee_item_in_force
from tests.factories import option, variant

pytestmark = pytest.mark.django_db

R8 = dt.date(2026, 2, 1)


def _monthly(option_code, variant_code):
    return fee_item_in_force(
        option=option(option_code), variant=variant(option_code, variant_code), kind=FeeKind.MONTHLY, on=R8
    )


def test_blocks_refuse_25_accounts_never_rounding():
    with pytest.raises(DomainError) as refused:
        blocks_for(quantity=25, block_size=10, option_name="追加アカウント使用料", article="第4条")
    assert refused.value.code == "not_whole_blocks"
    assert str(refused.value) == (
        "追加アカウント使用料の数量は10アカウント単位で申し込んでください"
        "（25アカウントは10の倍数ではありません。例: 20または30）。（第4条）"
    )


def test_blocks_30_accounts_are_3_blocks():
    assert blocks_for(quantity=30, block_size=10) == 3


def test_price_30_accounts_of_the_account_add_on_is_3_blocks_9000_yen(regulation):
    priced = price(fee_item=_monthly("swp-accounts", "additional-accounts"), quantity=30, quoted_amount_yen=None)
    assert (priced.quantity, priced.blocks, priced.units, priced.unit_amount_yen, priced.amount_yen) == (
        30,
        3,
        3,
        3000,
        9000,
    )


def test_price_refuses_25_accounts_of_the_account_add_on(regulation):
    with pytest.raises(DomainError, match="25アカウントは10の倍数ではありません"):
        price(fee_item=_monthly("swp-accounts", "additional-accounts"), quantity=25, quoted_amount_yen=None)


def test_price_of_a_quoted_fee_is_refused_without_the_quote(regulation):
    with pytest.raises(DomainError) as refused:
        price(fee_item=_monthly("flets-hikari", "type-a"), quantity=2, quoted_amount_yen=None)
    assert refused.value.code == "quote_missing"
    assert refused.value.article == "第2条"
    assert "当社が別途契約者に示す金額です。見積額を入力してから承諾してください。" in refused.value.message


def test_price_of_type_a_is_quantity_times_the_quote_per_contract_account(regulation):
    priced = price(fee_item=_monthly("flets-hikari", "type-a"), quantity=3, quoted_amount_yen=1500)
    assert (priced.blocks, priced.units, priced.unit_amount_yen, priced.amount_yen) == (None, 3, 1500, 4500)


def test_price_of_type_e_is_0_yen_per_account(regulation):
    priced = price(fee_item=_monthly("flets-hikari", "type-e"), quantity=4, quoted_amount_yen=None)
    assert (priced.units, priced.amount_yen) == (4, 0)
