"""Every write service × every role: the service itself refuses an actor whose role lacks the permission.

Views and the admin check permissions too; the services check again so that no future entry point is a back
door (DOMAIN §3.15). WRITES declares every public write service, the permission it needs and a minimal valid
call. A role without the permission is refused with code "permission_denied" and nothing is written; a role
with it is never refused for permission (a domain rule may still refuse it). A service added to
`contracts.services` or `options.services` without an entry here fails `test_every_write_service_is_declared`.
"""

import datetime as dt
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

import accounting.services
import contracts.services
import contracts.services.month_close
import contracts.services.month_close_jobs
import exports.services
import options.models
import options.services
import options.services.revisions
import security.accounts
from contracts import roles
from contracts.choices import ApplicationKind, LedgerKind
from contracts.models import LedgerEntry, OptionContract
from contracts.services import (
    application_start_review,
    carrier_line_confirm,
    carrier_line_create,
    subscriber_create,
)
from core.clock import JST
from core.errors import DomainError
from core.history_write import system_user
from options.choices import ChargeBasis, FeeKind, Pricing, RevisionStatus
from options.models import CarrierService, FeeItem, Option, Section, Service, Succession, TariffRevision
from tests.factories import (
    add_fee_item,
    option,
    register_migrated_confirmed,
    review_and_approve,
    role_group,
    submit_new,
    subscriber_with_base,
    variant,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 4, 10, 10, 0, tzinfo=JST)
TODAY = NOW.date()


# --- The world each call acts on, arranged by two superusers who are never the actor under test ----------


class World:
    def __init__(self):
        users = get_user_model().objects
        self.entrant = users.create_superuser(username="entrant", last_name="受付 準備")
        self.decider = users.create_superuser(username="decider", last_name="承認 準備")

    def subscriber(self, code="P0001"):
        """A subscriber holding IIJ Web ハイグレード2 (so 第3条 lets it use the SWP account add-on)."""
        return subscriber_with_base("web-highgrade2", actor=self.entrant, code=code)

    def line(self, *, confirmed: bool):
        subscriber = subscriber_create(actor=self.entrant, code="L0001", name="回線契約者L0001")
        line = carrier_line_create(
            subscriber=subscriber,
            carrier_service=CarrierService.objects.get(code="flets-next-prio1"),
            line_id="CAF0001",
            start_date=dt.date(2020, 4, 1),
            actor=self.entrant,
        )
        if confirmed:
            carrier_line_confirm(carrier_line=line, actor=self.decider)
        return line

    def application(self, *, under_review: bool = False):
        application = submit_new(
            self.subscriber(), "swp-accounts", "additional-accounts", quantity=10, actor=self.entrant
        )
        if under_review:
            application_start_review(application=application, actor=self.decider)
        return application

    def quoted_application(self):
        """A タイプA application (its fee is quoted, 第2条), received without its quote."""
        subscriber = self.line(confirmed=True).subscriber
        return submit_new(subscriber, "flets-hikari", "type-a", quantity=2, actor=self.entrant)

    def contract(self) -> OptionContract:
        """An approved SWP contract (no 課金開始日 yet), approved by the decider."""
        application = self.application()
        review_and_approve(application, approver=self.decider)
        application.refresh_from_db()
        return application.option_contract

    def initial_fee_row(self) -> LedgerEntry:
        """The 初期費用 row an approval wrote (booked by the decider, not the actor under test)."""
        add_fee_item(
            "swp-accounts",
            "additional-accounts",
            FeeKind.INITIAL,
            2000,
            revision_on=dt.date(2026, 2, 1),
            actor=self.entrant,
        )
        return self.contract().ledger_entries.get(kind=LedgerKind.INITIAL)

    def retired_contract(self) -> OptionContract:
        """A migrated Bフレッツ contract from 2010, which 平成26年3月1日変更 附則 moves to its successor."""
        subscriber = subscriber_create(actor=self.entrant, code="M0001", name="移行契約者M0001")
        line = carrier_line_create(
            subscriber=subscriber,
            carrier_service=CarrierService.objects.get(code="b-flets"),
            line_id="COP0001",
            start_date=dt.date(2010, 3, 1),
            actor=self.entrant,
            migrated=True,
        )
        return register_migrated_confirmed(
            subscriber=subscriber,
            option=option("b-flets"),
            variant=variant("b-flets", "type-e"),
            contracted_on=dt.date(2010, 4, 1),
            billing_start_date=dt.date(2010, 5, 1),
            carrier_line=line,
            actor=self.entrant,
            confirmer=self.decider,
        )

    def staff(self):
        """A staff account with no role, made by a superuser: any システム管理者 may manage it."""
        return security.accounts.staff_account_create(username="target", password=None, actor=self.entrant)

    def revision(self) -> TariffRevision:
        """A revision nothing cites and nothing hangs on."""
        return options.services.revision_save(
            revision=TariffRevision(
                title="令和8年5月1日変更",
                amended_on=dt.date(2026, 5, 1),
                effective_on=dt.date(2026, 5, 1),
                provisions="この契約約款は、令和8年5月1日から実施します。",
            ),
            actor=self.entrant,
            reason="準備",
        )

    def draft(self, *, review: bool = False) -> TariffRevision:
        """A draft revision (of SWP's monthly fee) by the entrant, sent for review when asked."""
        revision = options.services.revisions.revision_draft_save(
            revision=TariffRevision(
                title="令和8年7月1日変更",
                amended_on=dt.date(2026, 7, 1),
                effective_on=dt.date(2026, 7, 1),
                provisions="この改正規定は、令和8年7月1日から実施します。",
            ),
            actor=self.entrant,
            reason="起案",
        )
        if review:
            options.services.revisions.revision_transition(
                revision=revision, to=RevisionStatus.REVIEW, actor=self.entrant, reason="確認依頼"
            )
        return revision

    def draft_fee_item(self, revision=None) -> FeeItem:
        """SWP's 追加アカウント使用料 at 3,300円 per 10 accounts, not saved, for the draft."""
        item = FeeItem.objects.get(variant__option__code="swp-accounts", kind=FeeKind.MONTHLY)
        item.pk = None
        item.revision = revision or self.draft()
        item.amount_yen = 3300
        return item

    @staticmethod
    def fee_table_item() -> FeeItem:
        """A fee item of 別紙1 as loaded (its revision is cited by no ledger row in this world)."""
        return FeeItem.objects.get(variant__option__code="ipv6", kind=FeeKind.MONTHLY)


