"""Demo back office for `make run`: one staff account per role, then subscribers and their paperwork.

Everything is made through the services, by the demo staff (受付 uketsuke enters, 承認 shonin decides), so
the history reads as it would in real use. Approvals happen "now", so their billing starts are today or later;
the contract from 2010 and the two of accounting's book (D0009, D0010: billing since some months ago, so that
closed months hold real money) are registered as migrated records (DOMAIN §3.13). Each subscriber is made once
(by code).

All or nothing. The services run in durable transactions of their own (`transaction.atomic(durable=True)`, and
the application services have no `_`-prefixed twin to compose), so the load cannot be wrapped in one outer
`atomic()`: Django refuses a durable block inside another. Instead `load_demo_refusal()` checks, before the
first write, everything the scenarios need (not production, roles and catalogue present, every fee the demo
uses in force today and on the book's dates); when something is missing the load refuses and writes nothing.
"""

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import clock
from core.errors import DomainError
from core.history_write import system_user
from core.wareki import format_date
from options.choices import FeeKind
from options.models import CarrierService, FeeItem, Option, OptionVariant, Service
from options.selectors import fee_item_in_force, fee_schedule
from security.accounts import staff_account_create, staff_account_roles_set

from . import roles, services
from .choices import ApplicationKind, SubscriberKind
from .models import OptionContract, Subscriber

DEMO_PASSWORD = "demo-pass-2026"

# (username, display name, role). No superuser: the password is published in the README, so the demo システム管理者
# holds its role's permissions only, and a superuser, when one is needed, is made by hand (createsuperuser).
DEMO_STAFF = [
    ("uketsuke", "受付 花子", roles.CLERK),
    ("uketsuke2", "受付 次郎", roles.CLERK),
    ("shonin", "承認 太郎", roles.APPROVER),
    ("keiri", "経理 桜", roles.ACCOUNTING),
    ("kitei", "規程 守", roles.TARIFF_MANAGER),
    ("admin", "管理 者", roles.SYSTEM_ADMIN),
]
REASON = "デモデータの登録"

# What the scenarios take from the catalogue (load_regulation). DEMO_FEES: every (option, variant) the demo
# applies for, approves or bills after today; its 月額費用 must be in force on the day of the load.
DEMO_FEES = [
    ("swp-accounts", "additional-accounts"),
    ("ipv6", "fiberaccess-f"),
    ("flets-hikari", "type-e"),
    ("flets-hikari", "type-a"),
]
DEMO_VARIANTS = [*DEMO_FEES, ("b-flets", "type-e")]  # b-flets: the 2010 migrated contract, retired since
DEMO_SERVICES = ["web-highgrade2", "web-standard2", "fiberaccess-f"]
DEMO_CARRIER_SERVICES = ["flets-next-prio1", "b-flets"]

# The one rule for where demo data may be written. DEBUG cannot tell (base and test settings have DEBUG = False
# too), so: the DEMO_DATA_ALLOWED setting when a settings module defines it, else anywhere but production.
PRODUCTION_SETTINGS = "config.settings.production"


class DemoRefused(DomainError):
    """The demo cannot be loaded here or today; nothing was written."""


def demo_allowed_here() -> bool:
    flag = getattr(settings, "DEMO_DATA_ALLOWED", None)
    if flag is not None:
        return bool(flag)
    return settings.SETTINGS_MODULE != PRODUCTION_SETTINGS


def load_staff() -> list[str]:
    """Create the demo staff through the staff-account service (acting as the system user, so that none of them
    created another's account: four eyes holds between any two)."""
    user_model = get_user_model()
    actor = system_user()
    lines = []
    for username, display, role in DEMO_STAFF:
        last, first = display.split(" ")
        group = Group.objects.get(name=role)
        user = user_model.objects.filter(username=username).first()
        if user is None:
            staff_account_create(
                username=username,
                password=DEMO_PASSWORD,
                last_name=last,
                first_name=first,
                roles=[group],
                actor=actor,
            )
            lines.append(f"職員アカウントを作成: {username}（{role}）")
        elif not user.groups.filter(pk=group.pk).exists():
            staff_account_roles_set(user=user, roles=[*user.groups.all(), group], actor=actor)
    return lines


