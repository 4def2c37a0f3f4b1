"""The revision workflow in the staff screens: 規程管理 drafts, a colleague publishes, the contract page shows it."""

import datetime as dt

import pytest
from django.urls import reverse

from options.choices import RevisionStatus
from options.models import FeeItem, TariffRevision
from tests import factories

pytestmark = pytest.mark.django_db


def test_draft_review_publish_in_the_staff_screens_and_the_contract_page_shows_the_pending_change(
    client, regulation, tariff_manager, tariff_manager2, clerk, approver
):
    contract = factories.billing_contract(clerk=clerk, approver=approver, quantity=10)
    client.force_login(tariff_manager)
    assert "改定案を作成" in client.get(reverse("options:revision_list")).content.decode()
    response = client.post(
        reverse("options:revision_create"),
        {
            "title": "令和9年4月1日変更",
            "amended_on": "令和9年3月1日",
            "effective_on": "令和9年4月1日",
            "provisions": "この改正規定は、令和9年4月1日から実施します。",
        },
    )
    draft = TariffRevision.objects.get(title="令和9年4月1日変更")
    assert response.status_code == 302 and draft.status == RevisionStatus.DRAFT
    page = client.get(reverse("options:revision_detail", args=[draft.pk])).content.decode()
    assert "公開されるまで料金の計算には使われません" in page and "影響の試算" in page
    swp = FeeItem.objects.get(variant__option__code=factories.SWP, kind="monthly")
    form = client.get(reverse("options:revision_feeitem_create", args=[draft.pk]) + f"?from={swp.pk}")
    initial = form.context["form"].initial
    data = {k: v for k, v in initial.items() if v is not None and k != "discontinued"}
    data.update(amount_yen=3300)
    response = client.post(reverse("options:revision_feeitem_create", args=[draft.pk]), data)
    assert response.status_code == 302, response.content.decode()
    assert draft.fee_items.get().amount_yen == 3300
    diff = client.get(reverse("options:revision_diff"), {"older": swp.revision_id, "newer": draft.pk})
    assert "3,000円" in diff.content.decode() and "3,300円" in diff.content.decode()

    transition = reverse("options:revision_transition", args=[draft.pk])
    assert client.post(transition, {"to": "review", "reason": "確認をお願いします"}).status_code == 302
    refused = client.post(transition, {"to": "published", "reason": "公開"})
    assert "起案・入力をした人は公開できません" in refused.content.decode()

    client.force_login(tariff_manager2)
    missing_reason = client.post(transition, {"to": "published", "reason": ""})
    assert missing_reason.status_code == 200 and "理由" in missing_reason.content.decode()
    assert client.post(transition, {"to": "published", "reason": "料金表と照合済み"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == RevisionStatus.PUBLISHED and draft.published_by == tariff_manager2

    client.force_login(clerk)
    page = client.get(reverse("contracts:optioncontract_detail", args=[contract.pk])).content.decode()
    assert "令和9年4月1日から 3,300円（改定案: 令和9年4月1日変更）" in page


def test_a_published_revision_cannot_be_edited_in_the_staff_screens(client, regulation, tariff_manager):
    published = TariffRevision.objects.get(effective_on=dt.date(2026, 2, 1))
    client.force_login(tariff_manager)
    response = client.post(
        reverse("options:revision_update", args=[published.pk]),
        {
            "title": "x",
            "amended_on": "2026-02-01",
            "effective_on": "2026-02-01",
            "provisions": "x",
            "reason": "訂正",
        },
    )
    assert response.status_code == 200
    assert "公開済みのため変更できません" in response.content.decode()
    assert TariffRevision.objects.get(pk=published.pk).title != "x"
