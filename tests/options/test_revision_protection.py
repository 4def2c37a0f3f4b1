import datetime as dt

import pytest
from django.db.models import ProtectedError

from contracts.choices import LedgerKind
from contracts.models import LedgerEntry, OptionContract
from core.errors import DomainError
from core.history_write import system_user
from options.models import FeeItem, TariffRevision
from options.services import fee_item_delete, fee_item_save, revision_delete, revision_save
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

R8 = dt.date(2026, 2, 1)


def _cite(fee_item):
    """Write one ledger row priced from `fee_item` (as an approval would)."""
    contract = OptionContract.objects.create(
        subscriber=SubscriberFactory(),
        option=fee_item.option,
        variant=fee_item.variant,
        quantity=10,
        contracted_on=R8,
        migrated=True,
    )
    return LedgerEntry.objects.create(
        kind=LedgerKind.MONTHLY,
        option_contract=contract,
        fee_item=fee_item,
        revision=fee_item.revision,
        article=fee_item.article,
        quantity=10,
        blocks=1,
        unit_amount_yen=3000,
        amount_yen=3000,
        arisen_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        booked_month=R8,
        effective_from=R8,
        created_by=system_user(),
    )


@pytest.fixture
def cited_fee(regulation):
    fee = FeeItem.objects.get(variant__code="additional-accounts", revision__amended_on=R8)
    _cite(fee)
    return fee


def test_cited_revision_cannot_be_deleted(cited_fee, tariff_manager):
    with pytest.raises(DomainError) as error:
        revision_delete(revision=cited_fee.revision, actor=tariff_manager, reason="誤登録")
    assert "支払義務の根拠として引用されているため、削除・変更できません" in str(error.value)
    assert TariffRevision.objects.filter(pk=cited_fee.revision.pk).exists()


def test_cited_revision_is_protected_by_the_database_too(cited_fee):
    with pytest.raises(ProtectedError):
        cited_fee.delete()


def test_fee_item_of_a_cited_revision_cannot_be_edited_in_place(cited_fee, tariff_manager):
    cited_fee.amount_yen = 3500
    with pytest.raises(DomainError) as error:
        fee_item_save(fee_item=cited_fee, actor=tariff_manager, reason="値上げ")
    assert "新しい改定を登録してください" in str(error.value)
    assert FeeItem.objects.get(pk=cited_fee.pk).amount_yen == 3000


def test_no_fee_item_can_be_added_to_a_cited_revision(cited_fee, tariff_manager):
    initial = FeeItem(
        revision=cited_fee.revision,
        option=cited_fee.option,
        variant=cited_fee.variant,
        kind="initial",
        name="初期費用",
        pricing="fixed",
        amount_yen=1000,
        charge_basis="per_contract",
        article="第4条",
    )
    with pytest.raises(DomainError):
        fee_item_save(fee_item=initial, actor=tariff_manager, reason="初期費用の追加")
    assert not FeeItem.objects.filter(kind="initial").exists()


def test_fee_item_of_a_cited_revision_cannot_be_deleted(cited_fee, tariff_manager):
    with pytest.raises(DomainError):
        fee_item_delete(fee_item=cited_fee, actor=tariff_manager, reason="誤登録")
    assert FeeItem.objects.filter(pk=cited_fee.pk).exists()


def test_cited_revision_dates_and_text_cannot_change(cited_fee, tariff_manager):
    revision = TariffRevision.objects.get(pk=cited_fee.revision.pk)
    revision.effective_on = dt.date(2026, 3, 1)
    with pytest.raises(DomainError):
        revision_save(revision=revision, actor=tariff_manager, reason="実施日の訂正")
    assert TariffRevision.objects.get(pk=revision.pk).effective_on == R8


def test_uncited_revision_is_edited_with_history_and_a_change_is_a_new_revision(regulation, tariff_manager):
    fee = FeeItem.objects.get(variant__code="additional-accounts", revision__amended_on=R8)
    fee.amount_yen = 3300
    fee_item_save(fee_item=fee, actor=tariff_manager, reason="料金表の入力誤りを訂正")
    record = fee.history.first()
    assert (record.amount_yen, record.history_user, record.history_change_reason) == (
        3300,
        tariff_manager,
        "料金表の入力誤りを訂正",
    )
    empty = TariffRevision.objects.create(
        title="令和9年4月1日変更", amended_on=dt.date(2027, 4, 1), effective_on=dt.date(2027, 4, 1), provisions="…"
    )
    revision_delete(revision=empty, actor=tariff_manager, reason="誤登録")
    assert not TariffRevision.objects.filter(pk=empty.pk).exists()
    assert TariffRevision.history.filter(id=empty.pk, history_type="-").get().history_user == tariff_manager


def test_revision_with_fee_items_cannot_be_deleted_even_uncited(regulation, tariff_manager):
    revision = TariffRevision.objects.get(amended_on=R8)
    with pytest.raises(DomainError) as error:
        revision_delete(revision=revision, actor=tariff_manager, reason="誤登録")
    assert "料金細目または承継が登録されているため削除できません" in str(error.value)