def _variants(keys) -> dict[tuple[str, str], OptionVariant]:
    found = OptionVariant.objects.select_related("option").filter(option__code__in={o for o, _ in keys})
    by_key = {(v.option.code, v.code): v for v in found}
    return {key: by_key[key] for key in keys if key in by_key}


def demo_fees_from() -> dt.date | None:
    """Return the first date on which the 月額費用 of every DEMO_FEES variant is in force (None: no such date)."""
    variants = list(_variants(DEMO_FEES).values())
    if len(variants) < len(DEMO_FEES):
        return None
    schedule = fee_schedule(kinds=[FeeKind.MONTHLY], variants=variants)
    dates = FeeItem.objects.filter(variant__in=variants, kind=FeeKind.MONTHLY).values_list(
        "revision__effective_on", flat=True
    )
    for day in sorted(set(dates)):
        if all(schedule.in_force(variant_id=v.pk, kind=FeeKind.MONTHLY, on=day) for v in variants):
            return day
    return None


def _missing_catalogue() -> list[str]:
    missing = [f"{o} / {v}" for o, v in DEMO_VARIANTS if (o, v) not in _variants(DEMO_VARIANTS)]
    services_found = set(Service.objects.filter(code__in=DEMO_SERVICES).values_list("code", flat=True))
    missing += [f"基本サービス {c}" for c in DEMO_SERVICES if c not in services_found]
    lines_found = set(CarrierService.objects.filter(code__in=DEMO_CARRIER_SERVICES).values_list("code", flat=True))
    missing += [f"事業者サービス {c}" for c in DEMO_CARRIER_SERVICES if c not in lines_found]
    return missing


def load_demo_refusal() -> str | None:
    """Return why the demo cannot be loaded now (Japanese, for the command), or None. Reads only; writes nothing."""
    if not demo_allowed_here():
        return (
            f"本番環境の設定（{settings.SETTINGS_MODULE}）ではデモデータを登録できません"
            "（共通パスワードの職員アカウントと架空の契約者が作られるため）。何も登録していません。"
        )
    roles_needed = sorted({role for _, _, role in DEMO_STAFF})
    roles_missing = sorted(
        set(roles_needed) - set(Group.objects.filter(name__in=roles_needed).values_list("name", flat=True))
    )
    if roles_missing:
        return (
            f"役割のグループ（{'、'.join(roles_missing)}）がありません。先に manage.py migrate を実行してください。"
            "何も登録していません。"
        )
    missing = _missing_catalogue()
    if missing:
        return (
            f"規程のデータ（{'、'.join(missing)}）がありません。先に manage.py load_regulation を実行してください。"
            "何も登録していません。"
        )
    today = clock.today()
    fees_from = demo_fees_from()
    days = [today] if fees_from is None or fees_from > today else [today, *_book_dates(today, fees_from)]
    variants = _variants(DEMO_FEES)
    absent = []
    for day in sorted(set(days)):
        names = [
            f"{variant.option.name} / {variant.name}"
            for variant in variants.values()
            if fee_item_in_force(option=variant.option, variant=variant, kind=FeeKind.MONTHLY, on=day) is None
        ]
        if names:
            absent.append(f"{'、'.join(names)}（{format_date(day)}時点）")
    if not absent:
        return None
    if fees_from is not None and fees_from > today:
        when = f"デモの契約が使う月額費用がすべて施行されるのは{format_date(fees_from)}からです。"
    else:
        when = "規程管理担当に料金細目の登録を依頼してから実行してください。"
    return (
        f"本日（{format_date(today)}）はデモデータを登録できません。次の月額費用が施行されていません: "
        f"{'; '.join(absent)}。{when}何も登録していません。"
    )


def _months_back(today: dt.date, months: int, day: int, fees_from: dt.date) -> dt.date:
    """The `day` of the month `months` before today's, but not before `fees_from` nor after today."""
    first = clock.month_start(today)
    for _ in range(months):
        first = clock.month_start(first - dt.timedelta(days=1))
    return min(max(first.replace(day=day), fees_from), today)


