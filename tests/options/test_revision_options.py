"""Options added or retired and successions ordered by a draft revision (issue 12): invisible to applications,
eligibility and the successions until the draft is published (and, for an added option, in force); written with
history and their authors counted for the four eyes; listed by the impact preview."""

import datetime as dt

import pytest
from django.urls import reverse

from contracts.reports.impact import revision_impact
from contracts.services.successions import successions_apply, successions_pending
from core.errors import DomainError
from core.history_write import system_user
from options.choices import ChargeBasis, FeeKind, OptionStatus, Pricing, RevisionStatus
from options.models import FeeItem, Option, Section, Service, Succession
from options.selectors import option_retired_refusal, options_orderable
from options.services.revisions import (
    draft_fee_item_save,
    draft_option_add,
    draft_option_retire,
    draft_succession_delete,
    draft_succession_save,
    revision_transition,
)
from tests import factories
from tests.factories import draft_revision, option, publish_revision

pytestmark = pytest.mark.django_db

MAY = dt.date(2026, 5, 1)


def _add_ipv6_plus(revision, actor) -> Option:
    """A successor of IPv6 接続オプション機能 with the same variant code, 0円 a month from the draft's 実施日."""
    added = draft_option_add(
        revision=revision,
        option=Option(
            section=Section.objects.get(number=3),
            code="ipv6-plus",
            name="IPv6 接続オプション機能（新）",
            condition_article="第5条",
            fee_article="第6条",
        ),
        variants=[("fiberaccess-f", "IIJ FiberAccess/F サービス")],
        services=[Service.objects.get(code="fiberaccess-f")],
        actor=actor,
        reason="IPv6 接続オプションの新設",
    )
    draft_fee_item_save(
        fee_item=FeeItem(
            revision=revision,
            option=added,
            variant=added.variants.get(),
            kind=FeeKind.MONTHLY,
            name="IIJ FiberAccess/F サービス",
            pricing=Pricing.FIXED,
            amount_yen=0,
            charge_basis=ChargeBasis.PER_CONTRACT,
            article="第6条",
        ),
        actor=actor,
        reason="新オプションの月額費用",
    )
    return added


def _order_ipv6_succession(revision, actor) -> Succession:
    draft_option_retire(revision=revision, option=option("ipv6"), actor=actor, reason="IPv6 接続オプションの廃止")
    return draft_succession_save(
        succession=Succession(revision=revision, from_option=option("ipv6"), to_option=option("ipv6-plus")),
        actor=actor,
        reason="旧オプションの契約は新オプションとして存続",
    )


@pytest.fixture
def draft(regulation, tariff_manager):
    revision = draft_revision(MAY, actor=tariff_manager)
    _add_ipv6_plus(revision, tariff_manager)
    return revision


def test_an_option_a_draft_adds_takes_no_contract_until_published_and_in_force(draft, tariff_manager, tariff_manager2):
    added = option("ipv6-plus")
    assert added.introduced_by == draft and added.history.first().history_change_reason == "IPv6 接続オプションの新設"
    assert added.eligibility_rules.get().services.get().code == "fiberaccess-f"
    assert added not in options_orderable(on=MAY)
    assert "まだ公開されていない" in option_retired_refusal(option=added, on=MAY).message

    publish_revision(draft, drafter=tariff_manager, publisher=tariff_manager2)
    added.refresh_from_db()
    assert added not in options_orderable(on=MAY - dt.timedelta(days=1))
    refusal = option_retired_refusal(option=added, on=MAY - dt.timedelta(days=1))
    assert refusal.code == "option_not_offered" and "令和8年5月1日 (2026-05-01)から提供する" in refusal.message
    assert added in options_orderable(on=MAY) and option_retired_refusal(option=added, on=MAY) is None


def test_an_option_a_draft_retires_is_retired_only_when_published_from_its_effective_date(
    draft, tariff_manager, tariff_manager2
):
    draft_option_retire(revision=draft, option=option("ipv6"), actor=tariff_manager, reason="廃止")
    ipv6 = option("ipv6")
    assert (ipv6.status, ipv6.retired_on, ipv6.retired_by) == (OptionStatus.ACTIVE, None, draft)
    assert ipv6 in options_orderable(on=dt.date(2026, 6, 1))

    publish_revision(draft, drafter=tariff_manager, publisher=tariff_manager2)
    ipv6.refresh_from_db()
    assert (ipv6.status, ipv6.retired_on) == (OptionStatus.RETIRED, MAY)
    latest = ipv6.history.first()
    assert (
        latest.history_user == tariff_manager2
        and latest.history_change_reason == f"改定「{draft.title}」の公開による廃止"
    )
    assert option_retired_refusal(option=ipv6, on=MAY - dt.timedelta(days=1)) is None
    assert option_retired_refusal(option=ipv6, on=MAY).code == "option_retired"