def _new_fee_item(w: World) -> dict:
    opt = option("swp-accounts")
    fee_item = FeeItem(
        revision=TariffRevision.objects.get(effective_on=dt.date(2026, 2, 1)),
        option=opt,
        variant=variant("swp-accounts", "additional-accounts"),
        kind=FeeKind.INITIAL,
        name="追加アカウント初期費用",
        pricing=Pricing.FIXED,
        amount_yen=2000,
        charge_basis=ChargeBasis.PER_CONTRACT,
        article=opt.fee_article,
        annex_ref=opt.annex_ref,
    )
    return {"fee_item": fee_item, "reason": "初期費用の設定"}


def _edited_fee_item(w: World) -> dict:
    fee_item = w.fee_table_item()
    fee_item.note = "備考を追記"
    return {"fee_item": fee_item, "reason": "備考の追記"}


def _edited_revision(w: World) -> dict:
    revision = w.revision()
    revision.title = "令和8年5月1日変更（表題の訂正）"
    return {"revision": revision, "reason": "表題の訂正"}


def _migrated_contract(w: World) -> dict:
    subscriber = w.subscriber()
    return {
        "subscriber": subscriber,
        "option": option("swp-accounts"),
        "variant": variant("swp-accounts", "additional-accounts"),
        "quantity": 10,
        "contracted_on": dt.date(2020, 5, 1),
        "base_contract": subscriber.base_contracts.get(),
    }


def _unconfirmed_migrated(w: World) -> dict:
    """A migrated contract the entrant registered, waiting for a second person's confirmation."""
    contract = contracts.services.option_contract_register_migrated(**_migrated_contract(w), actor=w.entrant)
    return {"option_contract": contract}


def _pending_succession(w: World) -> dict:
    w.retired_contract()
    return {}


