"""Applications: submit, review, quote, approve, reject, withdraw (DOMAIN §2, §3.4–3.8)."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction

from contracts.billing.charges import month_charges
from contracts.choices import ApplicationKind, ApplicationStatus, LedgerKind, OptionContractStatus
from contracts.models import Application, LedgerEntry, OptionContract
from contracts.services import (
    application_approve,
    application_reject,
    application_set_quote,
    application_start_review,
    application_submit,
    application_withdraw,
    base_contract_end,
    option_contract_set_billing_start,
)
from contracts.services.applications import DECISIVE_TERMS, application_terms_version
from core.clock import JST
from core.errors import DomainError
from options.choices import FeeKind
from tests.factories import (
    add_fee_item,
    option,
    register_migrated_confirmed,
    review_and_approve,
    submit_new,
    subscriber_with_base,
    subscriber_with_line,
    variant,
)

pytestmark = pytest.mark.django_db


def jst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


@pytest.fixture
def web_subscriber(regulation, clerk):
    return subscriber_with_base("web-highgrade2", actor=clerk, code="W0001")


# --- Submission ------------------------------------------------------------------------------------


def test_submit_new_receives_the_application_with_entrant_time_and_basis(web_subscriber, clerk):
    with time_machine.travel(jst(2026, 3, 2, 10, 0), tick=False):
        application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RECEIVED
    assert application.kind == ApplicationKind.NEW
    assert application.entered_by == clerk
    assert application.entered_at == jst(2026, 3, 2, 10, 0)
    assert application.quantity == 10
    assert application.base_contract == web_subscriber.base_contracts.get()
    assert application.carrier_line is None


def test_submit_twice_is_refused_while_the_first_is_open(web_subscriber, clerk):
    first = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    with pytest.raises(DomainError) as refused:
        submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    assert refused.value.code == "duplicate_application"
    assert f"新規利用申込（#{first.pk}、受付）が処理中です" in refused.value.message
    assert Application.objects.count() == 1


def test_submit_new_for_an_option_already_held_is_refused_pointing_to_a_change(web_subscriber, clerk, approver):
    review_and_approve(
        submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk), approver=approver
    )
    with pytest.raises(DomainError, match="既に契約しています.*契約内容変更申込で受け付けてください"):
        submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)


def test_submit_new_of_a_retired_option_is_refused_citing_the_transitional_provision(regulation, clerk, clerk2):
    subscriber = subscriber_with_line("b-flets", actor=clerk, confirmer=clerk2)
    with pytest.raises(DomainError) as refused:
        submit_new(subscriber, "b-flets", "type-e", actor=clerk)
    assert refused.value.article == "平成26年3月1日変更 附則第4項"
    assert refused.value.message == (
        "Bフレッツ接続オプション機能は平成26年3月1日 (2014-03-01)に廃止されたため、同日以後に成立する契約はできません。"
        "（平成26年3月1日変更 附則第4項により、それ以前の契約はフレッツ光接続オプション機能として存続します）"
    )


# --- Rule 1: eligibility at submission and again at approval, naming the article ------------------


def test_eligibility_ipv6_without_fiberaccess_is_refused_at_submission_citing_article_5(regulation, clerk):
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk)
    with pytest.raises(DomainError) as refused:
        submit_new(subscriber, "ipv6", "fiberaccess-f", actor=clerk)
    assert str(refused.value) == (
        "IPv6 接続オプション機能を利用するには IIJ FiberAccess/F サービスの契約者である必要があります（第5条）"
    )
    assert refused.value.article == "第5条"
    assert Application.objects.count() == 0


def test_eligibility_ipv6_with_fiberaccess_is_received(regulation, clerk):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk)
    application = submit_new(subscriber, "ipv6", "fiberaccess-f", actor=clerk)
    assert application.base_contract.service.code == "fiberaccess-f"


def test_eligibility_account_add_on_needs_web_highgrade2_or_standard2_article_3(regulation, clerk):
    outsider = subscriber_with_base("fiberaccess-f", actor=clerk)
    with pytest.raises(DomainError) as refused:
        submit_new(outsider, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    assert str(refused.value) == (
        "IIJ セキュア Web プラットフォーム アカウント追加オプション機能を利用するには "
        "IIJ Web ハイグレード2 サービス又は IIJ Web スタンダード2 サービスの契約者である必要があります（第3条）"
    )
    standard = subscriber_with_base("web-standard2", actor=clerk)
    assert submit_new(standard, "swp-accounts", "additional-accounts", quantity=10, actor=clerk).pk


def test_eligibility_specific_connection_needs_a_confirmed_carrier_line_article_1(regulation, clerk, clerk2):
    no_line = subscriber_with_base("web-highgrade2", actor=clerk)
    with pytest.raises(DomainError) as refused:
        submit_new(no_line, "flets-hikari", "type-e", actor=clerk)
    assert refused.value.article == "第1条"
    assert str(refused.value) == (
        "フレッツ光接続オプション機能を利用するには フレッツ光ネクスト プライオ1又は "
        "コラボ光（フレッツ光ベーシック接続オプション対応回線に対応する回線）の契約"
        "（契約者と当該電気通信事業者との間で締結されたもの）が必要です（第1条）"
    )

    unconfirmed = subscriber_with_line(actor=clerk, confirmer=None, code="L0001")
    with pytest.raises(DomainError) as refused:
        submit_new(unconfirmed, "flets-hikari", "type-e", actor=clerk)
    assert "回線「CAFL0001」は確認が済んでいません（第1条）" in str(refused.value)

    confirmed = subscriber_with_line(actor=clerk, confirmer=clerk2, code="L0002")
    application = submit_new(confirmed, "flets-hikari", "type-e", actor=clerk)
    assert application.carrier_line.line_id == "CAFL0002"


def test_eligibility_is_rechecked_at_approval_a_base_contract_ended_since_submission_fails(regulation, clerk, approver):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk)
    with time_machine.travel(jst(2026, 3, 2, 10), tick=False):
        application = submit_new(subscriber, "ipv6", "fiberaccess-f", actor=clerk)
        application_start_review(application=application, actor=approver)
        base_contract_end(
            base_contract=subscriber.base_contracts.get(), end_date=dt.date(2026, 3, 5), actor=clerk, reason="解約"
        )
    with time_machine.travel(jst(2026, 3, 6, 9), tick=False):
        with pytest.raises(DomainError) as refused:
            application_approve(application=application, actor=approver)
    assert refused.value.article == "第5条"
    assert "IIJ FiberAccess/F サービスの契約者である必要があります（第5条）" in str(refused.value)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert OptionContract.objects.count() == 0


def test_eligibility_is_rechecked_at_approval_the_last_day_of_the_base_contract_still_counts(
    regulation, clerk, approver
):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk)
    with time_machine.travel(jst(2026, 3, 2, 10), tick=False):
        application = submit_new(subscriber, "ipv6", "fiberaccess-f", actor=clerk)
        application_start_review(application=application, actor=approver)
        base_contract_end(
            base_contract=subscriber.base_contracts.get(), end_date=dt.date(2026, 3, 5), actor=clerk, reason="解約"
        )
    with time_machine.travel(jst(2026, 3, 5, 23, 59), tick=False):
        application_approve(application=application, actor=approver)
    assert OptionContract.objects.get().contracted_on == dt.date(2026, 3, 5)


# --- Rule 2: blocks --------------------------------------------------------------------------------


def test_blocks_25_accounts_are_refused_at_submission_with_a_message(web_subscriber, clerk):
    with pytest.raises(DomainError) as refused:
        submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=25, actor=clerk)
    assert str(refused.value) == (
        "IIJ セキュア Web プラットフォーム追加アカウント使用料の数量は10アカウント単位で申し込んでください"
        "（25アカウントは10の倍数ではありません。例: 20または30）。（第4条）"
    )
    assert Application.objects.count() == 0


def test_blocks_30_accounts_are_3_blocks_and_9000_yen_a_month(web_subscriber, clerk, approver):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=30, actor=clerk)
    review_and_approve(application, approver=approver)
    contract = OptionContract.objects.get()
    option_contract_set_billing_start(option_contract=contract, billing_start_date=contract.contracted_on, actor=clerk)
    row = LedgerEntry.objects.get(kind=LedgerKind.MONTHLY)
    assert (row.quantity, row.blocks, row.unit_amount_yen, row.amount_yen) == (30, 3, 3000, 9000)


# --- Rule 3: the individually quoted fee (タイプA) -----------------------------------------------------


def test_quote_required_for_type_a_approval_refused_until_the_quote_is_entered(regulation, clerk, clerk2, approver):
    subscriber = subscriber_with_line(actor=clerk, confirmer=clerk2)
    application = submit_new(subscriber, "flets-hikari", "type-a", quantity=2, actor=clerk)
    application_start_review(application=application, actor=approver)
    with pytest.raises(DomainError) as refused:
        application_approve(application=application, actor=approver)
    assert refused.value.code == "quote_missing"
    assert str(refused.value) == (
        "「IIJ 接続アカウント管理サービス/タイプA」の料金は当社が別途契約者に示す金額です。"
        "見積額を入力してから承諾してください。（第2条）"
    )
    assert OptionContract.objects.count() == 0

    with time_machine.travel(jst(2026, 3, 3, 11), tick=False):
        application_set_quote(application=application, amount_yen=1200, actor=clerk)
    application_approve(application=application, actor=approver)
    contract = OptionContract.objects.get()
    assert (contract.quoted_amount_yen, contract.quoted_by) == (1200, clerk)
    application.refresh_from_db()
    assert (application.quoted_by, application.quoted_at) == (clerk, jst(2026, 3, 3, 11))


def test_quote_must_be_a_whole_number_of_yen_not_below_zero(regulation, clerk, clerk2):
    subscriber = subscriber_with_line(actor=clerk, confirmer=clerk2)
    application = submit_new(subscriber, "flets-hikari", "type-a", quantity=2, actor=clerk)
    for bad in (-1, 1.5, "100", True, 2_000_000_001, 10**30):
        with pytest.raises(DomainError, match="見積額: 0円以上2,000,000,000円以下の整数で入力してください。"):
            application_set_quote(application=application, amount_yen=bad, actor=clerk)
    application_set_quote(application=application, amount_yen=0, actor=clerk)
    application.refresh_from_db()
    assert application.quoted_amount_yen == 0


def test_quote_is_refused_for_a_fee_that_is_not_quoted(web_subscriber, clerk):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    with pytest.raises(DomainError, match="見積の対象ではありません"):
        application_set_quote(application=application, amount_yen=100, actor=clerk)


# --- Rule 4: four eyes -----------------------------------------------------------------------------


def test_four_eyes_the_entrant_cannot_approve_their_own_application(web_subscriber, sysadmin):
    # The system administrator may both enter and decide, so only four eyes stands in the way.
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=sysadmin)
    application_start_review(application=application, actor=sysadmin)
    with pytest.raises(DomainError) as refused:
        application_approve(application=application, actor=sysadmin)
    assert refused.value.code == "four_eyes"
    assert refused.value.message == (
        "申込を受け付けた職員（sysadmin）は、同じ申込を承諾・不承諾できません。受付者とは別の承認者が決裁してください。"
    )
    with pytest.raises(DomainError, match="同じ申込を承諾・不承諾できません"):
        application_reject(application=application, reason="不備", actor=sysadmin)
    application.refresh_from_db()
    assert (application.status, application.decided_by) == (ApplicationStatus.UNDER_REVIEW, None)


def test_application_terms_version_changes_with_every_decisive_term(web_subscriber, clerk):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    version = application_terms_version(application)
    assert version == application_terms_version(Application.objects.get(pk=application.pk))
    for name, value in [("quantity", 20), ("quoted_amount_yen", 0), ("effective_date", dt.date(2026, 5, 1))]:
        assert name in DECISIVE_TERMS
        changed = Application.objects.get(pk=application.pk)
        setattr(changed, name, value)
        assert application_terms_version(changed) != version, name
    changed = Application.objects.get(pk=application.pk)
    changed.note = "備考だけの変更"  # not a term the approval puts in force
    assert application_terms_version(changed) == version


def test_application_assert_version_seen_a_stale_version_refuses_the_approval_and_writes_nothing(
    web_subscriber, clerk, approver
):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    application_start_review(application=application, actor=approver)
    seen = application_terms_version(application)
    Application.objects.filter(pk=application.pk).update(quantity=20)  # changed behind the approver's page
    history = Application.history.count()
    with pytest.raises(DomainError) as refused:
        application_approve(application=application, actor=approver, seen_version=seen)
    assert refused.value.code == "stale_version"
    assert "この画面を開いた後に変更されています" in refused.value.message
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert Application.history.count() == history
    assert not OptionContract.objects.exists() and not LedgerEntry.objects.exists()
    application_approve(application=application, actor=approver, seen_version=application_terms_version(application))
    assert OptionContract.objects.get(origin_application=application).quantity == 20


def test_four_eyes_the_database_constraint_alone_refuses_when_the_service_check_is_bypassed(web_subscriber, clerk):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    application.decided_by = clerk
    application.decided_at = application.entered_at
    application.status = ApplicationStatus.REJECTED
    application.rejection_reason = "自分で決裁"
    with pytest.raises(IntegrityError, match="application_four_eyes"), transaction.atomic():
        application.save()


def test_decisions_need_the_approver_role(web_subscriber, clerk, clerk2, approver):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    with pytest.raises(DomainError, match="申込の審査を開始する権限がありません。"):
        application_start_review(application=application, actor=clerk2)
    application_start_review(application=application, actor=approver)
    with pytest.raises(DomainError, match="申込を承諾する権限がありません。"):
        application_approve(application=application, actor=clerk2)
    with pytest.raises(DomainError, match="申込を不承諾とする権限がありません。"):
        application_reject(application=application, reason="対象外", actor=clerk2)


# --- The workflow: one map of transitions ------------------------------------------------------------


def test_approval_is_allowed_from_under_review_only(web_subscriber, clerk, approver):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    with pytest.raises(DomainError) as refused:
        application_approve(application=application, actor=approver)
    assert refused.value.message == (
        f"申込 #{application.pk} は「受付」の状態です。審査を開始してから決裁（承諾）してください。"
    )


def test_approval_of_new_writes_the_approved_contract_stamped_with_the_approval(web_subscriber, clerk, approver):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    with time_machine.travel(jst(2026, 3, 3, 0, 30), tick=False):  # 2026-03-02 15:30 UTC
        application_start_review(application=application, actor=approver)
        application_approve(application=application, actor=approver)
    application.refresh_from_db()
    contract = OptionContract.objects.get()
    assert (application.status, application.decided_by, application.decided_at) == (
        ApplicationStatus.APPROVED,
        approver,
        jst(2026, 3, 3, 0, 30),
    )
    assert application.option_contract == contract
    assert contract.origin_application == application
    assert (contract.status, contract.approved_at, contract.approved_by, contract.contracted_on) == (
        OptionContractStatus.APPROVED,
        jst(2026, 3, 3, 0, 30),
        approver,
        dt.date(2026, 3, 3),
    )
    assert (contract.quantity, contract.base_contract, contract.billing_start_date) == (
        10,
        web_subscriber.base_contracts.get(),
        None,
    )
    # The seed has no initial fee items: no 初期費用 row while there is none (DOMAIN §3.14).
    assert LedgerEntry.objects.count() == 0


def test_retried_approval_by_the_same_approver_writes_nothing_more(web_subscriber, clerk, approver, approver2):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    review_and_approve(application, approver=approver)
    history = application.history.count()
    again = application_approve(application=application, actor=approver)
    assert again.status == ApplicationStatus.APPROVED
    assert (OptionContract.objects.count(), application.history.count()) == (1, history)
    with pytest.raises(DomainError) as refused:
        application_approve(application=application, actor=approver2)
    assert refused.value.code == "already_decided"
    assert f"申込 #{application.pk} は既に「承諾」です（approver、" in refused.value.message


def test_reject_needs_a_reason_and_records_it(web_subscriber, clerk, approver):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    application_start_review(application=application, actor=approver)
    with pytest.raises(DomainError, match="不承諾の理由を入力してください。"):
        application_reject(application=application, reason="  ", actor=approver)
    application_reject(application=application, reason="申込書に押印がありません", actor=approver)
    application.refresh_from_db()
    assert (application.status, application.rejection_reason, application.decided_by) == (
        ApplicationStatus.REJECTED,
        "申込書に押印がありません",
        approver,
    )
    with pytest.raises(DomainError, match="既に「不承諾」です"):
        application_approve(application=application, actor=approver)


def test_withdraw_before_a_decision_records_the_reason(web_subscriber, clerk, approver):
    application = submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk)
    with pytest.raises(DomainError, match="取下げの理由を入力してください。"):
        application_withdraw(application=application, reason="", actor=clerk)
    with time_machine.travel(jst(2026, 3, 4, 15), tick=False):
        application_withdraw(application=application, reason="お客様の都合", actor=clerk)
    application.refresh_from_db()
    assert (application.status, application.withdrawal_reason, application.withdrawn_at) == (
        ApplicationStatus.WITHDRAWN,
        "お客様の都合",
        jst(2026, 3, 4, 15),
    )
    with pytest.raises(DomainError, match="既に「取下げ」です"):
        application_start_review(application=application, actor=approver)


# --- Change and cancellation -----------------------------------------------------------------------


@pytest.fixture
def billing_contract(web_subscriber, clerk, approver):
    with time_machine.travel(jst(2026, 3, 2, 10), tick=False):
        review_and_approve(
            submit_new(web_subscriber, "swp-accounts", "additional-accounts", quantity=10, actor=clerk),
            approver=approver,
        )
        contract = OptionContract.objects.get()
        option_contract_set_billing_start(option_contract=contract, billing_start_date=dt.date(2026, 4, 1), actor=clerk)
    return contract


def test_change_copies_option_and_variant_from_the_contract(billing_contract, clerk):
    application = application_submit(
        subscriber=billing_contract.subscriber,
        kind=ApplicationKind.CHANGE,
        option_contract=billing_contract,
        quantity=30,
        effective_date=dt.date(2026, 5, 1),
        actor=clerk,
    )
    assert (application.option, application.variant, application.quantity) == (
        option("swp-accounts"),
        variant("swp-accounts", "additional-accounts"),
        30,
    )


def test_change_with_nothing_to_change_is_refused(billing_contract, clerk):
    with pytest.raises(DomainError, match="変更内容がありません"):
        application_submit(
            subscriber=billing_contract.subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=billing_contract,
            quantity=10,
            actor=clerk,
        )


def test_change_of_quantity_writes_a_new_monthly_row_from_the_effective_date(billing_contract, clerk, approver):
    with time_machine.travel(jst(2026, 4, 20, 14), tick=False):
        application = application_submit(
            subscriber=billing_contract.subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=billing_contract,
            quantity=30,
            effective_date=dt.date(2026, 5, 1),
            actor=clerk,
        )
        review_and_approve(application, approver=approver)
    billing_contract.refresh_from_db()
    assert billing_contract.quantity == 30
    rows = list(LedgerEntry.objects.order_by("effective_from").values_list("kind", "effective_from", "amount_yen"))
    assert rows == [
        (LedgerKind.MONTHLY, dt.date(2026, 4, 1), 3000),
        (LedgerKind.MONTHLY, dt.date(2026, 5, 1), 9000),
    ]
    change_row = LedgerEntry.objects.get(effective_from=dt.date(2026, 5, 1))
    assert (change_row.application, change_row.arisen_at, change_row.booked_month) == (
        application,
        jst(2026, 5, 1),
        dt.date(2026, 5, 1),
    )


def test_change_effective_on_or_before_the_current_monthly_start_is_refused(billing_contract, clerk, approver):
    application = application_submit(
        subscriber=billing_contract.subscriber,
        kind=ApplicationKind.CHANGE,
        option_contract=billing_contract,
        quantity=20,
        effective_date=dt.date(2026, 4, 1),
        actor=clerk,
    )
    application_start_review(application=application, actor=approver)
    with pytest.raises(DomainError, match=r"現在の月額費用の適用開始日（令和8年4月1日 \(2026-04-01\)）より後の日付"):
        application_approve(application=application, actor=approver)


@pytest.fixture
def one_time_fee(regulation, tariff_manager):
    # Entered before any obligation cites the revision: a cited revision is frozen.
    return add_fee_item(
        "swp-accounts",
        "additional-accounts",
        FeeKind.ONE_TIME,
        1000,
        revision_on=dt.date(2026, 2, 1),
        actor=tariff_manager,
        name="アカウント追加作業料",
    )


def test_change_approval_writes_the_one_time_fee_stamped_with_the_approval(
    one_time_fee, billing_contract, clerk, approver
):
    with time_machine.travel(jst(2026, 4, 20, 14), tick=False):
        application = application_submit(
            subscriber=billing_contract.subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=billing_contract,
            quantity=30,
            effective_date=dt.date(2026, 5, 1),
            actor=clerk,
        )
        review_and_approve(application, approver=approver)
    row = LedgerEntry.objects.get(kind=LedgerKind.ONE_TIME)
    assert (row.amount_yen, row.arisen_at, row.application, row.booked_month, row.revision.title) == (
        1000,
        jst(2026, 4, 20, 14),
        application,
        dt.date(2026, 4, 1),
        "令和8年2月1日変更",
    )


def _migrated_swp_changed_10_to_20(*, clerk, approver, effective: dt.date):
    """A migrated 10-account contract billing since 2015, changed to 20 accounts from `effective` (approved 4/20)."""
    subscriber = subscriber_with_base("web-highgrade2", actor=clerk, start_date=dt.date(2015, 1, 1))
    contract = register_migrated_confirmed(
        subscriber=subscriber,
        option=option("swp-accounts"),
        variant=variant("swp-accounts", "additional-accounts"),
        quantity=10,
        contracted_on=dt.date(2015, 4, 1),
        billing_start_date=dt.date(2015, 4, 1),
        base_contract=subscriber.base_contracts.get(),
        actor=clerk,
    )
    with time_machine.travel(jst(2026, 4, 20, 14), tick=False):
        change = application_submit(
            subscriber=subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=contract,
            quantity=20,
            effective_date=effective,
            actor=clerk,
        )
        review_and_approve(change, approver=approver)
    return contract, change


def test_change_of_a_migrated_billing_contract_writes_its_first_monthly_row(regulation, clerk, approver):
    contract, change = _migrated_swp_changed_10_to_20(clerk=clerk, approver=approver, effective=dt.date(2026, 5, 1))
    row = LedgerEntry.objects.get()
    assert (row.kind, row.effective_from, row.quantity, row.amount_yen, row.application) == (
        LedgerKind.MONTHLY,
        dt.date(2026, 5, 1),
        20,
        6000,
        change,
    )


def test_change_of_a_migrated_billing_contract_bills_the_registered_terms_until_its_effective_date(
    regulation, clerk, approver
):
    contract, change = _migrated_swp_changed_10_to_20(clerk=clerk, approver=approver, effective=dt.date(2026, 5, 16))

    # April is still 10 accounts (3,000円); May: 10 accounts 5/1–5/15, 20 accounts 5/16–5/31.
    [april] = month_charges(month=dt.date(2026, 4, 1))
    [may] = month_charges(month=dt.date(2026, 5, 1))
    assert (april.quantity, april.amount_yen) == (10, 3000)
    assert (may.quantity, may.amount_yen) == (20, 3000 * 15 // 31 + 6000 * 16 // 31)


def test_change_of_variant_from_type_a_to_type_e(regulation, clerk, clerk2, approver):
    subscriber = subscriber_with_line(actor=clerk, confirmer=clerk2)
    application = submit_new(subscriber, "flets-hikari", "type-a", quantity=2, quoted_amount_yen=1500, actor=clerk)
    review_and_approve(application, approver=approver)
    contract = OptionContract.objects.get()
    change = application_submit(
        subscriber=subscriber,
        kind=ApplicationKind.CHANGE,
        option_contract=contract,
        variant=variant("flets-hikari", "type-e"),
        actor=clerk,
    )
    assert (change.quoted_amount_yen, change.quantity) == (None, 2)
    review_and_approve(change, approver=approver)
    contract.refresh_from_db()
    assert (contract.variant.code, contract.quoted_amount_yen) == ("type-e", None)


def test_cancel_needs_the_last_day_of_service(billing_contract, clerk):
    with pytest.raises(DomainError, match="解約日（最終利用日）を入力してください。"):
        application_submit(
            subscriber=billing_contract.subscriber,
            kind=ApplicationKind.CANCEL,
            option_contract=billing_contract,
            actor=clerk,
        )
    with pytest.raises(DomainError, match="解約日（.*）は課金開始日・契約成立日（.*）より前にできません。"):
        application_submit(
            subscriber=billing_contract.subscriber,
            kind=ApplicationKind.CANCEL,
            option_contract=billing_contract,
            effective_date=dt.date(2026, 3, 31),
            actor=clerk,
        )


def test_cancel_approval_ends_the_contract_on_its_end_date_and_writes_no_obligation(billing_contract, clerk, approver):
    application = application_submit(
        subscriber=billing_contract.subscriber,
        kind=ApplicationKind.CANCEL,
        option_contract=billing_contract,
        effective_date=dt.date(2026, 6, 30),
        actor=clerk,
    )
    rows = LedgerEntry.objects.count()
    review_and_approve(application, approver=approver)
    billing_contract.refresh_from_db()
    assert (billing_contract.status, billing_contract.end_date) == (OptionContractStatus.ENDED, dt.date(2026, 6, 30))
    assert LedgerEntry.objects.count() == rows
    with pytest.raises(DomainError, match="解約済みです"):
        application_submit(
            subscriber=billing_contract.subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=billing_contract,
            quantity=20,
            actor=clerk,
        )


def test_one_open_change_or_cancel_per_contract(billing_contract, clerk):
    application_submit(
        subscriber=billing_contract.subscriber,
        kind=ApplicationKind.CHANGE,
        option_contract=billing_contract,
        quantity=20,
        actor=clerk,
    )
    with pytest.raises(DomainError, match="処理中の契約内容変更申込"):
        application_submit(
            subscriber=billing_contract.subscriber,
            kind=ApplicationKind.CANCEL,
            option_contract=billing_contract,
            effective_date=dt.date(2026, 6, 30),
            actor=clerk,
        )


# --- Rule 6: the price in force at the approval's JST date ------------------------------------------


@pytest.fixture
def initial_fees(regulation, tariff_manager):
    """An initial fee of 1,000円 from 令和7年4月1日, 2,000円 from 令和8年2月1日, 3,000円 from 令和8年6月1日."""
    for day, amount in ((dt.date(2025, 4, 1), 1000), (dt.date(2026, 2, 1), 2000), (dt.date(2026, 6, 1), 3000)):
        add_fee_item(
            "ipv6", "fiberaccess-f", FeeKind.INITIAL, amount, revision_on=day, actor=tariff_manager, name="初期費用"
        )


def _approve_ipv6_at(instant, *, clerk, approver):
    subscriber = subscriber_with_base("fiberaccess-f", actor=clerk)
    with time_machine.travel(instant, tick=False):
        application = submit_new(subscriber, "ipv6", "fiberaccess-f", actor=clerk)
        review_and_approve(application, approver=approver)
    return LedgerEntry.objects.get(application=application)


@pytest.mark.parametrize(
    ("instant", "amount", "revision"),
    [
        (jst(2026, 5, 31, 23, 59), 2000, "令和8年2月1日変更"),
        (jst(2026, 6, 1, 0, 0), 3000, "令和8年6月1日変更"),
        (jst(2026, 1, 31, 23, 59), 1000, "令和7年4月1日変更"),
        (jst(2026, 2, 1, 0, 30), 2000, "令和8年2月1日変更"),  # 2026-01-31 15:30 UTC: the JST date decides
    ],
)
def test_prices_approval_takes_the_fee_of_the_revision_in_force_on_its_jst_date(
    initial_fees, clerk, approver, instant, amount, revision
):
    row = _approve_ipv6_at(instant, clerk=clerk, approver=approver)
    assert (row.kind, row.amount_yen, row.revision.title, row.arisen_at) == (
        LedgerKind.INITIAL,
        amount,
        revision,
        instant,
    )
    assert row.booked_month == instant.date().replace(day=1)
    assert row.fee_item.revision == row.revision
    assert (row.article, row.quantity, row.created_by) == ("第6条", 1, approver)


def test_prices_0030_jst_on_the_effective_date_is_the_day_before_in_utc(initial_fees, clerk, approver):
    instant = dt.datetime(2026, 1, 31, 15, 30, tzinfo=dt.UTC)
    row = _approve_ipv6_at(instant, clerk=clerk, approver=approver)
    assert (row.amount_yen, row.revision.effective_on) == (2000, dt.date(2026, 2, 1))
    assert row.option_contract.contracted_on == dt.date(2026, 2, 1)
