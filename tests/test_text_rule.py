"""The one text rule (core.text) and the declared bounds (core.limits), held by the services whatever the caller
and shown by the field on the staff screens: a clear Japanese answer, nothing written, never a DataError."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from contracts.models import Application, LedgerEntry, OptionContract, Subscriber
from contracts.services import (
    application_set_quote,
    application_submit,
    ledger_entry_reverse,
    option_contract_set_billing_start,
    subscriber_create,
    subscriber_update,
)
from core.errors import DomainError
from core.limits import Number, number_assert_in_bounds
from core.text import TextKind, text_problem
from security.accounts import staff_account_create
from tests import ui_data

pytestmark = pytest.mark.django_db

HOSTILE = {
    "right-to-left override": "AB\u202eC",
    "isolate": "AB\u2066C",
    "control character": "AB\x07C",
    "BOM": "\ufeffABC",
    "zero-width space": "AB\u200bC",
    "zero-width joiner": "AB\u200dC",
    "lone surrogate": "AB\ud800C",
    "emoji": "AB\U0001f600",
}


@pytest.mark.parametrize("what", HOSTILE)
def test_a_code_with_an_invisible_or_foreign_character_is_refused(regulation, clerk, what):
    with pytest.raises(DomainError, match="^契約者コード: 入力に使えない文字"):
        subscriber_create(actor=clerk, code=HOSTILE[what], name="株式会社テスト")
    assert not Subscriber.objects.exists()


def test_a_code_with_a_right_to_left_override_is_refused(regulation, clerk):
    client = Client()
    client.force_login(clerk)
    response = client.post(reverse("contracts:subscriber_create"), {"code": "C\u202e1", "name": "株式会社テスト"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == [
        "入力に使えない文字（書式制御文字（文字の向きを変える文字）、U+202E）が含まれています。"
    ]
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("code", ["C#001", "Ｃ＃００１", "山田001", "C 001"])
def test_a_code_outside_its_alphabet_is_refused(regulation, clerk, code):
    """Judged as it would be stored: full-width letters and digits are the half-width code (core.search), so
    Ｃ００１ is C001; a character with no place in a code stays refused whatever its width."""
    with pytest.raises(DomainError, match="^契約者コード: 半角英数字と「-」「_」「.」「/」だけで入力してください。$"):
        subscriber_create(actor=clerk, code=code, name="株式会社テスト")
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("what", HOSTILE)
def test_a_name_with_an_invisible_character_or_emoji_is_refused(regulation, clerk, what):
    with pytest.raises(DomainError, match="^契約者名: 入力に使えない文字"):
        subscriber_create(actor=clerk, code="C1", name=f"株式会社{HOSTILE[what]}")
    assert not Subscriber.objects.exists()


def test_a_note_may_span_lines_and_carry_emoji_but_no_control_character(regulation, clerk):
    subscriber = subscriber_create(actor=clerk, code="C1", name="株式会社テスト", note="一行目\r\n二行目\t😀")
    assert subscriber.note == "一行目\r\n二行目\t😀"
    with pytest.raises(DomainError, match="^備考: 入力に使えない文字（制御文字、U\\+001B）"):
        subscriber_update(subscriber=subscriber, actor=clerk, reason="備考の訂正", note="\x1b[31m")
    subscriber.refresh_from_db()
    assert subscriber.note == "一行目\r\n二行目\t😀"


def test_a_name_longer_than_its_column_is_refused_in_japanese_not_a_data_error(regulation, clerk):
    with pytest.raises(DomainError, match=r"^契約者名: 200文字以内で入力してください（201文字あります）。$"):
        subscriber_create(actor=clerk, code="C1", name="あ" * 201)
    with pytest.raises(DomainError, match=r"^契約者コード: 20文字以内"):
        subscriber_create(actor=clerk, code="C" * 21, name="株式会社テスト")
    assert not Subscriber.objects.exists()


def test_a_reason_with_a_right_to_left_override_is_refused_and_reverses_nothing(regulation, clerk, approver, approver2):
    contract = ui_data.billing_contract(clerk=clerk, approver=approver)
    entry = LedgerEntry.objects.get(option_contract=contract)
    before = LedgerEntry.objects.count()
    with pytest.raises(DomainError, match="^取消の理由: 入力に使えない文字"):
        ledger_entry_reverse(entry=entry, reason="誤\u202e記帳", actor=approver2)
    assert LedgerEntry.objects.count() == before


def test_an_application_note_with_a_nul_is_refused(regulation, clerk):
    option, variant = ui_data.swp()
    subscriber = ui_data.swp_subscriber()
    with pytest.raises(DomainError, match="^申込の備考: 入力に使えない文字（NUL"):
        application_submit(
            subscriber=subscriber, kind="new", option=option, variant=variant, quantity=10, note="a\x00", actor=clerk
        )
    assert not Application.objects.exists()


def test_a_staff_account_name_with_a_bidi_isolate_is_refused(db, sysadmin):
    before = get_user_model().objects.count()
    with pytest.raises(DomainError, match="入力に使えない文字"):
        staff_account_create(username="new\u2067user", password=None, actor=sysadmin)
    assert get_user_model().objects.count() == before


def test_a_billing_start_date_after_2099_is_refused(regulation, clerk, approver):
    application = ui_data.approve(
        ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk), approver=approver
    )
    application.refresh_from_db()
    contract = application.option_contract
    rows = LedgerEntry.objects.count()
    with pytest.raises(DomainError, match=r"^課金開始日: 平成元年1月8日 \(1989-01-08\)から令和81年12月31日"):
        option_contract_set_billing_start(
            option_contract=contract, billing_start_date=dt.date(9999, 12, 31), actor=clerk
        )
    contract.refresh_from_db()
    assert contract.billing_start_date is None
    assert LedgerEntry.objects.count() == rows


def test_a_billing_start_date_after_2099_is_refused_on_the_screen(regulation, clerk, approver):
    application = ui_data.approve(
        ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk), approver=approver
    )
    application.refresh_from_db()
    client = Client()
    client.force_login(clerk)
    url = reverse("contracts:optioncontract_billing_start", args=[application.option_contract_id])
    response = client.post(url, {"billing_start_date": "9999-12-31"})
    assert response.status_code == 200
    assert "までの日付を入力してください。" in response.content.decode()
    assert OptionContract.objects.get(pk=application.option_contract_id).billing_start_date is None


@pytest.mark.parametrize("amount", [-1, 2_000_000_001, 10**30, 1.5, "100", True])
def test_a_quote_outside_the_declared_bounds_is_refused(regulation, clerk, approver, amount):
    application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk)
    with pytest.raises(DomainError, match="^見積額: 0円以上2,000,000,000円以下の整数で入力してください。$"):
        application_set_quote(application=application, amount_yen=amount, actor=clerk)


@pytest.mark.parametrize("quantity", [0, 1_000_001, 2**31, 10**30])
def test_a_quantity_outside_the_declared_bounds_is_refused(regulation, clerk, quantity):
    option, variant = ui_data.swp()
    with pytest.raises(DomainError, match="^数量: 1以上1,000,000以下の整数で入力してください。$"):
        application_submit(
            subscriber=ui_data.swp_subscriber(),
            kind="new",
            option=option,
            variant=variant,
            quantity=quantity,
            actor=clerk,
        )
    assert not Application.objects.exists()


def test_the_bounds_of_numbers_are_declared_in_one_place():
    assert number_assert_in_bounds(1_000_000, kind=Number.QUANTITY, label="数量") == 1_000_000
    assert number_assert_in_bounds(0, kind=Number.YEN, label="金額") == 0
    with pytest.raises(DomainError, match="^ページ: 1以上100,000以下の整数で入力してください。$"):
        number_assert_in_bounds(100_001, kind=Number.PAGE, label="ページ")


def test_free_text_keeps_line_breaks_that_one_line_particulars_refuse():
    assert text_problem("一行目\n二行目", kind=TextKind.TEXT) == ""
    assert (
        text_problem("一行目\n二行目", kind=TextKind.LINE)
        == "入力に使えない文字（改行・タブ、U+000A）が含まれています。"
    )


def test_an_edit_that_changes_nothing_says_there_is_no_change_and_writes_no_history(regulation, clerk):
    subscriber = subscriber_create(actor=clerk, code="C1", name="株式会社テスト", kind="corporate")
    versions = subscriber.history.count()
    client = Client()
    client.force_login(clerk)
    data = {"name": "株式会社テスト", "kana": "", "kind": subscriber.kind, "reason": "確認"}
    response = client.post(reverse("contracts:subscriber_update", args=[subscriber.pk]), data, follow=True)
    page = response.content.decode()
    assert "の変更はありません。" in page
    assert "を変更しました。" not in page
    assert subscriber.history.count() == versions