IMPORT_CSV = (
    "契約者コード,契約者名,オプションコード,細目コード,数量,契約成立日,課金開始日,基本サービスコード,基本サービス利用開始日\n"
    "M0002,山田商店,swp-accounts,additional-accounts,20,2015-04-01,2015-04-01,web-highgrade2,2015-03-01\n"
)


# --- The declaration: every public write service, what it needs, and a minimal valid call ----------------


@dataclass(frozen=True)
class Write:
    service: Callable
    perms: tuple[str, ...]  # every one is needed, unless any_of
    action: str  # the message is 「<action>権限がありません。」
    arrange: Callable[[World], dict]  # the call's arguments, the actor aside
    any_of: bool = False
    case: str = ""  # tells apart two entries of one service

    @property
    def name(self) -> str:
        """The public name (a `_`-prefixed twin wrapped in its own transaction keeps the twin's __name__)."""
        module = sys.modules[self.service.__module__]
        return next(name for name, obj in vars(module).items() if obj is self.service and not name.startswith("_"))

    @property
    def id(self) -> str:
        return self.name + (f"[{self.case}]" if self.case else "")


def write(service, perms, action, arrange, **kwargs) -> Write:
    return Write(service, (perms,) if isinstance(perms, str) else perms, action, arrange, **kwargs)


