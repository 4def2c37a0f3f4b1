"""Demo back office for `make run`: one staff account per role, then subscribers and their paperwork.

Everything is made through the services, by the demo staff (受付 uketsuke enters, 承認 shonin decides), so
the history reads as it would in real use. Approvals happen "now", so billing starts are today or later;
the one contract from 2010 is registered as a migrated record. Each subscriber is made once (by code).
"""

import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from options import clock
from options.history import system_user
from options.models import CarrierService, Option, OptionVariant, Service

from . import roles, services
from .choices import ApplicationKind, SubscriberKind
from .models import OptionContract, Subscriber

DEMO_PASSWORD = "demo-pass-2026"

# (username, display name, role, is_superuser)
DEMO_STAFF = [
    ("uketsuke", "受付 花子", roles.CLERK, False),
    ("uketsuke2", "受付 次郎", roles.CLERK, False),
    ("shonin", "承認 太郎", roles.APPROVER, False),
    ("keiri", "経理 桜", roles.ACCOUNTING, False),
    ("kitei", "規程 守", roles.TARIFF_MANAGER, False),
    ("admin", "管理 者", roles.SYSTEM_ADMIN, True),
]
REASON = "デモデータの登録"


def load_staff() -> list[str]:
    user_model = get_user_model()
    lines = []
    for username, display, role, superuser in DEMO_STAFF:
        last, first = display.split(" ")
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"last_name": last, "first_name": first, "is_staff": True, "is_superuser": superuser},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            lines.append(f"職員アカウントを作成: {username}（{role}）")
        user.groups.add(Group.objects.get(name=role))
    return lines


class _Demo:
    """The demo staff and the catalogue entries the scenarios use."""

    def __init__(self):
        users = get_user_model().objects.in_bulk(["uketsuke", "uketsuke2", "shonin"], field_name="username")
        self.clerk, self.clerk2, self.approver = users["uketsuke"], users["uketsuke2"], users["shonin"]
        self.today = clock.today()

    def subscriber(self, code, name, kana, kind=SubscriberKind.CORPORATE, **fields) -> Subscriber:
        return services.subscriber_create(
            actor=self.clerk, reason=REASON, code=code, name=name, kana=kana, kind=kind, **fields
        )

    def base(self, subscriber, service_code, start, number):
        return services.base_contract_create(
            subscriber=subscriber,
            service=Service.objects.get(code=service_code),
            start_date=start,
            contract_number=number,
            actor=self.clerk,
        )

    def line(self, subscriber, carrier_service_code, line_id, start, *, migrated=False):
        line = services.carrier_line_create(
            subscriber=subscriber,
            carrier_service=CarrierService.objects.get(code=carrier_service_code),
            line_id=line_id,
            start_date=start,
            actor=self.clerk,
            migrated=migrated,
        )
        return services.carrier_line_confirm(carrier_line=line, actor=self.clerk2)

    def apply(self, subscriber, option_code, variant_code, quantity=1, **kwargs):
        return services.application_submit(
            subscriber=subscriber,
            kind=ApplicationKind.NEW,
            option=Option.objects.get(code=option_code),
            variant=OptionVariant.objects.get(option__code=option_code, code=variant_code),
            quantity=quantity,
            actor=self.clerk,
            **kwargs,
        )

    def review(self, application):
        return services.application_start_review(application=application, actor=self.approver)

    def approve(self, application) -> OptionContract:
        self.review(application)
        services.application_approve(application=application, actor=self.approver)
        application.refresh_from_db()
        return application.option_contract

    def bill_from_today(self, contract) -> OptionContract:
        return services.option_contract_set_billing_start(
            option_contract=contract, billing_start_date=self.today, actor=self.clerk
        )

    def later(self, subscriber, kind, contract, **kwargs):
        application = services.application_submit(
            subscriber=subscriber, kind=kind, option_contract=contract, actor=self.clerk, **kwargs
        )
        self.approve(application)
        return application


def _sakura(d: _Demo) -> None:
    """Approved and billing since today; 10 → 30 accounts from the 1st of next month."""
    s = d.subscriber("D0001", "株式会社さくらネット", "カブシキガイシャサクラネット", phone="03-1234-5601")
    d.base(s, "web-highgrade2", dt.date(2024, 4, 1), "WHG-240401")
    contract = d.bill_from_today(d.approve(d.apply(s, "swp-accounts", "additional-accounts", 10)))
    d.later(s, ApplicationKind.CHANGE, contract, quantity=30, effective_date=clock.next_month(d.today))


def _minato(d: _Demo) -> None:
    """Approved, waiting for its billing start date."""
    s = d.subscriber("D0002", "有限会社みなと商会", "ユウゲンガイシャミナトショウカイ")
    d.base(s, "fiberaccess-f", dt.date(2025, 10, 1), "FAF-251001")
    d.approve(d.apply(s, "ipv6", "fiberaccess-f"))


