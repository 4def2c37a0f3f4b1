"""Tables of the staff lists: subscribers, applications, option contracts and the ledger."""

import django_tables2 as tables
from django.utils.html import format_html

from contracts.billing.timeline import contract_state_label, contract_state_on
from core import clock
from core.tables import StaffTable, WarekiDateColumn, WarekiDateTimeColumn, WarekiMonthColumn, YenColumn

from .models import Application, LedgerEntry, OptionContract, Subscriber


def staff_label(user) -> str:
    if user is None:
        return "—"
    return f"{user.last_name} {user.first_name}".strip() or user.username


class StaffColumn(tables.Column):
    def render(self, value):
        return staff_label(value)


class BadgeColumn(tables.Column):
    """A status shown as a badge; the CSS class is the stored value."""

    def render(self, value, record, bound_column):
        raw = getattr(record, bound_column.accessor.split("__")[-1].split(".")[-1], "")
        return format_html('<span class="badge {}">{}</span>', raw, value)


class ContractStateColumn(tables.Column):
    """The contract's state today (DOMAIN §3.18), from its dates (contracts.billing.timeline)."""

    def __init__(self, verbose_name="状態", **kwargs):
        super().__init__(verbose_name, accessor="pk", orderable=False, **kwargs)

    def render(self, value, record):
        dates = {"billing_start_date": record.billing_start_date, "end_date": record.end_date, "on": clock.today()}
        return format_html(
            '<span class="badge {}">{}</span>', contract_state_on(**dates), contract_state_label(**dates)
        )


class SubscriberTable(StaffTable):
    code = tables.Column("契約者コード", linkify=("contracts:subscriber_detail", [tables.A("pk")]))
    name = tables.Column("契約者名", linkify=("contracts:subscriber_detail", [tables.A("pk")]))
    kana = tables.Column("フリガナ")
    kind = tables.Column("区分")
    is_active = tables.BooleanColumn("有効", yesno="有効,無効")
    created_at = WarekiDateTimeColumn("登録日時")

    class Meta(StaffTable.Meta):
        model = Subscriber
        fields = ("code", "name", "kana", "kind", "is_active", "created_at")


class ApplicationTable(StaffTable):
    number = tables.Column(
        "申込番号", accessor="pk", linkify=("contracts:application_detail", [tables.A("pk")]), order_by=("pk",)
    )
    kind = tables.Column("申込種別")
    status = BadgeColumn("状態")
    subscriber = tables.Column(
        "契約者", linkify=("contracts:subscriber_detail", [tables.A("subscriber_id")]), order_by=("subscriber__code",)
    )
    option = tables.Column("オプション", accessor="option__name", order_by=("option__name",))
    variant = tables.Column("サービス・細目", accessor="variant__name", order_by=("variant__code",))
    quantity = tables.Column("数量", attrs={"td": {"class": "num"}})
    entered_by = StaffColumn("受付者", order_by=("entered_by__username",))
    entered_at = WarekiDateTimeColumn("受付日時")
    decided_by = StaffColumn("決裁者", order_by=("decided_by__username",))

    class Meta(StaffTable.Meta):
        model = Application
        fields = ()

    def render_number(self, value):
        return f"#{value}"


class OptionContractTable(StaffTable):
    number = tables.Column(
        "契約番号", accessor="pk", linkify=("contracts:optioncontract_detail", [tables.A("pk")]), order_by=("pk",)
    )
    subscriber = tables.Column(
        "契約者", linkify=("contracts:subscriber_detail", [tables.A("subscriber_id")]), order_by=("subscriber__code",)
    )
    option = tables.Column("オプション", accessor="option__name", order_by=("option__name",))
    variant = tables.Column("サービス・細目", accessor="variant__name", order_by=("variant__code",))
    quantity = tables.Column("数量", attrs={"td": {"class": "num"}})
    state = ContractStateColumn()
    contracted_on = WarekiDateColumn("契約成立日")
    billing_start_date = WarekiDateColumn("課金開始日")
    end_date = WarekiDateColumn("解約日")

    class Meta(StaffTable.Meta):
        model = OptionContract
        fields = ()

    def render_number(self, value):
        return f"#{value}"


class LedgerTable(StaffTable):
    number = tables.Column(
        "番号", accessor="pk", linkify=("contracts:ledgerentry_detail", [tables.A("pk")]), order_by=("pk",)
    )
    kind = tables.Column("種別")
    subscriber = tables.Column(
        "契約者",
        accessor="option_contract__subscriber",
        linkify=("contracts:subscriber_detail", [tables.A("option_contract__subscriber_id")]),
        order_by=("option_contract__subscriber__code",),
    )
    option = tables.Column(
        "オプション",
        accessor="option_contract",
        linkify=("contracts:optioncontract_detail", [tables.A("option_contract_id")]),
        order_by=("option_contract__option__name",),
    )
    quantity = tables.Column("数量", attrs={"td": {"class": "num"}})
    unit_amount_yen = YenColumn("単価")
    amount_yen = YenColumn("金額")
    arisen_at = WarekiDateTimeColumn("支払義務発生日時")
    booked_month = WarekiMonthColumn("計上月")
    charge_month = WarekiMonthColumn("請求対象月")
    revision = tables.Column("根拠改定", accessor="revision__title", order_by=("revision__effective_on",))
    article = tables.Column("根拠条文")
    reverses = tables.Column("取消対象", accessor="reverses_id", orderable=False)

    class Meta(StaffTable.Meta):
        model = LedgerEntry
        fields = ()

    def render_number(self, value):
        return f"#{value}"

    def render_option(self, record):
        contract = record.option_contract
        return format_html('{}<span class="sub">{}</span>', contract.option.name, contract.variant.name)

    def render_reverses(self, value):
        return f"#{value}の取消"
