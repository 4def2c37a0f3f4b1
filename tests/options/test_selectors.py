import datetime as dt

import pytest

from core.errors import DomainError
from options.choices import ChargeBasis, FeeKind, Pricing
from options.models import FeeItem, Option, TariffRevision
from options.selectors import (
    fee_item_in_force,
    fee_item_in_force_or_error,
    fee_items_in_force,
    revision_diff,
    revision_in_force,
)

pytestmark = pytest.mark.django_db

R8 = dt.date(2026, 2, 1)


def _swp():
    option = Option.objects.get(code="swp-accounts")
    return option, option.variants.get()


def _add_fee(revision_date, *, amount=None, discontinued=False, kind=FeeKind.MONTHLY):
    option, variant = _swp()
    revision = TariffRevision.objects.get(amended_on=revision_date)
    return FeeItem.objects.create(
        revision=revision,
        option=option,
        variant=variant,
        kind=kind,
        name="追加アカウント使用料",
        pricing=Pricing.PER_BLOCK,
        amount_yen=amount,
        block_size=10,
        charge_basis=ChargeBasis.PER_BLOCK,
        discontinued=discontinued,
        article="第4条",
    )


def test_revision_in_force_is_the_latest_with_effective_date_on_or_before(regulation):
    assert revision_in_force(on=R8).amended_on == R8
    assert revision_in_force(on=R8 - dt.timedelta(days=1)).amended_on == dt.date(2025, 4, 1)
    assert revision_in_force(on=dt.date(2004, 7, 31)) is None


def test_fee_in_force_takes_the_latest_revision_not_after_the_date(regulation):
    _add_fee(dt.date(2025, 4, 1), amount=2500)
    option, variant = _swp()

    def amount(on):
        return fee_item_in_force(option=option, variant=variant, kind=FeeKind.MONTHLY, on=on).amount_yen

    assert amount(dt.date(2025, 4, 1)) == 2500
    assert amount(dt.date(2026, 1, 31)) == 2500
    assert amount(R8) == 3000


def test_no_fee_in_force_is_an_error_never_a_silent_zero(regulation):
    option, variant = _swp()
    with pytest.raises(DomainError) as error:
        fee_item_in_force_or_error(option=option, variant=variant, kind=FeeKind.MONTHLY, on=dt.date(2026, 1, 31))
    assert str(error.value) == (
        "令和8年1月31日 (2026-01-31)時点で「IIJ セキュア Web プラットフォーム アカウント追加オプション機能 / "
        "IIJ セキュア Web プラットフォーム追加アカウント使用料」の料金（月額費用）が登録されていません。"
        "規程管理担当に料金細目の登録を依頼してください。（第4条）"
    )
    assert error.value.article == "第4条"


def test_a_discontinued_fee_item_ends_the_fee(regulation):
    _add_fee(dt.date(2025, 4, 1), amount=2500)
    _add_fee(dt.date(2026, 2, 1), kind=FeeKind.INITIAL, amount=1000)
    later = TariffRevision.objects.create(
        title="令和9年4月1日変更", amended_on=dt.date(2027, 4, 1), effective_on=dt.date(2027, 4, 1), provisions="…"
    )
    option, variant = _swp()
    FeeItem.objects.create(
        revision=later,
        option=option,
        variant=variant,
        kind=FeeKind.INITIAL,
        name="初期費用",
        pricing=Pricing.FIXED,
        amount_yen=None,
        charge_basis=ChargeBasis.PER_CONTRACT,
        discontinued=True,
        article="第4条",
    )
    assert fee_item_in_force(option=option, variant=variant, kind=FeeKind.INITIAL, on=dt.date(2027, 3, 31))
    assert fee_item_in_force(option=option, variant=variant, kind=FeeKind.INITIAL, on=dt.date(2027, 4, 1)) is None
    kinds = {(i.variant.code, i.kind) for i in fee_items_in_force(on=dt.date(2027, 4, 1))}
    assert ("additional-accounts", FeeKind.INITIAL) not in kinds
    assert ("additional-accounts", FeeKind.MONTHLY) in kinds


def test_fee_items_in_force_is_one_query_and_one_row_per_key(regulation, django_assert_num_queries):
    _add_fee(dt.date(2025, 4, 1), amount=2500)
    with django_assert_num_queries(1):
        items = list(fee_items_in_force(on=R8))
    assert [(i.variant.code, i.amount_yen) for i in items] == [
        ("type-a", None),
        ("type-e", 0),
        ("additional-accounts", 3000),
        ("fiberaccess-f", 0),
    ]


def test_revision_diff_lists_fee_items_added_removed_and_changed(regulation):
    _add_fee(dt.date(2025, 4, 1), amount=2500)
    older = TariffRevision.objects.get(amended_on=dt.date(2025, 4, 1))
    newer = TariffRevision.objects.get(amended_on=R8)
    changes = {(c.after or c.before).variant.code: c for c in revision_diff(older=older, newer=newer)}
    assert changes["additional-accounts"].change == "変更"
    assert (changes["additional-accounts"].before.amount_yen, changes["additional-accounts"].after.amount_yen) == (
        2500,
        3000,
    )
    assert {code for code, c in changes.items() if c.change == "追加"} == {"type-a", "type-e", "fiberaccess-f"}
    # The order of the two revisions does not matter, and a revision compared with itself changed nothing.
    assert len(revision_diff(older=newer, newer=older)) == 4
    assert revision_diff(older=newer, newer=newer) == []