def _yamada(d: _Demo) -> None:
    """Received (受付), waiting for review."""
    s = d.subscriber("D0003", "山田 太郎", "ヤマダ タロウ", SubscriberKind.INDIVIDUAL)
    d.line(s, "flets-next-prio1", "CAF0012345", dt.date(2025, 6, 1))
    d.apply(s, "flets-hikari", "type-e", 2, note="自宅・事務所の2アカウント")


def _hikari(d: _Demo) -> None:
    """Under review (審査中), the individually quoted amount entered."""
    s = d.subscriber("D0004", "株式会社ひかり設計", "カブシキガイシャヒカリセッケイ")
    d.line(s, "flets-next-prio1", "CAF0023456", dt.date(2024, 11, 1))
    application = d.apply(s, "flets-hikari", "type-a", 3)
    services.application_set_quote(application=application, amount_yen=1500, actor=d.clerk)
    d.review(application)


def _aoba(d: _Demo) -> None:
    """Rejected (不承諾) with its reason."""
    s = d.subscriber("D0005", "合同会社あおば", "ゴウドウガイシャアオバ")
    d.base(s, "web-standard2", dt.date(2023, 7, 1), "WST-230701")
    application = d.review(d.apply(s, "swp-accounts", "additional-accounts", 20))
    services.application_reject(
        application=application,
        reason="申込書の記名押印がなく、申込者の意思が確認できないため",
        actor=d.approver,
    )


def _suzuki(d: _Demo) -> None:
    """Withdrawn (取下げ) at the subscriber's request."""
    s = d.subscriber("D0006", "鈴木 花子", "スズキ ハナコ", SubscriberKind.INDIVIDUAL)
    d.base(s, "fiberaccess-f", dt.date(2025, 2, 1), "FAF-250201")
    application = d.apply(s, "ipv6", "fiberaccess-f")
    services.application_withdraw(application=application, reason="お客様から取下げの連絡（電話）", actor=d.clerk)


def _tsubasa(d: _Demo) -> None:
    """Billing since today, cancelled with the end of this month as its last day."""
    s = d.subscriber("D0007", "株式会社つばさ物流", "カブシキガイシャツバサブツリュウ")
    d.base(s, "web-highgrade2", dt.date(2022, 4, 1), "WHG-220401")
    contract = d.bill_from_today(d.approve(d.apply(s, "swp-accounts", "additional-accounts", 20)))
    d.later(s, ApplicationKind.CANCEL, contract, effective_date=clock.month_end(d.today))


def _hokuto(d: _Demo) -> None:
    """A Bフレッツ接続オプション from 2010, migrated; the successions move it to フレッツ光接続オプション."""
    s = d.subscriber("D0008", "株式会社北斗システム", "カブシキガイシャホクトシステム")
    line = d.line(s, "b-flets", "COP0009876", dt.date(2010, 3, 1), migrated=True)
    services.option_contract_register_migrated(
        subscriber=s,
        option=Option.objects.get(code="b-flets"),
        variant=OptionVariant.objects.get(option__code="b-flets", code="type-e"),
        contracted_on=dt.date(2010, 4, 1),
        billing_start_date=dt.date(2010, 5, 1),
        carrier_line=line,
        actor=d.clerk,
        reason="旧システム（平成22年）からの移行データ",
    )


SCENARIOS: list[tuple[str, str, Callable[[_Demo], None]]] = [
    ("D0001", "承諾・本日から課金中、翌月1日から10→30アカウントの変更を承諾済み", _sakura),
    ("D0002", "承諾済み・課金開始日の設定待ち", _minato),
    ("D0003", "新規利用申込を受付（審査待ち）", _yamada),
    ("D0004", "審査中・見積額入力済み（タイプA）", _hikari),
    ("D0005", "不承諾（理由あり）", _aoba),
    ("D0006", "取下げ", _suzuki),
    ("D0007", "本日から課金中、今月末で解約を承諾済み", _tsubasa),
    ("D0008", "平成22年からのBフレッツ接続オプション（移行データ、経過措置でフレッツ光へ承継）", _hokuto),
]


def load_contracts() -> list[str]:
    demo = _Demo()
    codes = [code for code, _, _ in SCENARIOS]
    existing = set(Subscriber.objects.filter(code__in=codes).values_list("code", flat=True))
    lines = []
    for code, label, scenario in SCENARIOS:
        if code in existing:
            continue
        scenario(demo)
        lines.append(f"デモ契約者を登録: {Subscriber.objects.get(code=code)}（{label}）")
    for move in services.successions_apply(actor=system_user()):
        lines.append(f"経過措置を適用: {move}")
    return lines


def load_demo() -> list[str]:
    lines = load_staff() + load_contracts()
    return lines or ["デモデータは登録済みです。"]