def test_a_drafts_succession_moves_nothing_until_published_and_the_preview_lists_whom_it_moves(
    draft, clerk, approver, tariff_manager, tariff_manager2
):
    contract = factories.contract_billed_from(dt.date(2026, 2, 10), factories.IPV6, approver=approver, clerk=clerk)
    succession = _order_ipv6_succession(draft, tariff_manager)
    assert (succession.effective_on, succession.contracts_made_until) == (MAY, dt.date(2026, 4, 30))
    assert succession.provision == f"{draft.title} 附則"
    assert successions_pending() == []

    moves = list(revision_impact(revision=draft).successions())
    assert [(m.option_contract_id, m.from_option, m.to_option, m.effective_on) for m in moves] == [
        (contract.pk, "IPv6 接続オプション機能", "IPv6 接続オプション機能（新）", MAY)
    ]

    publish_revision(draft, drafter=tariff_manager, publisher=tariff_manager2)
    [move] = successions_pending()
    assert move.option_contract.pk == contract.pk and move.to_variant.option.code == "ipv6-plus"
    successions_apply(actor=system_user())
    contract.refresh_from_db()
    assert contract.option.code == "ipv6-plus" and contract.succession == succession


def test_who_adds_an_option_or_orders_a_succession_is_an_author_for_the_four_eyes(
    regulation, tariff_manager, tariff_manager2, sysadmin
):
    revision = draft_revision(MAY, actor=tariff_manager)
    _add_ipv6_plus(revision, tariff_manager2)  # the colleague wrote part of it
    revision_transition(revision=revision, to=RevisionStatus.REVIEW, actor=tariff_manager, reason="確認依頼")
    with pytest.raises(DomainError, match="起案・入力をした人は公開できません"):
        revision_transition(revision=revision, to=RevisionStatus.PUBLISHED, actor=tariff_manager2, reason="公開")
    revision_transition(revision=revision, to=RevisionStatus.PUBLISHED, actor=sysadmin, reason="公開")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("not_retired", "この改定案で廃止するオプションだけ"),
        ("variant_missing", "に当たるものがありません"),
        ("to_retired", "廃止される（された）オプション"),
    ],
)
def test_a_succession_is_refused_from_an_option_not_retired_here_or_to_one_that_cannot_take_it(
    draft, tariff_manager, setup, message
):
    source, target = option("ipv6"), option("ipv6-plus")
    if setup == "variant_missing":
        source = option(factories.SWP)
    if setup != "not_retired":
        draft_option_retire(revision=draft, option=source, actor=tariff_manager, reason="廃止")
    if setup == "to_retired":
        target = option(factories.SWP)
        draft_option_retire(revision=draft, option=target, actor=tariff_manager, reason="廃止")
    before = Succession.history.count()
    with pytest.raises(DomainError, match=message):
        draft_succession_save(
            succession=Succession(revision=draft, from_option=source, to_option=target),
            actor=tariff_manager,
            reason="承継",
        )
    assert Succession.history.count() == before


def test_retirement_and_succession_are_taken_back_in_order_and_not_after_the_draft_left_draft(draft, tariff_manager):
    succession = _order_ipv6_succession(draft, tariff_manager)
    with pytest.raises(DomainError, match="先に承継を取り消して"):
        draft_option_retire(revision=draft, option=option("ipv6"), retire=False, actor=tariff_manager, reason="戻す")
    draft_succession_delete(succession=succession, actor=tariff_manager, reason="承継はやめる")
    assert Succession.history.filter(history_type="-").get().history_change_reason == "承継はやめる"
    draft_option_retire(revision=draft, option=option("ipv6"), retire=False, actor=tariff_manager, reason="戻す")
    assert option("ipv6").retired_by is None

    revision_transition(revision=draft, to=RevisionStatus.REVIEW, actor=tariff_manager, reason="確認依頼")
    with pytest.raises(DomainError, match="確認待ちのため変更できません"):
        draft_option_retire(revision=draft, option=option("ipv6"), actor=tariff_manager, reason="廃止")


def test_a_clerk_cannot_change_the_options_of_a_draft(draft, clerk):
    with pytest.raises(DomainError):
        draft_option_retire(revision=draft, option=option("ipv6"), actor=clerk, reason="廃止")


