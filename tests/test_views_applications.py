"""The application screens: 確認 then 申込, the decision buttons, four eyes, and the ledger rows they lead to."""

import datetime as dt

import pytest
from django.urls import reverse

from contracts.choices import ApplicationKind, ApplicationStatus, LedgerKind, OptionContractStatus
from contracts.models import Application, LedgerEntry, OptionContract
from contracts.services.applications import (
    application_set_quote,
    application_start_review,
    application_submit,
    application_terms_version,
)
from core import clock
from core.wareki import format_date, to_wareki
from options.choices import FeeKind
from options.models import Option, OptionVariant
from tests import ui_data
from tests.factories import CarrierLineContractFactory, SubscriberFactory, add_fee_item, approved_swp_contract

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def new_application_data(subscriber, variant, quantity, **extra):
    return {
        "kind": ApplicationKind.NEW,
        "subscriber_code": subscriber.code,
        "variant": variant.pk,
        "quantity": quantity,
        "quoted_amount_yen": "",
        "note": "",
        **extra,
    }


def seen(application):
    """The approve form as the approver's page carries it: the version of the terms shown."""
    application.refresh_from_db()
    return {"version": application_terms_version(application)}


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


class TestNewApplication:
    url = reverse("contracts:application_create")

    def test_confirm_shows_eligibility_and_the_fee_preview_and_saves_nothing(self, regulation, client, clerk):
        subscriber = ui_data.swp_subscriber()
        _, variant = ui_data.swp()
        response = login(client, clerk).post(
            self.url, {**new_application_data(subscriber, variant, 30), "step": "confirm"}
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "利用の条件を満たしています" in html
        assert "9,000円" in html
        assert "10アカウントあたり 3,000円" in html
        assert 'name="step" value="submit"' in html
        assert not Application.objects.exists()

    def test_submit_receives_the_application_and_redirects_to_it(self, regulation, client, clerk):
        subscriber = ui_data.swp_subscriber()
        _, variant = ui_data.swp()
        response = login(client, clerk).post(
            self.url, {**new_application_data(subscriber, variant, 30), "step": "submit"}
        )
        application = Application.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("contracts:application_detail", args=[application.pk])
        assert (application.status, application.entered_by, application.quantity) == (
            ApplicationStatus.RECEIVED,
            clerk,
            30,
        )

    def test_25_accounts_are_refused_with_the_block_rule_and_no_submit_button(self, regulation, client, clerk):
        subscriber = ui_data.swp_subscriber()
        _, variant = ui_data.swp()
        response = login(client, clerk).post(
            self.url, {**new_application_data(subscriber, variant, 25), "step": "confirm"}
        )
        html = response.content.decode()
        assert "10アカウント単位で申し込んでください" in html
        assert "20または30" in html
        assert 'value="submit"' not in html

    def test_a_refused_eligibility_names_the_article(self, regulation, client, clerk):
        subscriber = SubscriberFactory()  # no IIJ Web ハイグレード2 / スタンダード2 contract
        _, variant = ui_data.swp()
        response = login(client, clerk).post(
            self.url, {**new_application_data(subscriber, variant, 10), "step": "confirm"}
        )
        html = response.content.decode()
        [error] = response.context["form"].errors["variant"]  # by the option it is about, as 申込 says it
        assert "の契約者である必要があります（第3条）" in error
        assert 'value="submit"' not in html
        assert "利用の条件を満たしています" not in html

    def test_a_forced_submit_of_a_refused_application_is_a_form_error_not_a_500(self, regulation, client, clerk):
        subscriber = SubscriberFactory()
        _, variant = ui_data.swp()
        response = login(client, clerk).post(
            self.url, {**new_application_data(subscriber, variant, 10), "step": "submit"}
        )
        assert response.status_code == 200
        assert "第3条" in response.context["form"].errors["variant"][0]
        assert not Application.objects.exists()

    def test_an_unknown_subscriber_code_is_a_field_error(self, regulation, client, clerk):
        _, variant = ui_data.swp()
        data = new_application_data(SubscriberFactory.build(code="NOPE"), variant, 10)
        response = login(client, clerk).post(self.url, {**data, "step": "confirm"})
        assert response.context["form"].errors["subscriber_code"] == [
            "「NOPE」に当てはまる契約者は見つかりません（契約者コード・名前・フリガナで探しました）。"
        ]

    def test_a_quoted_fee_may_be_submitted_without_its_quote(self, regulation, client, clerk):
        subscriber = SubscriberFactory()
        CarrierLineContractFactory(subscriber=subscriber)
        variant = OptionVariant.objects.get(option__code="flets-hikari", code="type-a")
        response = login(client, clerk).post(
            self.url, {**new_application_data(subscriber, variant, 2), "step": "confirm"}
        )
        html = response.content.decode()
        assert "見積額は承諾までに入力してください" in html
        assert 'value="submit"' in html

    def test_the_subscriber_page_prefills_the_code(self, regulation, client, clerk):
        subscriber = ui_data.swp_subscriber()
        response = login(client, clerk).get(self.url + f"?subscriber={subscriber.code}")
        assert response.context["form"].initial["subscriber_code"] == subscriber.code


class TestDecision:
    def test_approve_then_billing_start_writes_the_monthly_row_of_9000_yen(self, regulation, client, clerk, approver):
        application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk, quantity=30)
        login(client, approver)
        response = client.post(reverse("contracts:application_start_review", args=[application.pk]))
        assert response.status_code == 302
        response = client.post(
            reverse("contracts:application_approve", args=[application.pk]), seen(application), follow=True
        )
        # No initial fee item is in force: the message says the obligation arose and that no row was written.
        assert any(
            m.startswith(f"申込 #{application.pk}（新規利用申込）を承諾しました。初期費用の支払義務は承諾日時")
            and "台帳に記帳した行はありません" in m
            for m in messages_of(response)
        ), messages_of(response)
        contract = OptionContract.objects.get(origin_application=application)
        assert contract.status == OptionContractStatus.APPROVED

        login(client, clerk)
        today = clock.today()
        response = client.post(
            reverse("contracts:optioncontract_billing_start", args=[contract.pk]),
            {"billing_start_date": to_wareki(today)},
            follow=True,
        )
        row = LedgerEntry.objects.get(option_contract=contract)
        assert (
            f"課金開始日を{format_date(today)}に登録しました。月額費用の支払義務を記帳しました: "
            f"#{row.pk} 月額 9,000円（{format_date(today)}から）。"
        ) in messages_of(response)
        assert (row.kind, row.amount_yen, row.quantity, row.blocks, row.effective_from) == (
            LedgerKind.MONTHLY,
            9000,
            30,
            3,
            today,
        )
        assert "9,000円" in response.content.decode()

    def test_the_approver_sees_the_decision_forms(self, regulation, client, clerk, approver):
        application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk)
        application_start_review(application=application, actor=approver)
        html = (
            login(client, approver).get(reverse("contracts:application_detail", args=[application.pk])).content.decode()
        )
        assert reverse("contracts:application_approve", args=[application.pk]) in html
        assert reverse("contracts:application_reject", args=[application.pk]) in html
        assert "data-once" in html

    @pytest.mark.parametrize("who", ["clerk", "accounting", "tariff_manager"])
    def test_roles_without_the_decision_permission_see_no_decision_form_and_a_post_is_403(
        self, regulation, client, clerk, approver, accounting, tariff_manager, who
    ):
        application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk)
        application_start_review(application=application, actor=approver)
        login(client, {"clerk": clerk, "accounting": accounting, "tariff_manager": tariff_manager}[who])
        html = client.get(reverse("contracts:application_detail", args=[application.pk])).content.decode()
        assert reverse("contracts:application_approve", args=[application.pk]) not in html
        assert "承諾する" not in html
        response = client.post(reverse("contracts:application_approve", args=[application.pk]))
        assert response.status_code == 403
        application.refresh_from_db()
        assert application.status == ApplicationStatus.UNDER_REVIEW

    def test_the_application_page_and_its_approval_join_at_most_eight_tables_per_query(
        self, regulation, client, clerk, approver
    ):
        """PostgreSQL plans a join of more tables than geqo_threshold (12) by search; the page's one join of
        fourteen took 7–16 ms to plan, more than the approval's writes (bench/pages.py). Eight stay cheap."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk)
        application_start_review(application=application, actor=approver)
        login(client, approver)
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("contracts:application_detail", args=[application.pk]))
            approved = client.post(reverse("contracts:application_approve", args=[application.pk]), seen(application))
        assert page.status_code == 200 and approved.status_code == 302
        assert "根拠の基本サービス契約" in page.content.decode()  # the base contract, read by its own query, is shown
        joins = [(query["sql"].count(" JOIN "), query["sql"][:200]) for query in captured.captured_queries]
        assert max(joins)[0] <= 7, max(joins)

    def test_a_change_application_page_shows_its_option_contract_read_by_its_own_query(
        self, regulation, client, clerk, approver
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from contracts.services import application_submit

        contract = approved_swp_contract(clerk=clerk, approver=approver, quantity=30)
        application = application_submit(
            subscriber=contract.subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=contract,
            effective_date=clock.today(),
            quantity=40,
            actor=clerk,
        )
        application_start_review(application=application, actor=approver)
        with CaptureQueriesContext(connection) as captured:
            html = login(client, approver).get(reverse("contracts:application_detail", args=[application.pk]))
        assert html.status_code == 200
        shown = html.content.decode()
        assert f"#{contract.pk} {contract.option.name} ／ {contract.variant.name}" in shown
        assert max(query["sql"].count(" JOIN ") for query in captured.captured_queries) <= 7

    def test_four_eyes_the_entrant_sees_no_approve_button_and_a_forged_post_is_refused(
        self, regulation, client, sysadmin, approver
    ):
        # システム管理者 may both enter and decide; on their own application they may not decide.
        application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=sysadmin)
        application_start_review(application=application, actor=approver)
        url = reverse("contracts:application_detail", args=[application.pk])
        html = login(client, sysadmin).get(url).content.decode()
        assert reverse("contracts:application_approve", args=[application.pk]) not in html
        assert "あなたが受付したため、承諾・不承諾はできません" in html

        response = client.post(reverse("contracts:application_approve", args=[application.pk]), seen(application))
        assert response.status_code == 200
        errors = response.context["approve_form"].non_field_errors()
        assert len(errors) == 1 and "受付" in errors[0]
        assert response.content.decode().count(errors[0]) == 1
        application.refresh_from_db()
        assert application.status == ApplicationStatus.UNDER_REVIEW
        assert not OptionContract.objects.exists()

    def test_a_double_click_approves_once(self, regulation, client, clerk, approver, approver2):
        application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk)
        application_start_review(application=application, actor=approver)
        url = reverse("contracts:application_approve", args=[application.pk])
        login(client, approver)
        data = seen(application)
        assert client.post(url, data).status_code == 302
        assert client.post(url, data).status_code == 302  # the retried request finds it done
        login(client, approver2)
        response = client.post(url, data)
        assert response.status_code == 200
        error = response.context["approve_form"].non_field_errors()[0]
        assert error in response.content.decode()  # shown although the approve button is gone
        assert OptionContract.objects.count() == 1
        assert Application.history.filter(id=application.pk, status=ApplicationStatus.APPROVED).count() == 1

    def test_application_assert_version_seen_a_quote_entered_after_the_page_was_loaded_refuses_the_approval(
        self, regulation, client, clerk, approver
    ):
        subscriber = SubscriberFactory()
        CarrierLineContractFactory(subscriber=subscriber)
        option = Option.objects.get(code="flets-hikari")
        application = application_submit(
            subscriber=subscriber,
            kind=ApplicationKind.NEW,
            option=option,
            variant=option.variants.get(code="type-a"),
            quantity=2,
            quoted_amount_yen=1000,
            actor=clerk,
        )
        application_start_review(application=application, actor=approver)
        detail = reverse("contracts:application_detail", args=[application.pk])
        page = login(client, approver).get(detail)
        version = page.context["approve_form"].initial["version"]
        assert f'name="version" value="{version}"' in page.content.decode()
        application_set_quote(application=application, amount_yen=5000, actor=clerk)  # while the page is open
        history = Application.history.filter(id=application.pk).count()

        response = client.post(reverse("contracts:application_approve", args=[application.pk]), {"version": version})
        assert response.status_code == 200
        [error] = response.context["approve_form"].non_field_errors()
        assert "この画面を開いた後に変更されています" in error
        assert error in response.content.decode()
        application.refresh_from_db()
        assert application.status == ApplicationStatus.UNDER_REVIEW
        assert Application.history.filter(id=application.pk).count() == history
        assert not OptionContract.objects.exists() and not LedgerEntry.objects.exists()
        # Reloaded, the page carries the new version, and the approval goes through on the 5,000円 quote.
        fresh = client.get(detail).context["approve_form"].initial["version"]
        assert fresh != version
        assert (
            client.post(reverse("contracts:application_approve", args=[application.pk]), {"version": fresh}).status_code
            == 302
        )
        assert OptionContract.objects.get(origin_application=application).quoted_amount_yen == 5000

    def test_an_approval_without_the_version_is_refused(self, regulation, client, clerk, approver):
        application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk)
        application_start_review(application=application, actor=approver)
        response = login(client, approver).post(reverse("contracts:application_approve", args=[application.pk]))
        assert response.status_code == 200
        assert response.context["approve_form"].non_field_errors() == [
            "承諾する内容の版がありません。画面を開き直してから承諾してください。"
        ]
        assert not OptionContract.objects.exists()

    def test_reject_needs_a_reason(self, regulation, client, clerk, approver):
        application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk)
        application_start_review(application=application, actor=approver)
        url = reverse("contracts:application_reject", args=[application.pk])
        login(client, approver)
        response = client.post(url, {"reason": ""})
        assert response.status_code == 200
        assert response.context["reject_form"].errors["reason"]
        response = client.post(url, {"reason": "利用の条件を満たす契約の確認が取れないため"})
        assert response.status_code == 302
        application.refresh_from_db()
        assert application.status == ApplicationStatus.REJECTED
        assert application.rejection_reason == "利用の条件を満たす契約の確認が取れないため"

    def test_the_clerk_withdraws_with_a_reason(self, regulation, client, clerk):
        application = ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk)
        response = login(client, clerk).post(
            reverse("contracts:application_withdraw", args=[application.pk]), {"reason": "契約者からの取下げ依頼"}
        )
        assert response.status_code == 302
        application.refresh_from_db()
        assert application.status == ApplicationStatus.WITHDRAWN

    def test_the_quote_is_entered_on_the_application(self, regulation, client, clerk):
        subscriber = SubscriberFactory()
        CarrierLineContractFactory(subscriber=subscriber)
        option = Option.objects.get(code="flets-hikari")
        variant = option.variants.get(code="type-a")
        application = application_submit(
            subscriber=subscriber, kind=ApplicationKind.NEW, option=option, variant=variant, quantity=2, actor=clerk
        )
        url = reverse("contracts:application_detail", args=[application.pk])
        html = login(client, clerk).get(url).content.decode()
        assert reverse("contracts:application_set_quote", args=[application.pk]) in html
        response = client.post(
            reverse("contracts:application_set_quote", args=[application.pk]), {"amount_yen": "1500"}
        )
        assert response.status_code == 302
        application.refresh_from_db()
        assert (application.quoted_amount_yen, application.quoted_by) == (1500, clerk)
        assert "3,000円" in client.get(url).content.decode()  # 1,500円 × 2 accounts


class TestOptionContract:
    def test_cancellation_is_applied_for_from_the_contract(self, regulation, client, clerk, approver):
        contract = ui_data.billing_contract(clerk=clerk, approver=approver)
        login(client, clerk)
        page = client.get(reverse("contracts:optioncontract_detail", args=[contract.pk])).content.decode()
        link = reverse("contracts:application_create") + f"?kind=cancel&amp;option_contract={contract.pk}"
        assert link in page
        url = reverse("contracts:application_create") + f"?kind=cancel&option_contract={contract.pk}"
        end = to_wareki(clock.today())
        data = {"kind": "cancel", "option_contract": contract.pk, "effective_date": end, "note": ""}
        response = client.post(url, {**data, "step": "confirm"})
        assert "解約申込（確認）" in response.content.decode()
        response = client.post(url, {**data, "step": "submit"})
        assert response.status_code == 302
        application = Application.objects.get(kind=ApplicationKind.CANCEL)
        assert (application.option_contract, application.effective_date) == (contract, clock.today())

    def test_a_billing_start_before_approval_is_a_form_error(self, regulation, client, clerk, approver):
        application = ui_data.approve(
            ui_data.submit_swp(subscriber=ui_data.swp_subscriber(), actor=clerk), approver=approver
        )
        contract = OptionContract.objects.get(origin_application=application)
        response = login(client, clerk).post(
            reverse("contracts:optioncontract_billing_start", args=[contract.pk]),
            {"billing_start_date": "令和元年5月1日"},
        )
        assert response.status_code == 200
        assert "承諾日" in response.context["billing_start_form"].non_field_errors()[0]
        assert not LedgerEntry.objects.exists()


class TestLedgerReversal:
    def test_a_monthly_row_offers_the_correction_not_a_reversal(self, regulation, client, clerk, approver, approver2):
        contract = ui_data.billing_contract(clerk=clerk, approver=approver)
        row = contract.ledger_entries.get()
        url = reverse("contracts:ledgerentry_detail", args=[row.pk])
        page = login(client, approver2).get(url).content.decode()
        assert reverse("contracts:ledgerentry_reverse", args=[row.pk]) not in page
        assert "訂正申込" in page and reverse("contracts:optioncontract_detail", args=[contract.pk]) in page
        response = client.post(reverse("contracts:ledgerentry_reverse", args=[row.pk]), {"reason": "誤り"})
        assert response.status_code == 200
        assert "訂正申込で訂正してください" in response.content.decode()
        assert not LedgerEntry.objects.filter(reverses=row).exists()

    def test_the_approver_reverses_a_row_with_a_reason_once(
        self, regulation, client, clerk, approver, approver2, tariff_manager
    ):
        add_fee_item(
            "swp-accounts",
            "additional-accounts",
            FeeKind.INITIAL,
            9000,
            revision_on=dt.date(2026, 2, 1),
            actor=tariff_manager,
        )
        contract = ui_data.billing_contract(clerk=clerk, approver=approver)
        row = contract.ledger_entries.get(kind=LedgerKind.INITIAL)
        url = reverse("contracts:ledgerentry_detail", args=[row.pk])
        assert (
            reverse("contracts:ledgerentry_reverse", args=[row.pk])
            not in login(client, clerk).get(url).content.decode()
        )
        login(client, approver2)  # not the approver of the row (four eyes)
        assert reverse("contracts:ledgerentry_reverse", args=[row.pk]) in client.get(url).content.decode()
        response = client.post(reverse("contracts:ledgerentry_reverse", args=[row.pk]), {"reason": ""})
        assert response.context["reverse_form"].errors["reason"]
        response = client.post(reverse("contracts:ledgerentry_reverse", args=[row.pk]), {"reason": "数量の誤入力"})
        assert response.status_code == 302
        reversal = LedgerEntry.objects.get(reverses=row)
        assert (reversal.amount_yen, reversal.reason) == (-9000, "数量の誤入力")
        page = client.get(url).content.decode()
        assert reverse("contracts:ledgerentry_reverse", args=[row.pk]) not in page
        assert "で取消済み" in page


class TestConfirmRunsTheSubmitChecks:
    """確認 and 申込 run one function's checks (services.application_check / application_submit): what 申込 would
    refuse, 確認 refuses, by the field it is about."""

    url = reverse("contracts:application_create")

    def test_confirm_refuses_an_option_the_subscriber_already_holds_as_submit_does_by_the_option_field(
        self, regulation, client, clerk, approver
    ):
        contract = approved_swp_contract(clerk=clerk, approver=approver)
        _, variant = ui_data.swp()
        data = new_application_data(contract.subscriber, variant, 10)
        login(client, clerk)
        before = Application.objects.count()
        confirmed = client.post(self.url, {**data, "step": "confirm"})
        submitted = client.post(self.url, {**data, "step": "submit"})
        html = confirmed.content.decode()
        [error] = confirmed.context["form"].errors["variant"]
        assert (
            error.startswith(f"契約者「{contract.subscriber}」は")
            and f"既に契約しています（契約 #{contract.pk}）" in error
        )
        assert submitted.context["form"].errors["variant"] == [error]
        assert "利用の条件を満たしています" not in html
        assert 'value="submit"' not in html
        assert Application.objects.count() == before

    def test_confirm_refuses_a_second_open_application_for_the_same_option(self, regulation, client, clerk):
        subscriber = ui_data.swp_subscriber()
        pending = ui_data.submit_swp(subscriber=subscriber, actor=clerk, quantity=10)
        _, variant = ui_data.swp()
        response = login(client, clerk).post(
            self.url, {**new_application_data(subscriber, variant, 20), "step": "confirm"}
        )
        [error] = response.context["form"].errors["variant"]
        assert f"（#{pending.pk}、受付）が処理中です" in error

    def test_an_open_applications_page_runs_the_same_checks_an_option_held_since_is_not_met(
        self, regulation, client, clerk, approver
    ):
        """The page's 利用の条件 box asks what 確認 and 申込 ask (selectors.new_use_evaluate), not 利用の条件 alone: an
        option the subscriber came to hold after the application was received is refused there, naming the
        contract; the application itself is not a second one."""
        from tests.factories import register_migrated_confirmed

        subscriber = ui_data.swp_subscriber()
        pending = ui_data.submit_swp(subscriber=subscriber, actor=clerk, quantity=10)
        url = reverse("contracts:application_detail", args=[pending.pk])
        login(client, approver)
        html = client.get(url).content.decode()
        assert "利用の条件を満たしています" in html and "処理中です" not in html

        option, variant = ui_data.swp()
        held = register_migrated_confirmed(
            subscriber=subscriber,
            option=option,
            variant=variant,
            quantity=10,
            contracted_on=dt.date(2026, 1, 5),
            base_contract=subscriber.base_contracts.get(),
            actor=clerk,
        )
        response = client.get(url)
        html = response.content.decode()
        eligibility = response.context["eligibility"]
        assert (eligibility.ok, eligibility.code) == (False, "already_held")
        assert f"既に契約しています（契約 #{held.pk}）" in html
        assert "利用の条件を満たしています" not in html
        data = new_application_data(subscriber, variant, 10)
        confirmed = login(client, clerk).post(self.url, {**data, "step": "confirm"})
        [error] = confirmed.context["form"].errors["variant"]
        assert error == eligibility.message  # one message, from one place

    def test_a_change_applications_page_shows_no_new_use_box(self, regulation, client, clerk, approver):
        contract = approved_swp_contract(clerk=clerk, approver=approver)
        change = application_submit(
            actor=clerk,
            subscriber=contract.subscriber,
            kind=ApplicationKind.CHANGE,
            option_contract=contract,
            quantity=20,
            effective_date=clock.today(),
        )
        response = login(client, approver).get(reverse("contracts:application_detail", args=[change.pk]))
        html = response.content.decode()
        assert "eligibility" not in response.context
        assert "既に契約しています" not in html and "利用の条件を満たしています" not in html
        assert "料金（" in html

    def test_15_accounts_are_refused_by_the_quantity_field_not_in_the_preview_box(self, regulation, client, clerk):
        subscriber = ui_data.swp_subscriber()
        _, variant = ui_data.swp()
        response = login(client, clerk).post(
            self.url, {**new_application_data(subscriber, variant, 15), "step": "confirm"}
        )
        form = response.context["form"]
        [error] = form.errors["quantity"]
        assert "10アカウント単位で申し込んでください" in error and "10または20" in error
        assert list(form.errors) == ["quantity"]
        assert 'class="result-ng"' not in response.content.decode()  # not in a preview box
        assert not Application.objects.exists()

    def test_application_check_returns_the_application_submit_would_receive_and_writes_nothing(self, regulation, clerk):
        from contracts.services.applications import application_check

        subscriber = ui_data.swp_subscriber()
        option, variant = ui_data.swp()
        terms = {"subscriber": subscriber, "kind": ApplicationKind.NEW, "option": option, "variant": variant}
        checked = application_check(actor=clerk, quantity=30, **terms)
        assert checked.pk is None
        assert checked.base_contract == subscriber.base_contracts.get()  # the basis 利用の条件 rest on
        assert not Application.objects.exists()
        submitted = application_submit(actor=clerk, quantity=30, **terms)
        assert (submitted.base_contract, submitted.quantity) == (checked.base_contract, checked.quantity)


class TestFeePreviewTotals:
    url = reverse("contracts:application_create")

    def test_the_fee_preview_shows_the_total_and_the_amount_with_tax(self, regulation, client, clerk):
        subscriber = ui_data.swp_subscriber()
        _, variant = ui_data.swp()
        response = login(client, clerk).post(
            self.url, {**new_application_data(subscriber, variant, 30), "step": "confirm"}
        )
        [monthly] = response.context["totals"]
        assert (monthly.label, monthly.amount_yen, monthly.tax_rate_percent, monthly.tax_yen) == (
            "月額費用",
            9000,
            10,
            900,
        )
        assert monthly.amount_with_tax_yen == 9900
        html = response.content.decode()
        foot = html[html.index('<tfoot id="fee-totals">') : html.index("</tfoot>")]
        assert "月額費用の合計（税抜）" in foot and "9,000円" in foot
        assert "消費税（10%）" in foot and "900円" in foot
        assert "月額費用の合計（税込）" in foot and "9,900円" in foot

    def test_fee_totals_tax_is_the_reports_rule_at_the_rate_in_force_per_kind_of_fee(self, regulation, tariff_manager):
        from contracts.selectors import fee_preview, fee_totals

        option, variant = ui_data.swp()
        add_fee_item(
            ui_data.SWP, variant.code, FeeKind.INITIAL, 1_999, revision_on=dt.date(2026, 2, 1), actor=tariff_manager
        )
        priced = fee_preview(option=option, variant=variant, quantity=10, quoted_amount_yen=None, on=clock.today())
        by_kind = {t.kind: t for t in fee_totals(priced, on=clock.today())}
        # An initial fee and a monthly fee are owed at different times: never one sum.
        assert set(by_kind) == {FeeKind.INITIAL, FeeKind.MONTHLY}
        assert (by_kind[FeeKind.INITIAL].tax_yen, by_kind[FeeKind.INITIAL].amount_with_tax_yen) == (199, 2198)
        # The rate in force on the date (§3.10): 8% before 2019-10-01, rounded down on the total.
        before_october = {t.kind: t for t in fee_totals(priced, on=dt.date(2019, 9, 30))}
        assert (before_october[FeeKind.MONTHLY].tax_rate_percent, before_october[FeeKind.MONTHLY].tax_yen) == (8, 240)


class TestSubscriberLookup:
    url = reverse("contracts:application_create")
    lookup = reverse("contracts:subscriber_lookup")

    def test_the_lookup_finds_by_hiragana_kana_or_a_name_without_its_space_with_the_base_contracts(
        self, regulation, client, clerk
    ):
        subscriber = ui_data.swp_subscriber(name="山田 太郎", kana="ヤマダ タロウ")
        ui_data.swp_subscriber(name="佐藤 花子", kana="サトウ ハナコ")
        login(client, clerk)
        for typed in ("やまだ", "山田太郎", "ﾔﾏﾀﾞ", subscriber.code.lower()):
            data = client.get(self.lookup, {"q": typed}).json()
            assert [r["code"] for r in data["results"]] == [subscriber.code], typed
        [found] = client.get(self.lookup, {"q": "やまだ"}).json()["results"]
        base = subscriber.base_contracts.get()
        assert found == {
            "code": subscriber.code,
            "name": "山田 太郎",
            "kana": "ヤマダ タロウ",
            "active": True,
            "url": reverse("contracts:subscriber_detail", args=[subscriber.pk]),
            "base_contracts": [
                {"service": base.service.name, "number": "", "start": format_date(base.start_date), "end": ""}
            ],
        }

    def test_the_lookup_answers_at_most_20_and_says_there_are_more(self, regulation, client, clerk):
        for n in range(21):
            SubscriberFactory(code=f"Y{n:03d}", name=f"山田商店{n}")
        data = login(client, clerk).get(self.lookup, {"q": "山田商店"}).json()
        assert (len(data["results"]), data["more"]) == (20, True)
        assert data["results"][0]["code"] == "Y000"
        assert login(client, clerk).get(self.lookup, {"q": ""}).json() == {"results": [], "more": False}

    def test_without_script_a_name_lists_the_candidates_by_the_field_and_the_one_chosen_is_shown_before_confirm(
        self, regulation, client, clerk
    ):
        yamada = ui_data.swp_subscriber(name="山田 太郎", kana="ヤマダ タロウ")
        other = ui_data.swp_subscriber(name="山田 花子", kana="ヤマダ ハナコ")
        _, variant = ui_data.swp()
        data = {**new_application_data(yamada, variant, 10), "subscriber_code": "やまだ", "step": "confirm"}
        response = login(client, clerk).post(self.url, data)
        form = response.context["form"]
        assert form.errors["subscriber_code"] == ["「やまだ」に当てはまる契約者が2件あります。一覧から選んでください。"]
        html = response.content.decode()
        for s in (yamada, other):
            assert f'type="radio" name="subscriber_code" value="{s.code}"' in html
        assert not Application.objects.exists()
        # The radio posted after the text field wins (QueryDict.get takes the last value): that subscriber.
        confirmed = client.post(self.url, {**data, "subscriber_code": ["やまだ", yamada.code]})
        assert confirmed.context["confirming"] is True
        card = confirmed.content.decode()
        assert "山田 太郎" in card and "ヤマダ タロウ" in card and yamada.base_contracts.get().service.name in card

    def test_the_form_shows_who_the_code_names_with_the_base_contracts(self, regulation, client, clerk):
        subscriber = ui_data.swp_subscriber(name="株式会社表示試験", kana="カブシキガイシャヒョウジシケン")
        response = login(client, clerk).get(self.url + f"?subscriber={subscriber.code}")
        html = response.content.decode()
        card = html[html.index('<div id="subscriber-card"') :]
        assert f'data-code="{subscriber.code}"' in card
        assert "株式会社表示試験" in card and "カブシキガイシャヒョウジシケン" in card
        assert subscriber.base_contracts.get().service.name in card
        assert "js/subscriber_lookup.js" in html
        assert f'data-lookup-url="{self.lookup}"' in html