s = contracts.services
WRITES = [
    write(
        s.subscriber_create,
        "contracts.add_subscriber",
        "契約者を登録する",
        lambda w: {"code": "P9999", "name": "株式会社新規"},
    ),
    write(
        s.subscriber_update,
        "contracts.change_subscriber",
        "契約者を変更する",
        lambda w: {"subscriber": w.subscriber(), "reason": "住所変更届", "address": "東京都千代田区"},
    ),
    write(
        s.subscriber_deactivate,
        "contracts.change_subscriber",
        "契約者を無効にする",
        lambda w: {"subscriber": w.subscriber(), "reason": "退会"},
    ),
    write(
        s.base_contract_create,
        "contracts.add_baseservicecontract",
        "基本サービス契約を登録する",
        lambda w: {
            "subscriber": w.subscriber(),
            "service": Service.objects.get(code="fiberaccess-f"),
            "start_date": TODAY,
        },
    ),
    write(
        s.base_contract_end,
        "contracts.change_baseservicecontract",
        "基本サービス契約を終了する",
        lambda w: {"base_contract": w.subscriber().base_contracts.get(), "end_date": TODAY, "reason": "解約"},
    ),
    write(
        s.carrier_line_create,
        "contracts.add_carrierlinecontract",
        "事業者回線契約を登録する",
        lambda w: {
            "subscriber": w.subscriber(),
            "carrier_service": CarrierService.objects.get(code="flets-next-prio1"),
            "line_id": "CAF9999",
            "start_date": TODAY,
        },
    ),
    write(
        s.carrier_line_confirm,
        "contracts.change_carrierlinecontract",
        "事業者回線契約を確認する",
        lambda w: {"carrier_line": w.line(confirmed=False)},
    ),
    write(
        s.carrier_line_end,
        "contracts.change_carrierlinecontract",
        "事業者回線契約を終了する",
        lambda w: {"carrier_line": w.line(confirmed=True), "end_date": TODAY, "reason": "解約"},
    ),
    write(
        s.application_submit,
        "contracts.add_application",
        "申込を受け付ける",
        lambda w: {
            "subscriber": w.subscriber(),
            "kind": ApplicationKind.NEW,
            "option": option("swp-accounts"),
            "variant": variant("swp-accounts", "additional-accounts"),
            "quantity": 10,
        },
    ),
    write(
        s.application_start_review,
        "contracts.decide_application",
        "申込の審査を開始する",
        lambda w: {"application": w.application()},
    ),
    write(
        s.application_set_quote,
        ("contracts.change_application", "contracts.decide_application"),
        "見積額を入力する",
        lambda w: {"application": w.quoted_application(), "amount_yen": 1200},
        any_of=True,
    ),
    write(
        s.application_approve,
        "contracts.decide_application",
        "申込を承諾する",
        lambda w: {"application": w.application(under_review=True)},
    ),
    write(
        s.application_reject,
        "contracts.decide_application",
        "申込を不承諾とする",
        lambda w: {"application": w.application(under_review=True), "reason": "対象外のため"},
    ),
    write(
        s.application_withdraw,
        "contracts.change_application",
        "申込を取り下げる",
        lambda w: {"application": w.application(), "reason": "お客様の都合"},
    ),
    write(
        s.option_contract_set_billing_start,
        "contracts.change_optioncontract",
        "課金開始日を登録する",
        lambda w: {"option_contract": w.contract(), "billing_start_date": TODAY},
    ),
    write(
        s.option_contract_register_migrated,
        "contracts.add_optioncontract",
        "移行データを登録する",
        _migrated_contract,
    ),
    write(
        s.option_contract_confirm_migrated,
        "contracts.change_optioncontract",
        "移行データを確認する",
        _unconfirmed_migrated,
    ),
    write(
        s.option_contract_end,
        "contracts.decide_application",
        "オプション契約を解約する",
        lambda w: {"option_contract": w.contract(), "end_date": TODAY, "reason": "契約者からの解約連絡"},
    ),
    write(
        s.option_contracts_import,
        (
            "contracts.add_subscriber",
            "contracts.add_baseservicecontract",
            "contracts.add_carrierlinecontract",
            "contracts.add_optioncontract",
        ),
        "移行データを取り込む",
        lambda w: {"text": IMPORT_CSV},
    ),
    write(
        s.ledger_entry_reverse,
        "contracts.reverse_ledgerentry",
        "支払義務を取り消す",
        lambda w: {"entry": w.initial_fee_row(), "reason": "初期費用の誤り"},
    ),
    write(
        s.successions_apply,
        "contracts.change_optioncontract",
        "経過措置を適用する",
        _pending_succession,
    ),
    write(
        contracts.services.month_close.month_close,
        "contracts.close_month",
        "月次締めの",
        lambda w: {"month": dt.date(2026, 3, 1)},
    ),
    write(
        contracts.services.month_close.month_close_run,
        "contracts.close_month",
        "月次締めの",
        lambda w: {"month": dt.date(2026, 3, 1)},
    ),
    write(
        contracts.services.month_close_jobs.month_close_enqueue,
        "contracts.close_month",
        "月次締めの",
        lambda w: {"month": dt.date(2026, 3, 1)},
    ),
    write(
        exports.services.export_job_request,
        "contracts.export_report",
        "月次レポートを出力する",
        lambda w: {"kind": "report", "data": {"month": "2026-03", "fmt": "csv"}},
    ),
    write(
        exports.services.export_files_prune,
        "exports.delete_exportfilechunk",
        "作成したファイルを削除する",
        lambda w: {},
    ),
    write(
        accounting.services.account_mapping_save,
        "accounting.add_accountmapping",
        "勘定科目の対応を登録する",
        lambda w: {
            "option": options.models.Option.objects.get(code="ipv6"),
            "kind": "monthly_charge",
            "values": {},
            "reason": "勘定科目の対応",
        },
    ),
    write(
        options.services.regulation_load,
        tuple(
            f"options.{action}_{model}"
            for model in (
                "service",
                "carrier",
                "carrierservice",
                "section",
                "option",
                "optionvariant",
                "eligibilityrule",
                "tariffrevision",
                "feeitem",
                "succession",
            )
            for action in ("add", "change")
        ),
        "規程を読み込む",
        lambda w: {},
    ),
    write(
        options.services.revision_save,
        "options.add_tariffrevision",
        "改定を登録する",
        lambda w: {
            "revision": TariffRevision(
                title="令和8年6月1日変更",
                amended_on=dt.date(2026, 6, 1),
                effective_on=dt.date(2026, 6, 1),
                provisions="この契約約款は、令和8年6月1日から実施します。",
            ),
            "reason": "改定の登録",
        },
        case="new",
    ),
    write(
        options.services.revision_save, "options.change_tariffrevision", "改定を変更する", _edited_revision, case="edit"
    ),
    write(
        options.services.revision_delete,
        "options.delete_tariffrevision",
        "改定を削除する",
        lambda w: {"revision": w.revision(), "reason": "誤登録"},
    ),
    write(
        security.accounts.staff_account_create,
        "auth.add_user",
        "職員アカウントを作成する",
        lambda w: {"username": "new-staff", "password": None, "roles": [role_group(roles.CLERK)]},
    ),
    write(
        security.accounts.staff_account_update,
        "auth.change_user",
        "職員アカウントを変更する",
        lambda w: {"user": w.staff(), "last_name": "新姓", "first_name": "", "email": ""},
    ),
    write(
        security.accounts.staff_account_password_set,
        "auth.change_user",
        "職員アカウントのパスワードを設定する",
        lambda w: {"user": w.staff(), "password": "new-pass-2026-x"},
    ),
    write(
        security.accounts.staff_account_roles_set,
        "auth.change_user",
        "職員アカウントの役割を変更する",
        lambda w: {"user": w.staff(), "roles": [role_group(roles.CLERK)]},
    ),
    write(
        security.accounts.staff_account_flags_set,
        "auth.change_user",
        "職員アカウントを変更する",
        lambda w: {"user": w.staff(), "is_active": True, "is_staff": False, "is_superuser": False},
    ),
    write(
        security.accounts.staff_account_deactivate,
        "auth.change_user",
        "職員アカウントを無効にする",
        lambda w: {"user": w.staff()},
    ),
    write(options.services.fee_item_save, "options.add_feeitem", "料金細目を登録する", _new_fee_item, case="new"),
    write(
        options.services.revisions.revision_draft_save,
        "options.add_tariffrevision",
        "改定案を作成する",
        lambda w: {
            "revision": TariffRevision(
                title="令和8年8月1日変更",
                amended_on=dt.date(2026, 8, 1),
                effective_on=dt.date(2026, 8, 1),
                provisions="この改正規定は、令和8年8月1日から実施します。",
            ),
            "reason": "起案",
        },
        case="new",
    ),
    write(
        options.services.revisions.revision_draft_save,
        "options.change_tariffrevision",
        "改定案を変更する",
        lambda w: {"revision": w.draft(), "reason": "附則の訂正"},
        case="edit",
    ),
    write(
        options.services.revisions.draft_fee_item_save,
        "options.add_feeitem",
        "改定案の料金細目を登録する",
        lambda w: {"fee_item": w.draft_fee_item(), "reason": "料金の改定案"},
        case="new",
    ),
    write(
        options.services.revisions.draft_fee_item_save,
        "options.change_feeitem",
        "改定案の料金細目を変更する",
        lambda w: {"fee_item": _saved_draft_fee_item(w), "reason": "金額の訂正"},
        case="edit",
    ),
    write(
        options.services.revisions.revision_transition,
        "options.change_tariffrevision",
        "改定の確認を依頼する",
        lambda w: {"revision": w.draft(), "to": RevisionStatus.REVIEW, "reason": "確認依頼"},
        case="review",
    ),
    write(
        options.services.revisions.revision_transition,
        ("options.change_tariffrevision", "options.publish_tariffrevision"),
        "改定を公開する",
        lambda w: {"revision": w.draft(review=True), "to": RevisionStatus.PUBLISHED, "reason": "確認済み"},
        case="publish",
    ),
    write(
        options.services.revisions.draft_option_add,
        ("options.add_option", "options.add_optionvariant", "options.add_eligibilityrule"),
        "オプションを追加する",
        lambda w: {
            "revision": w.draft(),
            "option": _new_option(),
            "variants": [("fiberaccess-f", "標準")],
            "reason": "新設",
        },
    ),
    write(
        options.services.revisions.draft_option_retire,
        "options.change_option",
        "オプションを廃止する",
        lambda w: {"revision": w.draft(), "option": Option.objects.get(code="ipv6"), "reason": "廃止"},
    ),
    write(
        options.services.revisions.draft_succession_save,
        "options.add_succession",
        "承継を定める",
        lambda w: {"succession": _draft_succession(w), "reason": "承継"},
    ),
    write(
        options.services.revisions.draft_succession_delete,
        "options.change_succession",
        "承継を取り消す",
        lambda w: {"succession": _saved_draft_succession(w), "reason": "取消し"},
    ),
    write(
        options.services.fee_item_save, "options.change_feeitem", "料金細目を変更する", _edited_fee_item, case="edit"
    ),
    write(
        options.services.fee_item_delete,
        "options.delete_feeitem",
        "料金細目を削除する",
        lambda w: {"fee_item": w.fee_table_item(), "reason": "誤登録"},
    ),
]
del s


