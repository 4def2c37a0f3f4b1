"""The revision workflow (options.services.revisions.revision_transition): draft → review → publish, four eyes, a
reason, and the refusals that name what publishing would break."""

import datetime as dt

import pytest

from contracts.billing.charges import month_charges
from core.errors import DomainError
from options.choices import FeeKind, RevisionStatus
from options.models import TariffRevision
from options.selectors import fee_item_in_force, revision_diff, revision_in_force
from options.services.revisions import draft_fee_item_save, revision_draft_save, revision_transition
from tests import factories
from tests.factories import closed_month, draft_revision, draft_swp_fee, option, publish_revision, variant

pytestmark = pytest.mark.django_db

APRIL = dt.date(2026, 4, 1)


def _swp_monthly(on):
    return fee_item_in_force(
        option=option(factories.SWP), variant=variant(factories.SWP, "additional-accounts"), kind=FeeKind.MONTHLY, on=on
    )


def test_a_draft_is_invisible_to_pricing_until_published(regulation, tariff_manager, tariff_manager2):
    draft = draft_revision(APRIL, actor=tariff_manager)
    draft_swp_fee(draft, 3300, actor=tariff_manager)
    assert draft.status == RevisionStatus.DRAFT and draft.drafted_by == tariff_manager
    assert _swp_monthly(APRIL).amount_yen == 3000
    assert revision_in_force(on=APRIL).effective_on == dt.date(2026, 2, 1)

    publish_revision(draft, drafter=tariff_manager, publisher=tariff_manager2, reason="値上げを承認")
    draft.refresh_from_db()
    assert draft.status == RevisionStatus.PUBLISHED and draft.published_by == tariff_manager2
    assert _swp_monthly(APRIL).amount_yen == 3300
    assert _swp_monthly(APRIL - dt.timedelta(days=1)).amount_yen == 3000
    assert draft.history.first().history_change_reason == "値上げを承認"


def test_the_draft_diff_is_against_the_revision_in_force_on_its_effective_date(regulation, tariff_manager):
    draft = draft_revision(APRIL, actor=tariff_manager)
    draft_swp_fee(draft, 3300, actor=tariff_manager)
    older = TariffRevision.objects.get(effective_on=dt.date(2026, 2, 1))
    [change] = revision_diff(older=older, newer=draft)
    assert change.change == "変更"
    assert (change.before.amount_yen, change.after.amount_yen) == (3000, 3300)


def test_four_eyes_the_drafter_cannot_publish_a_colleague_or_the_system_admin_can(
    regulation, tariff_manager, tariff_manager2, sysadmin
):
    draft = draft_revision(APRIL, actor=tariff_manager)
    draft_swp_fee(draft, 3300, actor=tariff_manager)
    revision_transition(revision=draft, to=RevisionStatus.REVIEW, actor=tariff_manager, reason="確認をお願いします")
    with pytest.raises(DomainError, match="起案・入力をした人は公開できません"):
        revision_transition(revision=draft, to=RevisionStatus.PUBLISHED, actor=tariff_manager, reason="公開")
    # A colleague who mended one fee item is an author too.
    revision_transition(revision=draft, to=RevisionStatus.DRAFT, actor=tariff_manager2, reason="金額を確認して")
    item = draft.fee_items.get()
    item.amount_yen = 3200
    draft_fee_item_save(fee_item=item, actor=tariff_manager2, reason="金額の訂正")
    revision_transition(revision=draft, to=RevisionStatus.REVIEW, actor=tariff_manager, reason="再確認")
    with pytest.raises(DomainError, match="起案・入力をした人は公開できません"):
        revision_transition(revision=draft, to=RevisionStatus.PUBLISHED, actor=tariff_manager2, reason="公開")
    revision_transition(revision=draft, to=RevisionStatus.PUBLISHED, actor=sysadmin, reason="システム管理者が確認")
    assert TariffRevision.objects.get(pk=draft.pk).status == RevisionStatus.PUBLISHED


def test_a_reviewer_who_sent_a_draft_back_may_still_publish_it(regulation, tariff_manager, tariff_manager2):
    draft = draft_revision(APRIL, actor=tariff_manager)
    draft_swp_fee(draft, 3300, actor=tariff_manager)
    revision_transition(revision=draft, to=RevisionStatus.REVIEW, actor=tariff_manager, reason="確認依頼")
    revision_transition(revision=draft, to=RevisionStatus.DRAFT, actor=tariff_manager2, reason="附則の文言を直して")
    draft.refresh_from_db()
    draft.provisions = "この改正規定は、令和8年4月1日から実施する。"
    revision_draft_save(revision=draft, actor=tariff_manager, reason="附則の文言を訂正")
    publish_revision(draft, drafter=tariff_manager, publisher=tariff_manager2)


def test_publishing_needs_a_reason_and_the_publish_permission(regulation, tariff_manager, tariff_manager2, clerk):
    draft = draft_revision(APRIL, actor=tariff_manager)
    revision_transition(revision=draft, to=RevisionStatus.REVIEW, actor=tariff_manager, reason="確認依頼")
    with pytest.raises(DomainError, match="改定を公開する理由を入力してください"):
        revision_transition(revision=draft, to=RevisionStatus.PUBLISHED, actor=tariff_manager2, reason="  ")
    with pytest.raises(DomainError, match="改定を公開する権限がありません"):
        revision_transition(revision=draft, to=RevisionStatus.PUBLISHED, actor=clerk, reason="公開")
    assert TariffRevision.objects.get(pk=draft.pk).status == RevisionStatus.REVIEW


