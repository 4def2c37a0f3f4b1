"""Tables of the tariff screens."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from core.tables import StaffTable, WarekiDateColumn, detail_link

from .models import FeeItem, Option, TariffRevision


class RevisionTable(StaffTable):
    title = tables.Column("表題", linkify=detail_link("options:revision_detail"))
    amended_on = WarekiDateColumn("変更日")
    effective_on = WarekiDateColumn("実施日")
    status = tables.Column("状態")
    fee_item_count = tables.Column("料金細目", attrs={"td": {"class": "num"}}, orderable=True)
    history = tables.Column("履歴", empty_values=(), orderable=False, exclude_from_export=True)

    class Meta(StaffTable.Meta):
        model = TariffRevision
        fields = ("title", "amended_on", "effective_on", "status", "fee_item_count")

    def render_fee_item_count(self, value):
        return f"{value}件" if value else "—"

    def value_fee_item_count(self, value):
        return value or 0

    def render_history(self, record):
        return format_html('<a href="{}">履歴</a>', reverse("options:history_tariffrevision", args=[record.pk]))


class FeeItemTable(StaffTable):
    """Fee items with the revision that set each one (the regulation as of a date, or an option over time)."""

    option = tables.Column("オプション", linkify=detail_link("options:option_detail", "option_id"))
    variant = tables.Column("サービス・細目", accessor="variant__name", order_by=("variant__code",))
    kind = tables.Column("料金種別")
    price = tables.Column("料金", accessor="amount_yen", order_by=("amount_yen",), empty_values=())
    charge_basis = tables.Column("課金単位")
    proration = tables.Column("月途中の扱い")
    article = tables.Column("根拠条文")
    revision = tables.Column(
        "適用開始の改定",
        linkify=detail_link("options:revision_detail", "revision_id"),
        order_by=("revision__effective_on",),
    )
    effective_on = WarekiDateColumn("実施日", accessor="revision__effective_on")
    history = tables.Column("履歴", empty_values=(), orderable=False, exclude_from_export=True)

    class Meta(StaffTable.Meta):
        model = FeeItem
        fields = ()

    def render_price(self, record):
        return record.price_label

    def render_history(self, record):
        return format_html('<a href="{}">履歴</a>', reverse("options:history_feeitem", args=[record.pk]))


class OptionTable(StaffTable):
    section = tables.Column("節", order_by=("section__number",))
    name = tables.Column("オプション名", linkify=detail_link("options:option_detail"))
    status = tables.Column("状態")
    retired_on = WarekiDateColumn("廃止日")
    condition_article = tables.Column("利用の条件")
    fee_article = tables.Column("料金")
    annex_ref = tables.Column("別紙")

    class Meta(StaffTable.Meta):
        model = Option
        fields = ("section", "name", "status", "retired_on", "condition_article", "fee_article", "annex_ref")
