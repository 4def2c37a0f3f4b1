"""One calendar, one language (issue 11): every date reads 和暦 with the Western date beside it, every date input
accepts both, downloads have Japanese names, and the admin speaks Japanese whatever the browser asks for."""

import datetime as dt
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from contracts.forms import ReasonForm, SubscriberForm
from contracts.models import LedgerEntry, MonthClose, Subscriber
from contracts.reports import monthly_report
from contracts.services.month_close import month_label
from core.admin import WAREKI_FORMFIELD_OVERRIDES, RecordAdmin
from core.downloads import DownloadName, content_disposition
from core.fields import WarekiDateField
from core.formats import wareki, wareki_datetime, wareki_month
from core.wareki import format_month
from options.models import OptionVariant, TariffRevision
from tests import factories

pytestmark = pytest.mark.django_db

ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def staff_admin(client, user, *, first_name="", last_name=""):
    user.is_staff = True
    user.first_name, user.last_name = first_name or user.first_name, last_name or user.last_name
    user.save()
    client.force_login(user)
    return client


# --- one form for every date --------------------------------------------------------------------------


def test_a_date_reads_wareki_with_the_western_date_beside_it():
    assert wareki(dt.date(2026, 3, 2)) == "令和8年3月2日 (2026-03-02)"
    assert wareki(dt.date(2019, 5, 1)) == "令和元年5月1日 (2019-05-01)"
    aware = dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)  # 09:30 in Tokyo
    assert wareki_datetime(aware) == "令和8年3月2日 (2026-03-02) 09:30"


def test_a_month_reads_wareki_with_the_western_month_beside_it():
    assert wareki_month(dt.date(2026, 12, 1)) == "令和8年12月 (2026-12)"
    assert wareki_month(dt.date(2026, 12, 31)) == "令和8年12月 (2026-12)"
    assert wareki_month(dt.date(2019, 5, 1)) == "令和元年5月 (2019-05)"
    # A month two eras share is named by the era of its first day.
    assert format_month(dt.date(1989, 1, 31)) == "昭和64年1月 (1989-01)"
    assert format_month(dt.date(2026, 2, 1), western=False) == "令和8年2月"
    assert wareki_month(None) == ""


def test_messages_name_a_month_in_the_same_form():
    assert month_label(dt.date(2026, 12, 1)) == "令和8年12月 (2026-12)"


def test_the_closed_month_label_reads_wareki_on_screen_and_stays_iso_in_the_exports(regulation, accounting):
    factories.closed_month(dt.date(2026, 1, 1), actor=accounting)
    report = monthly_report(month=dt.date(2026, 1, 1))
    closed_at = wareki_datetime(report.close.closed_at)
    assert report.status_label == f"確定（{closed_at} 締め）"
    assert report.status_label.startswith("確定（令和8年")
    local = report.close.closed_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert report.export_status_label == f"確定（{local:%Y-%m-%d %H:%M} 締め）"  # docs/monthly_report.md


def test_a_month_close_record_names_its_month_in_wareki(regulation, accounting):
    factories.closed_month(dt.date(2026, 1, 1), actor=accounting)
    assert str(MonthClose.objects.get()) == "令和8年1月 (2026-01) 締め"


# --- every date input accepts both calendars -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R8.3.2", dt.date(2026, 3, 2)),
        ("令和8年3月2日", dt.date(2026, 3, 2)),
        ("H26.3.1", dt.date(2014, 3, 1)),
        ("2026-03-02", dt.date(2026, 3, 2)),
        ("2026/3/2", dt.date(2026, 3, 2)),
        ("２０２６年３月２日", dt.date(2026, 3, 2)),
    ],
)
def test_every_date_input_accepts_wareki_and_western(text, expected):
    assert WarekiDateField().clean(text) == expected


def test_a_date_input_refuses_a_date_outside_the_bounds_in_japanese():
    field = WarekiDateField()
    with pytest.raises(Exception) as caught:
        field.clean("S60.1.1")
    assert caught.value.messages == [
        "平成元年1月8日 (1989-01-08)から令和81年12月31日 (2099-12-31)までの日付を入力してください。"
    ]


def test_every_admin_date_field_is_the_wareki_field():
    """RecordAdmin carries the override: the catalogue's admins (options) use it as the contracts' do."""
    assert RecordAdmin.formfield_overrides is WAREKI_FORMFIELD_OVERRIDES
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, RecordAdmin):
            continue
        for field in model._meta.fields:
            if type(field).__name__ == "DateField" and field.editable:
                formfield = model_admin.formfield_for_dbfield(field, request=None)
                assert isinstance(formfield, WarekiDateField), (model.__name__, field.name)