def test_only_the_transitions_of_the_map_are_allowed_and_only_a_draft_is_edited(
    regulation, tariff_manager, tariff_manager2
):
    draft = draft_revision(APRIL, actor=tariff_manager)
    with pytest.raises(DomainError, match="下書きのため、改定を公開することはできません"):
        revision_transition(revision=draft, to=RevisionStatus.PUBLISHED, actor=tariff_manager2, reason="公開")
    revision_transition(revision=draft, to=RevisionStatus.REVIEW, actor=tariff_manager, reason="確認依頼")
    with pytest.raises(DomainError, match="確認待ちのため変更できません"):
        draft_swp_fee(draft, 3300, actor=tariff_manager)
    revision_transition(revision=draft, to=RevisionStatus.PUBLISHED, actor=tariff_manager2, reason="公開")
    with pytest.raises(DomainError, match="公開済みのため、改定を差し戻すことはできません"):
        revision_transition(revision=draft, to=RevisionStatus.DRAFT, actor=tariff_manager2, reason="戻す")
    with pytest.raises(DomainError, match="公開済みのため変更できません"):
        draft_swp_fee(draft, 3300, actor=tariff_manager)


def test_publishing_is_refused_when_another_published_revision_has_the_same_effective_date(
    regulation, tariff_manager, tariff_manager2
):
    first = draft_revision(APRIL, actor=tariff_manager, title="令和8年4月1日変更")
    publish_revision(first, drafter=tariff_manager, publisher=tariff_manager2)
    second = draft_revision(
        APRIL, actor=tariff_manager, title="令和8年4月1日変更（その2）", amended_on=dt.date(2026, 4, 2)
    )
    with pytest.raises(DomainError, match="公開済みの改定「令和8年4月1日変更」があります"):
        publish_revision(second, drafter=tariff_manager, publisher=tariff_manager2)
    assert TariffRevision.objects.get(pk=second.pk).status == RevisionStatus.REVIEW


def test_publishing_is_refused_when_the_effective_date_falls_in_a_closed_month(
    regulation, tariff_manager, tariff_manager2, accounting
):
    closed_month(dt.date(2026, 1, 1), actor=accounting)
    draft = draft_revision(dt.date(2026, 1, 20), actor=tariff_manager)
    with pytest.raises(DomainError, match=r"締め済みの月（令和8年1月 \(2026-01\)）に当たります"):
        publish_revision(draft, drafter=tariff_manager, publisher=tariff_manager2)


def test_publishing_is_refused_naming_the_active_contracts_it_would_leave_without_a_fee(
    regulation, tariff_manager, tariff_manager2, clerk, approver
):
    contract = factories.billing_contract(clerk=clerk, approver=approver)
    waiting = factories.approved_swp_contract(clerk=clerk, approver=approver, quantity=10)
    draft = draft_revision(APRIL, actor=tariff_manager)
    draft_swp_fee(draft, None, actor=tariff_manager)
    with pytest.raises(DomainError) as refused:
        publish_revision(draft, drafter=tariff_manager, publisher=tariff_manager2)
    message = str(refused.value)
    assert "料金を計算できなくなるオプション契約が2件あります" in message
    assert f"#{contract.pk}（令和8年4月1日から）" in message and f"#{waiting.pk}（令和8年4月1日から）" in message
    assert TariffRevision.objects.get(pk=draft.pk).status == RevisionStatus.REVIEW
    assert month_charges(month=APRIL)  # still priced: nothing was published


def test_two_revisions_in_one_month_both_apply_each_from_its_own_date(
    regulation, tariff_manager, tariff_manager2, clerk, approver, accounting, fixed_clock
):
    """April 2026 has two: 3,300円 from the 11th, 3,600円 from the 21st. 30 accounts = 3 blocks; the close
    charges 3 × (3,000 × 10 + 3,300 × 10 + 3,600 × 10) ÷ 30 for April, each segment rounded down on its own."""
    contract = factories.billing_contract(clerk=clerk, approver=approver, billing_start=dt.date(2026, 2, 15))
    for day, amount in [(11, 3300), (21, 3600)]:
        draft = draft_revision(dt.date(2026, 4, day), actor=tariff_manager)
        draft_swp_fee(draft, amount, actor=tariff_manager)
        publish_revision(draft, drafter=tariff_manager, publisher=tariff_manager2)
    fixed_clock.set("2026-05-01T09:00+09:00")
    for month in (2, 3, 4):
        closed_month(dt.date(2026, month, 1), actor=accounting)
    april = contract.ledger_entries.filter(kind="monthly_charge", charge_month=APRIL).order_by("pk")
    assert [(row.fee_item.amount_yen, row.days_billed, row.amount_yen) for row in april] == [
        (3000, 10, 9000 * 10 // 30),
        (3300, 10, 9900 * 10 // 30),
        (3600, 10, 10800 * 10 // 30),
    ]
    assert sum(row.amount_yen for row in april) == 3000 + 3300 + 3600