def _new_option() -> Option:
    return Option(
        section=Section.objects.get(number=3), code="ipv6-next", name="IPv6（新）", condition_article="第5条",
        fee_article="第6条",
    )  # fmt: skip


def _draft_succession(w) -> Succession:
    """IPv6 retired by a draft, to continue as an option the same draft adds (not saved)."""
    revision = w.draft()
    to = options.services.revisions.draft_option_add(
        revision=revision, option=_new_option(), variants=[("fiberaccess-f", "標準")], actor=w.entrant, reason="新設"
    )
    ipv6 = Option.objects.get(code="ipv6")
    options.services.revisions.draft_option_retire(revision=revision, option=ipv6, actor=w.entrant, reason="廃止")
    return Succession(revision=revision, from_option=ipv6, to_option=to)


def _saved_draft_succession(w) -> Succession:
    return options.services.revisions.draft_succession_save(
        succession=_draft_succession(w), actor=w.entrant, reason="案"
    )


def _saved_draft_fee_item(w) -> FeeItem:
    item = options.services.revisions.draft_fee_item_save(fee_item=w.draft_fee_item(), actor=w.entrant, reason="案")
    item.amount_yen = 3600
    return item


# Public names that write nothing.
NOT_WRITES = {
    contracts.services: {"EligibilityResult", "SuccessionMove", "eligibility_assert", "eligibility_check"},
    contracts.services.month_close: {
        "CloseResult",
        "month_closed_already_message",
        "month_label",
        "one_close_at_a_time",
        "close_is_running",
        "month_close_assert_closable",
    },
    # The worker's entry runs the job's close as the staff member who asked for it: month_close_run checks them.
    contracts.services.month_close_jobs: {"month_close_job_run", "month_close_task"},
    accounting.services: {"account_name_problem"},
    # The job's transition is called only inside the services above, which check the actor; the worker's entry
    # runs a job as its requester (export_job_run checks them); the export log records every signed-in user's
    # download (export_log_record refuses only the anonymous: recording is not a permission).
    exports.services: {
        "export_job_transition",
        "export_job_abandoned",
        "export_job_run",
        "export_job_task",
        "export_log_record",
        "params_key",
        "require_job_access",
        "export_job_retry",
    },
    security.accounts: {
        "account_permissions",
        "role_permissions",
        "staff_account_assert_manageable",
        "staff_account_assert_not_self",
        "staff_assert_independent",
        "staff_roles_assert_grantable",
    },
    options.services: {
        "LoadResult",
        "is_system_user",
        "require_any_permission",
        "require_permission",
        "revision_assert_editable",
        "revision_assert_open_to_items",
        "revision_is_cited",
    },
    options.services.revisions: {
        "register_publish_guard",
        "revision_assert_draft",
        "revision_collision_refusal",
    },
}