def test_the_catalogue_admin_date_fields_accept_wareki(regulation, client, tariff_manager):
    staff_admin(client, tariff_manager)
    response = client.post(
        reverse("admin:options_tariffrevision_add"),
        {
            "title": "令和8年4月1日変更",
            "amended_on": "R8.3.2",
            "effective_on": "令和8年4月1日",
            "provisions": "この改正規定は、令和8年4月1日から実施します。",
            "change_reason": "改定の登録",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    revision = TariffRevision.objects.get(title="令和8年4月1日変更")
    assert (revision.amended_on, revision.effective_on) == (dt.date(2026, 3, 2), dt.date(2026, 4, 1))


def test_the_admin_lists_and_read_only_fields_show_dates_in_wareki(regulation, client, sysadmin):
    staff_admin(client, sysadmin)
    listing = client.get(reverse("admin:options_tariffrevision_changelist")).content.decode()
    assert "令和8年2月1日 (2026-02-01)" in listing
    revision = TariffRevision.objects.get(effective_on=dt.date(2026, 2, 1))
    change = client.get(reverse("admin:options_tariffrevision_change", args=[revision.pk])).content.decode()
    assert 'placeholder="令和8年2月1日 または 2026-02-01"' in change


def test_the_admin_date_hierarchy_names_years_and_months_in_wareki(regulation, client, sysadmin):
    staff_admin(client, sysadmin)
    url = reverse("admin:options_tariffrevision_changelist")
    years = client.get(url).content.decode()
    assert ">令和8年 (2026)</a>" in years and ">平成31年・令和元年 (2019)</a>" in years
    assert ">2026</a>" not in years
    months = client.get(url, {"effective_on__year": "2026"}).content.decode()
    assert "&lsaquo; いつでも</a>" in months  # Django's 「All dates」
    assert ">令和8年2月 (2026-02)</a>" in months and "2026年2月" not in months
    days = client.get(url, {"effective_on__year": "2026", "effective_on__month": "2"}).content.decode()
    assert "&lsaquo; 令和8年 (2026)</a>" in days and ">2月1日</a>" in days  # a day is the same in both calendars


def test_a_filled_in_admin_date_reads_wareki_and_is_read_back_as_shown(regulation, client, sysadmin):
    staff_admin(client, sysadmin)
    revision = TariffRevision.objects.get(effective_on=dt.date(2026, 2, 1))
    change = client.get(reverse("admin:options_tariffrevision_change", args=[revision.pk])).content.decode()
    assert 'value="令和8年2月1日 (2026-02-01)"' in change
    field = WarekiDateField()
    assert field.clean("令和8年2月1日 (2026-02-01)") == dt.date(2026, 2, 1)
    assert field.clean("令和８年２月１日（2026-02-01）") == dt.date(2026, 2, 1)  # as an input method types it
    assert not field.has_changed(dt.date(2026, 2, 1), "令和8年2月1日 (2026-02-01)")
    with pytest.raises(ValidationError) as refused:
        field.clean("令和8年2月1日 (2026-02-02)")
    assert refused.value.messages == [
        "令和8年2月1日と2026-02-02は同じ日付ではありません。どちらか一方を入力してください。"
    ]


def test_the_admin_read_only_ledger_shows_its_dates_in_wareki(regulation, client, sysadmin, clerk, approver):
    factories.billing_contract(clerk=clerk, approver=approver)
    staff_admin(client, sysadmin)
    entry = LedgerEntry.objects.filter(booked_month__isnull=False).order_by("pk").first()
    page = client.get(reverse("admin:contracts_ledgerentry_change", args=[entry.pk])).content.decode()
    assert wareki(entry.booked_month) in page  # a read-only date field
    assert wareki_datetime(entry.arisen_at) in page
    listing = client.get(reverse("admin:contracts_ledgerentry_changelist")).content.decode()
    assert wareki(entry.booked_month) in listing


# --- downloads --------------------------------------------------------------------------------------------


def test_a_download_names_its_file_in_japanese_with_an_ascii_fallback():
    name = DownloadName("monthly-report-2026-02-detail.csv", japanese="月次レポート_令和8年2月 (2026-02)_明細.csv")
    assert content_disposition(name) == (
        'attachment; filename="monthly-report-2026-02-detail.csv"; '
        "filename*=UTF-8''%E6%9C%88%E6%AC%A1%E3%83%AC%E3%83%9D%E3%83%BC%E3%83%88_%E4%BB%A4%E5%92%8C8%E5%B9%B42%E6%9C%88"
        "%20%282026-02%29_%E6%98%8E%E7%B4%B0.csv"
    )
    assert content_disposition("plain.csv") == 'attachment; filename="plain.csv"'
    with pytest.raises(ValueError):
        DownloadName("月次.csv")


def test_the_report_download_has_a_japanese_file_name(regulation, client, accounting):
    client.force_login(accounting)
    response = client.get(reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": "csv"})
    japanese = "月次レポート_令和8年2月 (2026-02)_明細_速報.csv"
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"monthly-report-2026-02-detail-provisional.csv\"; filename*=UTF-8''{quote(japanese)}"
    )
    b"".join(response.streaming_content)


# --- the admin speaks Japanese ---------------------------------------------------------------------------------


def test_the_admin_speaks_japanese_to_an_english_browser_and_greets_by_full_name(regulation, client, sysadmin):
    staff_admin(client, sysadmin, first_name="花子", last_name="管理")
    page = client.get(reverse("admin:index"), **ENGLISH_BROWSER).content.decode()
    assert "ようこそ、<strong>管理 花子</strong>さん。" in page
    assert "ログアウト" in page and "Log out" not in page and "Welcome" not in page
    assert '<html lang="ja"' in page


def test_the_admin_history_page_shows_the_change_reason_in_japanese(regulation, client, sysadmin):
    staff_admin(client, sysadmin)
    revision = TariffRevision.objects.get(effective_on=dt.date(2026, 2, 1))
    page = client.get(reverse("admin:options_tariffrevision_history", args=[revision.pk]), **ENGLISH_BROWSER)
    html = page.content.decode()
    assert "変更理由" in html and "Change reason" not in html and "None" not in html
    assert "個別規程 有料オプション（令和8年2月1日現在）の読込" in html
    assert wareki_datetime(revision.history.latest().history_date) in html
    assert ">作成<" in html
    assert f"{revision} の変更履歴" in html and "View history" not in html


def test_every_variant_choice_names_its_option(regulation, client, tariff_manager):
    staff_admin(client, tariff_manager)
    form = client.get(reverse("admin:options_feeitem_add")).context["adminform"].form
    labels = [label for value, label in form.fields["variant"].choices if value]
    assert len(labels) == OptionVariant.objects.count()
    assert len(set(labels)) == len(labels)  # 「標準」 and タイプA/タイプE could not be told apart
    assert all(" ／ " in label for label in labels)


# --- reasons and notices --------------------------------------------------------------------------------------


def test_a_new_subscriber_form_asks_no_change_reason():
    assert "reason" not in SubscriberForm().fields
    assert "reason" in SubscriberForm(instance=Subscriber(pk=1, code="X")).fields


def test_a_new_subscriber_is_registered_without_a_reason(regulation, client, clerk):
    client.force_login(clerk)
    page = client.get(reverse("contracts:subscriber_create")).content.decode()
    assert "変更理由" not in page
    data = {"code": "C900001", "kind": "individual", "name": "山田 太郎", "kana": "ヤマダ タロウ"}
    data |= {"email": "", "phone": "", "address": "", "note": ""}
    response = client.post(reverse("contracts:subscriber_create"), data)
    assert response.status_code == 302, response.context["form"].errors
    assert Subscriber.objects.get(code="C900001").history.get().history_change_reason == "契約者の登録"


def test_a_subscriber_change_without_a_reason_says_the_reason_is_missing(regulation, client, clerk):
    subscriber = factories.swp_subscriber()
    client.force_login(clerk)
    data = {name: getattr(subscriber, name) for name in Subscriber.EDITABLE_FIELDS} | {"name": "別の名前", "reason": ""}
    response = client.post(reverse("contracts:subscriber_update", args=[subscriber.pk]), data)
    assert response.context["form"].errors["reason"] == ["変更理由を入力してください。"]


@pytest.mark.parametrize("label", ["不承諾の理由", "取下げの理由", "取消の理由"])
def test_a_missing_decision_reason_names_the_reason(label):
    form = ReasonForm({"reason": ""}, reason_label=label)
    assert form.errors["reason"] == [f"{label}を入力してください。"]


def test_a_missing_reject_reason_on_the_screen_names_it(regulation, client, clerk, approver):
    from contracts.services.applications import application_start_review

    application = factories.submit_swp(subscriber=factories.swp_subscriber(), actor=clerk)
    application_start_review(application=application, actor=approver)
    client.force_login(approver)
    response = client.post(reverse("contracts:application_reject", args=[application.pk]), {"reason": ""})
    assert response.context["reject_form"].errors["reason"] == ["不承諾の理由を入力してください。"]
    assert "このフィールドは必須です。" not in response.content.decode()


def test_a_notice_is_not_styled_as_an_error(regulation, client, clerk):
    subscriber = factories.swp_subscriber()
    client.force_login(clerk)
    data = {name: getattr(subscriber, name) for name in Subscriber.EDITABLE_FIELDS} | {"reason": "確認のみ"}
    response = client.post(reverse("contracts:subscriber_update", args=[subscriber.pk]), data, follow=True)
    html = response.content.decode()
    assert f'<li class="info" role="status">契約者「{subscriber}」の変更はありません。</li>' in html
    assert 'class="error"' not in html


def test_staff_full_name_is_family_name_first():
    from core.history_read import staff_full_name

    user = get_user_model()(username="u", first_name="花子", last_name="受付")
    assert staff_full_name(user) == "受付 花子"
    assert staff_full_name(get_user_model()(username="solo")) == "solo"
