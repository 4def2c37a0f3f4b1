"""What the monthly report shows: its columns (with their CSV/XLSX types and widths), which ledger kinds each part
lists, and their order."""

from dataclasses import dataclass

from contracts.choices import LedgerKind

# Column types: how a value is written to CSV and to an XLSX cell.
TEXT, INT, YEN, DATE, DATETIME = "text", "int", "yen", "date", "datetime"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: str
    width: int = 12  # XLSX column width, in characters


# 明細: the obligations booked in the month (and reversals made in it). Keys are the detail queryset's names.
DETAIL_COLUMNS = (
    Column("c_ledger_no", "台帳番号", INT, 10),
    Column("c_booked_month", "計上月", DATE, 11),
    Column("c_arisen_at", "発生日時", DATETIME, 19),
    Column("c_subscriber_code", "契約者コード", TEXT, 12),
    Column("c_subscriber_name", "契約者名", TEXT, 28),
    Column("c_option", "オプション", TEXT, 36),
    Column("c_variant", "サービス・細目", TEXT, 36),
    Column("c_kind", "種別", TEXT, 18),
    Column("c_quantity", "数量", INT, 7),
    Column("c_blocks", "単位数", INT, 7),
    Column("c_unit_amount", "単価（円）", YEN, 12),
    Column("c_amount", "金額（円）", YEN, 12),
    Column("c_effective_from", "適用開始日", DATE, 11),
    Column("c_revision", "改定", TEXT, 20),
    Column("c_article", "根拠条文", TEXT, 9),
    Column("c_approver", "承諾者", TEXT, 12),
    Column("c_booked_by", "記帳者", TEXT, 12),
    Column("c_reverses", "取消対象", INT, 10),
    Column("c_reason", "理由", TEXT, 30),
)


# Oldest first. By the stored instant (its index gives rows in order without sorting them all first); the
# JST wall time shown sorts the same way, Japan having no daylight saving time.
DETAIL_ORDER = ("arisen_at", "pk")


# 月額: the month's charges (computed for an open month, frozen rows for a closed one) and adjustments.
CHARGE_COLUMNS = (
    Column("option_contract_id", "契約番号", INT, 10),
    Column("subscriber_code", "契約者コード", TEXT, 12),
    Column("subscriber_name", "契約者名", TEXT, 28),
    Column("option_name", "オプション", TEXT, 36),
    Column("variant_name", "サービス・細目", TEXT, 36),
    Column("kind_label", "区分", TEXT, 22),
    Column("charge_month", "対象月", DATE, 11),
    Column("quantity", "数量", INT, 7),
    Column("blocks", "単位数", INT, 7),
    Column("monthly_amount_yen", "月額（円）", YEN, 12),
    Column("days_billed", "課金日数", INT, 8),
    Column("days_in_month", "月の日数", INT, 8),
    Column("amount_yen", "請求額（円）", YEN, 12),
    Column("revision", "改定", TEXT, 20),
    Column("article", "根拠条文", TEXT, 9),
    Column("reason", "理由", TEXT, 30),
)


# 集計: totals per option × kind, then per tax rate, then the month's totals.
SUMMARY_COLUMNS = (
    Column("section", "区分", TEXT, 14),
    Column("option", "オプション", TEXT, 40),
    Column("kind", "種別", TEXT, 22),
    Column("rate", "税率（%）", INT, 9),
    Column("count", "件数", INT, 8),
    Column("amount", "金額（円）", YEN, 14),
)


# Obligations listed in 明細; only INITIAL and ONE_TIME are money of the month. A MONTHLY row is the
# agreement "from this date, this much per month": what is billed for it is the month's charge in 月額.
OBLIGATION_KINDS = (LedgerKind.INITIAL, LedgerKind.MONTHLY, LedgerKind.ONE_TIME)


BILLED_OBLIGATION_KINDS = (LedgerKind.INITIAL, LedgerKind.ONE_TIME)


CHARGE_KINDS = (LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT)


KIND_ORDER = {kind: index for index, kind in enumerate(LedgerKind.values)}


PROVISIONAL_LABEL = "速報（締め前の見込み）"