# The book's billing starts: D0009 the 1st of the month 4 months ago, D0010 the 16th of the month 3 months ago.
def _book_dates(today: dt.date, fees_from: dt.date) -> tuple[dt.date, dt.date]:
    return _months_back(today, 4, 1, fees_from), _months_back(today, 3, 16, fees_from)


class _Demo:
    """The demo staff and the catalogue entries the scenarios use."""

    def __init__(self):
        users = get_user_model().objects.in_bulk(["uketsuke", "uketsuke2", "shonin"], field_name="username")
        self.clerk, self.clerk2, self.approver = users["uketsuke"], users["uketsuke2"], users["shonin"]
        self.today = clock.today()
        self.book_dates = _book_dates(self.today, demo_fees_from())

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

    def migrate(self, **kwargs) -> OptionContract:
        """A migrated record entered by 受付 uketsuke and confirmed by 受付 uketsuke2 (a second person)."""
        contract = services.option_contract_register_migrated(actor=self.clerk, **kwargs)
        return services.option_contract_confirm_migrated(option_contract=contract, actor=self.clerk2)

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
    d.migrate(
        subscriber=s,
        option=Option.objects.get(code="b-flets"),
        variant=OptionVariant.objects.get(option__code="b-flets", code="type-e"),
        contracted_on=dt.date(2010, 4, 1),
        billing_start_date=dt.date(2010, 5, 1),
        carrier_line=line,
        reason="旧システム（平成22年）からの移行データ",
    )


def _book(d: _Demo, subscriber, service_code, since, number, quantity, billing_start) -> None:
    """A migrated SWP contract with its real dates, billed from `billing_start` (no obligations written)."""
    base = d.base(subscriber, service_code, since, number)
    d.migrate(
        subscriber=subscriber,
        option=Option.objects.get(code="swp-accounts"),
        variant=OptionVariant.objects.get(option__code="swp-accounts", code="additional-accounts"),
        quantity=quantity,
        contracted_on=billing_start.replace(day=1),
        billing_start_date=billing_start,
        base_contract=base,
        reason="旧システムからの移行データ（課金中の契約）",
    )


def _mirai(d: _Demo) -> None:
    """Migrated, billing since the 1st of the month 4 months ago: 20 accounts = 2 blocks = 6,000円 a month."""
    s = d.subscriber("D0009", "株式会社みらい工房", "カブシキガイシャミライコウボウ", phone="03-1234-5609")
    _book(d, s, "web-highgrade2", dt.date(2025, 4, 1), "WHG-250401", 20, d.book_dates[0])


def _soyokaze(d: _Demo) -> None:
    """Migrated, billing since the 16th of the month 3 months ago (prorated that month): 30 accounts, 9,000円."""
    s = d.subscriber("D0010", "合同会社そよかぜ", "ゴウドウガイシャソヨカゼ")
    _book(d, s, "web-standard2", dt.date(2025, 7, 1), "WST-250701", 30, d.book_dates[1])


SCENARIOS: list[tuple[str, str, Callable[[_Demo], None]]] = [
    ("D0001", "承諾・本日から課金中、翌月1日から10→30アカウントの変更を承諾済み", _sakura),
    ("D0002", "承諾済み・課金開始日の設定待ち", _minato),
    ("D0003", "新規利用申込を受付（審査待ち）", _yamada),
    ("D0004", "審査中・見積額入力済み（タイプA）", _hikari),
    ("D0005", "不承諾（理由あり）", _aoba),
    ("D0006", "取下げ", _suzuki),
    ("D0007", "本日から課金中、今月末で解約を承諾済み", _tsubasa),
    ("D0008", "平成22年からのBフレッツ接続オプション（移行データ、経過措置でフレッツ光へ承継）", _hokuto),
    ("D0009", "移行データ・4か月前の月初から課金中（SWP 20アカウント、月額6,000円）", _mirai),
    ("D0010", "移行データ・3か月前の16日から課金中（SWP 30アカウント、月額9,000円、初月は日割り）", _soyokaze),
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
    """Load the staff and the scenarios not loaded yet; refuse (DemoRefused, nothing written) when it cannot."""
    refusal = load_demo_refusal()
    if refusal is not None:
        raise DemoRefused(refusal, code="demo_refused")
    lines = load_staff() + load_contracts()
    return lines or ["デモデータは登録済みです。"]
