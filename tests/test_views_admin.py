"""Admin data entry of the catalogue: a required reason in the history, cited revisions frozen, no 500."""

import pytest
from django.contrib.admin.models import LogEntry
from django.forms.models import model_to_dict
from django.urls import reverse

from options.models import FeeItem, OptionVariant, TariffRevision
from tests import ui_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def kitei(client, tariff_manager):
    tariff_manager.is_staff = True
    tariff_manager.save(update_fields=["is_staff"])
    client.force_login(tariff_manager)
    return tariff_manager


def form_data(obj, **changes):
    data = {k: ("" if v is None else v) for k, v in model_to_dict(obj).items()}
    data.update(changes)
    return data


def swp_fee():
    return FeeItem.objects.get(option__code=ui_data.SWP)


def uncited_revision():
    return TariffRevision.objects.get(effective_on="2025-04-01")


def test_fee_item_change_records_the_reason_and_the_user(regulation, client, kitei, fixed_clock):
    item = swp_fee()
    fixed_clock.advance(minutes=1)  # staff edit the loaded regulation a minute later: history is ordered by its instant
    url = reverse("admin:options_feeitem_change", args=[item.pk])
    response = client.post(url, form_data(item, note="単価確認済み", change_reason="備考の追記（確認日の記録）"))
    assert response.status_code == 302
    latest = item.history.latest("history_date")
    assert latest.note == "単価確認済み"
    assert latest.history_change_reason == "備考の追記（確認日の記録）"
    assert latest.history_user == kitei


def test_a_change_without_reason_is_refused_on_the_form(regulation, client, kitei):
    item = swp_fee()
    url = reverse("admin:options_feeitem_change", args=[item.pk])
    response = client.post(url, form_data(item, note="理由なし", change_reason=""))
    assert response.status_code == 200
    assert "変更理由" in response.content.decode()
    item.refresh_from_db()
    assert item.note != "理由なし"


def test_a_cited_revision_cannot_be_edited_and_the_refusal_is_a_form_error(regulation, client, kitei, clerk, approver):
    ui_data.billing_contract(clerk=clerk, approver=approver)  # a ledger row now cites 令和8年2月1日変更
    revision = TariffRevision.objects.get(effective_on="2026-02-01")
    url = reverse("admin:options_tariffrevision_change", args=[revision.pk])
    response = client.post(url, form_data(revision, title="書き換え", change_reason="誤記の訂正"))
    assert response.status_code == 200
    assert "支払義務の根拠として引用されているため" in response.content.decode()
    revision.refresh_from_db()
    assert revision.title != "書き換え"

    item = swp_fee()
    url = reverse("admin:options_feeitem_change", args=[item.pk])
    response = client.post(url, form_data(item, amount_yen=3500, change_reason="値上げ"))
    assert response.status_code == 200
    assert "支払義務の根拠として引用されているため" in response.content.decode()
    item.refresh_from_db()
    assert item.amount_yen == 3000


def test_a_refusal_at_save_time_is_an_admin_message_and_logs_nothing(regulation, client, kitei):
    item = swp_fee()
    other_variant = OptionVariant.objects.exclude(option=item.option).first()
    url = reverse("admin:options_feeitem_change", args=[item.pk])
    before = LogEntry.objects.count()
    response = client.post(url, form_data(item, variant=other_variant.pk, change_reason="細目の付け替え"), follow=True)
    assert response.status_code == 200
    assert "サービス・細目がオプションに属していません。" in [str(m) for m in response.context["messages"]]
    item.refresh_from_db()
    assert item.variant.option_id == item.option_id
    assert LogEntry.objects.count() == before


def test_delete_needs_a_reason_and_goes_through_the_service(regulation, client, kitei, clerk, approver):
    ui_data.billing_contract(clerk=clerk, approver=approver)
    cited = TariffRevision.objects.get(effective_on="2026-02-01")
    url = reverse("admin:options_tariffrevision_delete", args=[cited.pk])
    response = client.post(url, {"post": "yes", "change_reason": "不要"}, follow=True)
    assert response.status_code == 200
    assert response.context["protected"]  # its fee items and ledger rows hold it (PROTECT), shown, not deleted
    assert TariffRevision.objects.filter(pk=cited.pk).exists()

    revision = uncited_revision()
    url = reverse("admin:options_tariffrevision_delete", args=[revision.pk])
    response = client.post(url, {"post": "yes", "change_reason": ""}, follow=True)
    assert TariffRevision.objects.filter(pk=revision.pk).exists()
    assert "削除の変更理由を入力してください。" in [str(m) for m in response.context["messages"]]

    response = client.post(url, {"post": "yes", "change_reason": "重複登録の削除"})
    assert response.status_code == 302
    assert not TariffRevision.objects.filter(pk=revision.pk).exists()
    deleted = TariffRevision.history.filter(id=revision.pk, history_type="-").get()
    assert deleted.history_change_reason == "重複登録の削除"
    assert deleted.history_user == kitei


def test_admin_history_shows_a_japanese_diff_column(regulation, client, kitei):
    item = swp_fee()
    client.post(
        reverse("admin:options_feeitem_change", args=[item.pk]),
        form_data(item, note="差分確認", change_reason="備考の変更"),
    )
    response = client.get(reverse("admin:options_feeitem_history", args=[item.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "変更内容" in html
    assert "<strong>備考</strong>" in html
    assert "差分確認" in html
    assert "備考の変更" in html


def test_a_change_form_that_changes_nothing_says_so_and_writes_no_history_nor_log(regulation, client, kitei):
    item = swp_fee()
    url = reverse("admin:options_feeitem_change", args=[item.pk])
    history, logs = item.history.count(), LogEntry.objects.count()
    response = client.post(url, form_data(item, change_reason="確認のみ"), follow=True)
    assert response.status_code == 200
    said = [str(m) for m in response.context["messages"]]
    assert said == [f"料金細目「{item}」: 変更はありません。"]
    assert "変更しました" not in response.content.decode()
    assert item.history.count() == history
    assert LogEntry.objects.count() == logs

    response = client.post(url, form_data(item, note="今度は変更", change_reason="備考の追記"), follow=True)
    assert any("変更しました" in str(m) for m in response.context["messages"])
    assert item.history.count() == history + 1
    assert LogEntry.objects.count() == logs + 1


def test_an_unchanged_save_and_continue_stays_on_the_change_form(regulation, client, kitei):
    item = swp_fee()
    url = reverse("admin:options_feeitem_change", args=[item.pk])
    response = client.post(url, form_data(item, change_reason="確認のみ", _continue="1"))
    assert response.status_code == 302
    assert response.url == url