class TestScreens:
    def test_the_draft_page_adds_an_option_retires_one_and_orders_a_succession(self, client, draft, tariff_manager):
        client.force_login(tariff_manager)
        response = client.post(
            reverse("options:revision_option_add", args=[draft.pk]),
            {
                "section": Section.objects.get(number=2).pk,
                "code": "swp-plus",
                "name": "SWP 追加アカウント（新）",
                "condition_article": "第3条",
                "fee_article": "第4条",
                "variant_code": "additional-accounts",
                "variant_name": "追加アカウント使用料",
            },
            follow=True,
        )
        assert "オプション「SWP 追加アカウント（新）」を改定案に追加しました" in response.content.decode()
        response = client.post(
            reverse("options:revision_option_retire", args=[draft.pk]),
            {"option": option(factories.SWP).pk},
            follow=True,
        )
        assert "を改定案で廃止します" in response.content.decode()
        response = client.post(
            reverse("options:revision_succession_create", args=[draft.pk]),
            {"from_option": option(factories.SWP).pk, "to_option": option("swp-plus").pk, "provision": "附則第2項"},
            follow=True,
        )
        html = response.content.decode()
        assert "を改定案に定めました" in html
        assert "IIJ セキュア Web プラットフォーム アカウント追加オプション機能 → SWP 追加アカウント（新）" in html
        succession = Succession.objects.get(revision=draft)
        response = client.post(
            reverse("options:revision_succession_withdraw", args=[draft.pk]), {"succession": succession.pk}, follow=True
        )
        assert "を取り消しました" in response.content.decode() and not Succession.objects.filter(revision=draft)

    def test_a_succession_to_an_option_being_retired_is_refused_by_its_field_in_japanese(
        self, client, draft, tariff_manager
    ):
        draft_option_retire(revision=draft, option=option("ipv6"), actor=tariff_manager, reason="廃止")
        client.force_login(tariff_manager)
        response = client.post(
            reverse("options:revision_succession_create", args=[draft.pk]),
            {"from_option": option("ipv6").pk, "to_option": option("ipv6").pk},
        )
        assert response.status_code == 200
        assert response.context["form"].errors["to_option"] == [
            "正しく選択してください。選択したものは候補にありません。"
        ]
        assert not Succession.objects.filter(revision=draft).exists()

    def test_an_option_code_taken_is_refused_and_nothing_is_written(self, client, draft, tariff_manager):
        client.force_login(tariff_manager)
        before = Option.history.count()
        response = client.post(
            reverse("options:revision_option_add", args=[draft.pk]),
            {
                "section": Section.objects.get(number=3).pk,
                "code": "ipv6",
                "name": "重複",
                "condition_article": "第5条",
                "fee_article": "第6条",
                "variant_code": "x",
                "variant_name": "x",
            },
        )
        assert "コード「ipv6」のオプションは既にあります" in response.content.decode()
        assert Option.history.count() == before


def test_publishing_is_refused_while_a_succession_would_move_contracts_onto_a_variant_without_a_fee(
    regulation, clerk, approver, tariff_manager, tariff_manager2
):
    """DOMAIN §3.12 (no silent 0円): the successor's variant needs a monthly fee in force on the succession date."""
    contract = factories.contract_billed_from(dt.date(2026, 2, 10), factories.IPV6, approver=approver, clerk=clerk)
    revision = draft_revision(MAY, actor=tariff_manager)
    draft_option_add(
        revision=revision,
        option=Option(
            section=Section.objects.get(number=3),
            code="ipv6-plus",
            name="IPv6 接続オプション機能（新）",
            condition_article="第5条",
            fee_article="第6条",
        ),
        variants=[("fiberaccess-f", "IIJ FiberAccess/F サービス")],
        actor=tariff_manager,
        reason="新設（料金は未定）",
    )
    _order_ipv6_succession(revision, tariff_manager)
    revision_transition(revision=revision, to=RevisionStatus.REVIEW, actor=tariff_manager, reason="確認依頼")
    with pytest.raises(DomainError) as refused:
        revision_transition(revision=revision, to=RevisionStatus.PUBLISHED, actor=tariff_manager2, reason="公開")
    said = "この改定の承継で移る先に月額費用がなく、料金を計算できなくなるオプション契約が1件あります"
    assert said in refused.value.message
    assert f"#{contract.pk}（令和8年5月1日から）" in refused.value.message
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.REVIEW and option("ipv6").status == OptionStatus.ACTIVE