# --- Who acts --------------------------------------------------------------------------------------------

ROLE_ACTORS = {
    "clerk": roles.CLERK,
    "approver": roles.APPROVER,
    "accounting": roles.ACCOUNTING,
    "tariff_manager": roles.TARIFF_MANAGER,
    "sysadmin": roles.SYSTEM_ADMIN,
    "no_role": None,  # a staff member whose account has no role
}
# Allowed everything: an active superuser (Django grants every permission), and the named user the
# management commands act as, which cannot log in and acts for whoever runs the command.
ALL_ALLOWED = ("superuser", "system")


def _permits(write: Write, actor_name: str) -> bool:
    if actor_name in ALL_ALLOWED:
        return True
    granted = set(roles.ROLE_PERMISSIONS.get(ROLE_ACTORS[actor_name], ()))
    check = any if write.any_of else all
    return check(perm in granted for perm in write.perms)


def _cases(*, permitted: bool):
    return [
        pytest.param(w, actor, id=f"{w.id}-{actor}")
        for w in WRITES
        for actor in [*ROLE_ACTORS, *ALL_ALLOWED]
        if _permits(w, actor) == permitted
    ]


def _actor(name: str, request):
    if name == "no_role":
        return get_user_model().objects.create_user(username="norole", last_name="役割なし", is_staff=True)
    if name == "superuser":
        return get_user_model().objects.create_superuser(username="kanri", last_name="管理")
    if name == "system":
        return system_user()
    return request.getfixturevalue(name)


