"""Tables of the staff lists: subscribers, applications, option contracts and the ledger."""

import django_tables2 as tables
from django.db.models import Sum
from django.urls import reverse
from django.utils.html import format_html

from contracts.billing.timeline import contract_state_label, contract_state_on
from core import clock
from core.formats import yen
from core.tables import (
    StaffTable,
    WarekiDateColumn,
    WarekiDateTimeColumn,
    WarekiMonthColumn,
    YenColumn,
    YesNoColumn,
    detail_link,
)

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

    def value(self, value):
        return value


class ContractStateColumn(tables.Column):
    """The contract's state today (DOMAIN §3.18), from its dates (contracts.billing.timeline)."""

    def __init__(self, verbose_name="状態", **kwargs):
        super().__init__(verbose_name, accessor="pk", orderable=False, **kwargs)

    def render(self, value, record):
        dates = {"billing_start_date": record.billing_start_date, "end_date": record.end_date, "on": clock.today()}
        return format_html(
            '<span class="badge {}">{}</span>', contract_state_on(**dates), contract_state_label(**dates)
        )

    def value(self, record):
        return contract_state_label(
            billing_start_date=record.billing_start_date, end_date=record.end_date, on=clock.today()
        )


class SubscriberTable(StaffTable):
    code = tables.Column("契約者コード", linkify=detail_link("contracts:subscriber_detail"))
    name = tables.Column("契約者名", linkify=detail_link("contracts:subscriber_detail"))
    kana = tables.Column("フリガナ")
    kind = tables.Column("区分")
    is_active = YesNoColumn("有効", yesno="有効,無効")
    created_at = WarekiDateTimeColumn("登録日時")

    class Meta(StaffTable.Meta):
        model = Subscriber
        fields = ("code", "name", "kana", "kind", "is_active", "created_at")


class ApplicationTable(StaffTable):
    number = tables.Column(
        "申込番号", accessor="pk", linkify=detail_link("contracts:application_detail"), order_by=("pk",)
    )
    kind = tables.Column("申込種別")
    status = BadgeColumn("状態")
    subscriber = tables.Column(
        "契約者", linkify=detail_link("contracts:subscriber_detail", "subscriber_id"), order_by=("subscriber__code",)
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
        "契約番号", accessor="pk", linkify=detail_link("contracts:optioncontract_detail"), order_by=("pk",)
    )
    subscriber = tables.Column(
        "契約者", linkify=detail_link("contracts:subscriber_detail", "subscriber_id"), order_by=("subscriber__code",)
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


def _ledger_count_footer(table):
    matches = getattr(table, "matches", None)
    return f"合計 {matches.label}" if matches else ""


def _ledger_amount_footer(table):
    matches = getattr(table, "matches", None)
    if not matches:
        return ""
    return "件数が多いため合計は絞り込むと出ます" if matches.capped else yen(matches.totals["amount_yen"] or 0)


class LedgerTable(StaffTable):
    """The ledger; a reversal row shows 「取消」, the row it reverses (linked) and its reason, and a reversed row the
    row that reversed it. The footer is the totals row of every matching row, not only of the page."""

    column_totals = {"amount_yen": Sum("amount_yen")}

    number = tables.Column(
        "番号",
        accessor="pk",
        linkify=detail_link("contracts:ledgerentry_detail"),
        order_by=("pk",),
        footer=_ledger_count_footer,
    )
    kind = tables.Column("種別")
    subscriber = tables.Column(
        "契約者",
        accessor="option_contract__subscriber",
        linkify=detail_link("contracts:subscriber_detail", "option_contract__subscriber_id"),
        order_by=("option_contract__subscriber__code",),
        exclude_from_export=True,
    )
    subscriber_code = tables.Column("契約者コード", accessor="option_contract__subscriber__code", visible=False)
    subscriber_name = tables.Column("契約者名", accessor="option_contract__subscriber__name", visible=False)
    option = tables.Column(
        "オプション",
        accessor="option_contract",
        linkify=detail_link("contracts:optioncontract_detail", "option_contract_id"),
        order_by=("option_contract__option__name",),
    )
    variant = tables.Column("サービス・細目", accessor="option_contract__variant__name", visible=False)
    quantity = tables.Column("数量", attrs={"td": {"class": "num"}})
    unit_amount_yen = YenColumn("単価")
    amount_yen = YenColumn("金額", footer=_ledger_amount_footer)
    arisen_at = WarekiDateTimeColumn("支払義務発生日時")
    booked_month = WarekiMonthColumn("計上月")
    charge_month = WarekiMonthColumn("請求対象月")
    revision = tables.Column("根拠改定", accessor="revision__title", order_by=("revision__effective_on",))
    article = tables.Column("根拠条文")
    reverses = tables.Column("取消・理由", accessor="pk", orderable=False, exclude_from_export=True)
    reverses_number = tables.Column("取消対象の番号", accessor="reverses_id", visible=False)
    reversed_by_number = tables.Column("取消行の番号", accessor="reversed_by__pk", visible=False)
    reason = tables.Column("理由", visible=False)

    class Meta(StaffTable.Meta):
        model = LedgerEntry
        fields = ()
        row_attrs = {"class": lambda record: "reversal" if record.reverses_id else ""}

    def render_number(self, value):
        return f"#{value}"

    def value_number(self, value):
        return value

    def render_kind(self, value, record):
        if record.reverses_id:
            return format_html('<span class="badge reversal">取消</span> {}', value)
        return value

    def value_kind(self, value, record):
        return f"取消（{value}）" if record.reverses_id else value

    def render_option(self, record):
        contract = record.option_contract
        return format_html('{}<span class="sub">{}</span>', contract.option.name, contract.variant.name)

    def value_option(self, record):
        return record.option_contract.option.name

    def render_reverses(self, record):
        reason = format_html('<span class="sub">理由: {}</span>', record.reason) if record.reason else ""
        if record.reverses_id:
            return format_html(
                '<a href="{}">#{}</a> の取消{}',
                reverse("contracts:ledgerentry_detail", args=[record.reverses_id]),
                record.reverses_id,
                reason,
            )
        reversed_by = getattr(record, "reversed_by", None)
        if reversed_by is not None:
            return format_html(
                '<span class="badge reversed">取消済み</span> <a href="{}">#{}</a>',
                reverse("contracts:ledgerentry_detail", args=[reversed_by.pk]),
                reversed_by.pk,
            )
        return reason or "—"