def _written() -> dict[str, int]:
    """The row count of every contracts and catalogue table, history tables and many-to-many tables included."""
    return {
        model._meta.label: model._base_manager.count()
        for app in ("contracts", "options", "security", "auth", "exports")
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
    }


@pytest.fixture
def world(regulation):
    with time_machine.travel(NOW, tick=False):
        yield World()


# --- The rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("write", "actor_name"), _cases(permitted=False))
def test_a_write_service_refuses_an_actor_without_its_permission_and_writes_nothing(write, actor_name, world, request):
    actor = _actor(actor_name, request)
    kwargs = write.arrange(world)
    before = _written()
    with pytest.raises(DomainError) as refused:
        write.service(**kwargs, actor=actor)
    assert refused.value.code == "permission_denied"
    assert refused.value.message == f"{write.action}権限がありません。"
    assert _written() == before


@pytest.mark.parametrize(("write", "actor_name"), _cases(permitted=True))
def test_a_write_service_does_not_refuse_an_actor_with_its_permission(write, actor_name, world, request):
    actor = _actor(actor_name, request)
    kwargs = write.arrange(world)
    try:
        write.service(**kwargs, actor=actor)
    except DomainError as error:
        assert error.code != "permission_denied", error.message
        # The calls are valid: only a role's own rule (none today) may refuse; the system user never is.
        assert actor_name not in ALL_ALLOWED, error.message


def test_the_roles_divide_the_writes_as_domain_3_15_says():
    by_role = {name: {w.id for w in WRITES if _permits(w, name)} for name in ROLE_ACTORS}
    catalogue = {
        "regulation_load",
        "revision_save[new]",
        "revision_save[edit]",
        "revision_delete",
        "fee_item_save[new]",
        "fee_item_save[edit]",
        "revision_draft_save[new]",
        "revision_draft_save[edit]",
        "draft_fee_item_save[new]",
        "draft_fee_item_save[edit]",
        "revision_transition[review]",
        "revision_transition[publish]",
        "draft_option_add",
        "draft_option_retire",
        "draft_succession_save",
        "draft_succession_delete",
    }
    deciding = {
        "application_start_review",
        "application_set_quote",
        "application_approve",
        "application_reject",
        "option_contract_end",
        "ledger_entry_reverse",
    }
    closing = {"month_close", "month_close_run", "month_close_enqueue"}
    exporting = {"export_job_request"}  # 経理 and システム管理者 export (the impact preview's kind aside)
    mapping = {"account_mapping_save"}  # 勘定科目の対応, kept by 経理
    accounts = {w.id for w in WRITES if w.service.__module__ == "security.accounts"}
    entering = {w.id for w in WRITES} - catalogue - deciding - closing - mapping - accounts - exporting
    entering -= {"fee_item_delete", "export_files_prune"}
    assert by_role["clerk"] == entering | {"application_set_quote"}
    assert by_role["approver"] == deciding
    assert by_role["accounting"] == closing | mapping | exporting  # reads, exports, closes and keeps the mapping table
    assert by_role["tariff_manager"] == catalogue
    # システム管理者 edits the catalogue but deletes nothing; deleting a fee item is in no role at all (the
    # admin offers both only to whom roles.py grants the delete permission, and to superusers).
    assert by_role["sysadmin"] == (
        entering | deciding | closing | mapping | exporting | (catalogue - {"revision_delete"}) | accounts
    )
    assert by_role["no_role"] == set()


def test_every_declared_permission_exists():
    declared = {perm for w in WRITES for perm in w.perms}
    existing = {f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")}
    assert declared - existing == set()


def _public_functions(module) -> set[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return set(names)
    return {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    }


@pytest.mark.parametrize("module", list(NOT_WRITES), ids=lambda m: m.__name__)
def test_every_write_service_is_declared(module):
    declared = {w.service for w in WRITES}
    undeclared = sorted(
        name for name in _public_functions(module) - NOT_WRITES[module] if getattr(module, name) not in declared
    )
    assert undeclared == [], "WRITES に宣言のない公開サービス（権限と呼び出し例を宣言してください）"
