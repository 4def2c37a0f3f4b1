"""Subscribers, their contracts, applications and the append-only fee-obligation ledger (支払義務).

Models hold data and database-level guards only; every write goes through `contracts.services`.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

from core.formats import wareki, wareki_month
from core.search import normalize
from options.models import CarrierService, FeeItem, Option, OptionVariant, Service, Succession, TariffRevision

from .choices import (
    ACTIVE_CLOSE_JOB_STATUSES,
    ApplicationKind,
    ApplicationStatus,
    CorrectionTarget,
    LedgerKind,
    MonthCloseJobStatus,
    OptionContractStatus,
    SubscriberKind,
    TermsEvent,
)


class SubscriberQuerySet(models.QuerySet):
    def matching(self, text: str):
        """Subscribers whose code, name, フリガナ or phone number contains `text` as staff typed it (core.search)."""
        key = normalize(text)
        if not key:
            return self.none()
        # `contains`, not `icontains`: the key and the query are already case folded, and on PostgreSQL a plain
        # LIKE is what the trigram index on the key serves (migration 0010).
        return self.filter(search_key__contains=key)


class Subscriber(models.Model):
    """契約者. Never hard-deleted: a subscriber who leaves is deactivated.

    KEY_FIELDS are set once, at registration: the code is the subscriber's key in imports and paperwork, so it
    never changes. EDITABLE_FIELDS are what staff may edit afterwards. The service, the staff form and the admin
    all read these two declarations.
    """

    KEY_FIELDS = ("code",)
    EDITABLE_FIELDS = ("name", "kana", "kind", "email", "phone", "address", "note")

    TEXT_CODE_FIELDS = ("code",)  # a key: core.text's code alphabet

    code = models.CharField("契約者コード", max_length=20, unique=True)
    name = models.CharField("契約者名", max_length=200, db_index=True)
    kana = models.CharField("フリガナ", max_length=200, blank=True, db_index=True)
    kind = models.CharField("区分", max_length=20, choices=SubscriberKind.choices, default=SubscriberKind.CORPORATE)
    email = models.EmailField("メールアドレス", blank=True)
    phone = models.CharField("電話番号", max_length=30, blank=True)
    address = models.CharField("住所", max_length=300, blank=True)
    note = models.TextField("備考", blank=True)
    is_active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    # What the search matches (core.search.search_key of code, name, kana and phone), written by the subscriber
    # services on every save; derived, so not in the history. The database default keeps raw inserts (bench/) valid.
    search_key = models.TextField("検索キー", blank=True, default="", db_default="", editable=False)

    objects = SubscriberQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["search_key"])

    class Meta:
        verbose_name = "契約者"
        verbose_name_plural = "契約者"
        ordering = ["code", "pk"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BaseServiceContract(models.Model):
    """A subscriber's contract for one of the company's services (the base of 第3条・第5条)."""

    TEXT_CODE_FIELDS = ("contract_number",)  # a key: core.text's code alphabet

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.PROTECT, related_name="base_contracts", verbose_name="契約者"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name="サービス")
    contract_number = models.CharField("契約番号", max_length=40, blank=True)
    start_date = models.DateField("利用開始日")
    end_date = models.DateField("利用終了日", null=True, blank=True)
    migrated = models.BooleanField("移行データ", default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "基本サービス契約"
        verbose_name_plural = "基本サービス契約"
        ordering = ["subscriber__code", "start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                name="base_contract_end_after_start",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.service.name}（{self.contract_number or self.pk}）"


class CarrierLineContract(models.Model):
    """A subscriber's contract with a carrier for its specific service (第1条), confirmed by staff."""

    TEXT_CODE_FIELDS = ("line_id",)  # a key: core.text's code alphabet

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.PROTECT, related_name="carrier_lines", verbose_name="契約者"
    )
    carrier_service = models.ForeignKey(
        CarrierService, on_delete=models.PROTECT, related_name="+", verbose_name="事業者サービス"
    )
    line_id = models.CharField("回線ID・お客様ID", max_length=60)
    start_date = models.DateField("利用開始日")
    end_date = models.DateField("利用終了日", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="確認者",
    )
    confirmed_at = models.DateTimeField("確認日時", null=True, blank=True)
    migrated = models.BooleanField("移行データ", default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "事業者回線契約"
        verbose_name_plural = "事業者回線契約"
        ordering = ["subscriber__code", "start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                name="carrier_line_end_after_start",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
            ),
            models.CheckConstraint(
                name="carrier_line_confirmation_complete",
                condition=Q(confirmed_by__isnull=True, confirmed_at__isnull=True)
                | Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier_service}（{self.line_id}）"


class Application(models.Model):
    """申込: new use, contract change or cancellation, decided by an approver other than its entrant."""

    kind = models.CharField("申込種別", max_length=10, choices=ApplicationKind.choices)
    status = models.CharField(
        "状態", max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.RECEIVED, db_index=True
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.PROTECT, related_name="applications", verbose_name="契約者"
    )
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="+", verbose_name="オプション")
    variant = models.ForeignKey(
        OptionVariant, on_delete=models.PROTECT, related_name="+", verbose_name="サービス・細目（申込内容）"
    )
    quantity = models.PositiveIntegerField("数量（申込内容）", default=1)
    quoted_amount_yen = models.PositiveIntegerField("見積額（円）", null=True, blank=True)
    quoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="見積者",
    )
    quoted_at = models.DateTimeField("見積日時", null=True, blank=True)
    base_contract = models.ForeignKey(
        BaseServiceContract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="根拠となる基本サービス契約",
    )
    carrier_line = models.ForeignKey(
        CarrierLineContract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="根拠となる事業者回線契約",
    )
    # The contract a change or cancellation applies to; for a new application, the contract approval made.
    option_contract = models.ForeignKey(
        "OptionContract",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name="オプション契約",
    )
    effective_date = models.DateField(
        "変更日・解約日",
        null=True,
        blank=True,
        help_text="変更申込では変更の効力発生日、解約申込では解約日（最終利用日）",
    )
    note = models.TextField("申込の備考", blank=True)
    # 訂正申込 (DOMAIN §3.17): what is corrected, the corrected date (a billing start or end date, or for terms the
    # first day of the period corrected) and why; the corrected quantity and quote are `quantity` and the quote.
    correction_target = models.CharField("訂正する項目", max_length=20, choices=CorrectionTarget.choices, blank=True)
    corrected_date = models.DateField(
        "訂正後の日付・訂正する期間",
        null=True,
        blank=True,
        help_text="課金開始日・解約日の訂正では訂正後の日付、数量・見積額の訂正では訂正する期間の開始日",
    )
    correction_reason = models.TextField("訂正の理由", blank=True)

    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="受付者"
    )
    entered_at = models.DateTimeField("受付日時")
    review_started_at = models.DateTimeField("審査開始日時", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="決裁者",
    )
    decided_at = models.DateTimeField("決裁日時", null=True, blank=True)
    rejection_reason = models.TextField("不承諾の理由", blank=True)
    withdrawn_at = models.DateTimeField("取下げ日時", null=True, blank=True)
    withdrawal_reason = models.TextField("取下げの理由", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "申込"
        verbose_name_plural = "申込"
        permissions = [("decide_application", "申込を承諾・不承諾できる")]
        ordering = ["-entered_at", "-pk"]
        indexes = [
            # The queues read the oldest of a status (entered_at, then pk): the index holds that order whole, so
            # the planner never walks every application by date looking for the few waiting (issue 14: 承認者's home
            # filtered 214,000 rows at full scale with the old (status, entered_at)).
            models.Index(fields=["status", "entered_at", "id"], name="application_queue_order_idx"),
            models.Index(fields=["entered_at", "id"], name="application_entered_idx"),
            models.Index(fields=["entered_by", "entered_at", "id"], name="application_by_clerk_idx"),
            models.Index(fields=["decided_by", "decided_at", "id"], name="application_by_decider_idx"),
        ]
        constraints = [
            # Four eyes (DOMAIN §3.8), held by the database behind the service's check.
            models.CheckConstraint(
                name="application_four_eyes",
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("entered_by")),
            ),
            models.CheckConstraint(
                name="application_decision_complete",
                condition=~Q(status__in=[ApplicationStatus.APPROVED, ApplicationStatus.REJECTED])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
            ),
            models.CheckConstraint(
                name="application_rejection_has_reason",
                condition=~Q(status=ApplicationStatus.REJECTED) | ~Q(rejection_reason=""),
            ),
            models.CheckConstraint(
                name="application_withdrawal_has_reason",
                condition=~Q(status=ApplicationStatus.WITHDRAWN) | ~Q(withdrawal_reason=""),
            ),
            models.CheckConstraint(
                name="application_target_contract",
                condition=Q(kind=ApplicationKind.NEW) | Q(option_contract__isnull=False),
            ),
            models.CheckConstraint(
                name="application_correction_complete",
                condition=(
                    Q(kind=ApplicationKind.CORRECTION)
                    & ~Q(correction_target="")
                    & ~Q(correction_reason="")
                    & Q(corrected_date__isnull=False)
                )
                | (~Q(kind=ApplicationKind.CORRECTION) & Q(correction_target="")),
            ),
        ]

    def __str__(self) -> str:
        return f"申込 #{self.pk} {self.get_kind_display()}（{self.get_status_display()}）"


class OptionContract(models.Model):
    """オプション契約: what a subscriber holds, from approval (or migration) to its end."""

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.PROTECT, related_name="option_contracts", verbose_name="契約者"
    )
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="contracts", verbose_name="オプション")
    variant = models.ForeignKey(
        OptionVariant, on_delete=models.PROTECT, related_name="+", verbose_name="サービス・細目"
    )
    base_contract = models.ForeignKey(
        BaseServiceContract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="option_contracts",
        verbose_name="基本サービス契約",
    )
    carrier_line = models.ForeignKey(
        CarrierLineContract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="option_contracts",
        verbose_name="事業者回線契約",
    )
    quantity = models.PositiveIntegerField("数量", default=1)
    quoted_amount_yen = models.PositiveIntegerField("見積額（円）", null=True, blank=True)
    quoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="見積者",
    )
    status = models.CharField(
        "状態",
        max_length=20,
        choices=OptionContractStatus.choices,
        default=OptionContractStatus.APPROVED,
        db_index=True,
    )
    # The application whose approval made this contract; unique, so one approval makes one contract.
    origin_application = models.OneToOneField(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="created_contract",
        verbose_name="新規利用申込",
    )
    contracted_on = models.DateField("契約成立日", help_text="承諾日（JST）、移行データは実際の成立日")
    approved_at = models.DateTimeField("承諾日時（初期費用の支払義務発生）", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="承諾者",
    )
    billing_start_date = models.DateField("課金開始日", null=True, blank=True, db_index=True)
    end_date = models.DateField("解約日（最終利用日）", null=True, blank=True, db_index=True)
    migrated = models.BooleanField("移行データ", default=False)
    # A migrated contract takes effect (its terms enter the timeline billing reads) only when a second person,
    # independent of the one who registered it, confirms it (option_contract_confirm_migrated).
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="移行データの登録者",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="移行データの確認者",
    )
    confirmed_at = models.DateTimeField("移行データの確認日時", null=True, blank=True)
    succession = models.ForeignKey(
        Succession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        verbose_name="適用した承継",
    )
    created_at = models.DateTimeField("登録日時", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "オプション契約"
        verbose_name_plural = "オプション契約"
        ordering = ["subscriber__code", "contracted_on", "pk"]
        # The lists and queues staff open all day read a page of rows in one of these orders (tested in
        # tests/test_hot_query_plans.py); the queues' indexes hold only what waits, so they stay small.
        indexes = [
            models.Index(fields=["contracted_on", "id"], name="option_contract_contracted_idx"),
            models.Index(
                fields=["approved_at", "id"],
                name="option_contract_to_bill_idx",
                condition=Q(status=OptionContractStatus.APPROVED, billing_start_date__isnull=True),
            ),
            models.Index(
                fields=["created_at", "id"],
                name="option_contract_to_confirm_idx",
                condition=Q(migrated=True, confirmed_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="option_contract_end_after_billing_start",
                condition=Q(end_date__isnull=True)
                | Q(billing_start_date__isnull=True)
                | Q(end_date__gte=F("billing_start_date")),
            ),
            models.CheckConstraint(
                name="option_contract_billing_has_start",
                condition=~Q(status=OptionContractStatus.BILLING) | Q(billing_start_date__isnull=False),
            ),
            models.CheckConstraint(
                name="option_contract_approved_or_migrated",
                condition=Q(migrated=True) | Q(approved_at__isnull=False, approved_by__isnull=False),
            ),
            # 解約 is one act: the contract ends on a date, and only an ended contract has one.
            models.CheckConstraint(
                name="option_contract_ended_iff_end_date",
                condition=Q(status=OptionContractStatus.ENDED, end_date__isnull=False)
                | (~Q(status=OptionContractStatus.ENDED) & Q(end_date__isnull=True)),
            ),
            # One open contract per subscriber × option × basis (the service's _assert_not_held); a missing basis
            # counts as one value, so two open contracts without a basis collide too.
            models.UniqueConstraint(
                "subscriber",
                "option",
                Coalesce("base_contract", Value(0), output_field=models.BigIntegerField()),
                Coalesce("carrier_line", Value(0), output_field=models.BigIntegerField()),
                name="option_contract_one_open_per_basis",
                condition=~Q(status=OptionContractStatus.ENDED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber.code} {self.option.name} / {self.variant.name}"


class ContractTerms(models.Model):
    """One period of the terms an option contract bills on (DOMAIN §3.16): what it is and how much, from when.

    Written only by `contracts.billing.timeline`, in the transaction of the event that set it. A period is never
    deleted: a correction or a later change supersedes it (`superseded_at`), and the timeline is the periods not
    superseded, which do not overlap. History is the audit trail; this is what billing reads.
    """

    option_contract = models.ForeignKey(
        "OptionContract", on_delete=models.PROTECT, related_name="terms", verbose_name="オプション契約"
    )
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="+", verbose_name="オプション")
    variant = models.ForeignKey(
        OptionVariant, on_delete=models.PROTECT, related_name="+", verbose_name="サービス・細目"
    )
    quantity = models.PositiveIntegerField("数量")
    quoted_amount_yen = models.PositiveIntegerField("見積額（円）", null=True, blank=True)
    valid_from = models.DateField("適用開始日")
    valid_until = models.DateField("適用終了日", null=True, blank=True, help_text="この期間の最終日。空欄は期限なし")
    event = models.CharField("設定した事由", max_length=20, choices=TermsEvent.choices)
    application = models.ForeignKey(
        "Application", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="申込"
    )
    succession = models.ForeignKey(
        Succession, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="承継"
    )
    provision = models.CharField("根拠", max_length=100, blank=True)
    superseded_at = models.DateTimeField("失効日時", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登録者"
    )
    created_at = models.DateTimeField("登録日時", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "契約条件の期間"
        verbose_name_plural = "契約条件の期間"
        ordering = ["option_contract", "valid_from", "pk"]
        indexes = [models.Index(fields=["option_contract", "valid_from"], name="terms_contract_from_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["option_contract", "valid_from"],
                condition=Q(superseded_at__isnull=True),
                name="terms_one_period_per_start",
            ),
            models.CheckConstraint(
                name="terms_until_after_from",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
            ),
            models.CheckConstraint(name="terms_quantity_positive", condition=Q(quantity__gte=1)),
        ]

    def __str__(self) -> str:
        return f"契約 #{self.option_contract_id} {wareki(self.valid_from)}〜: {self.variant_id} × {self.quantity}"


class LedgerEntryQuerySet(models.QuerySet):
    """The ledger is append-only: bulk edits and deletes are refused before they reach the database."""

    def update(self, **kwargs):
        raise TypeError("支払義務台帳の行は変更できません。訂正は取消行で行ってください。")

    def delete(self):
        raise TypeError("支払義務台帳の行は削除できません。訂正は取消行で行ってください。")


class LedgerEntry(models.Model):
    """支払義務: one obligation (or one month's charge), never edited; a correction is a reversing row."""

    kind = models.CharField("種別", max_length=20, choices=LedgerKind.choices, db_index=True)
    option_contract = models.ForeignKey(
        OptionContract, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name="オプション契約"
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name="申込",
    )
    fee_item = models.ForeignKey(
        FeeItem, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name="料金細目"
    )
    revision = models.ForeignKey(
        TariffRevision, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name="料金の根拠改定"
    )
    article = models.CharField("根拠条文", max_length=20)
    quantity = models.PositiveIntegerField("数量")
    blocks = models.PositiveIntegerField("単位数", null=True, blank=True)
    unit_amount_yen = models.IntegerField("単価（円）")
    amount_yen = models.BigIntegerField("金額（円）")
    arisen_at = models.DateTimeField("支払義務発生日時", db_index=True)
    booked_month = models.DateField("計上月", db_index=True, help_text="JSTの月初日")
    effective_from = models.DateField("月額の適用開始日", null=True, blank=True)
    charge_month = models.DateField("請求対象月", null=True, blank=True)
    days_billed = models.PositiveSmallIntegerField("課金日数", null=True, blank=True)
    days_in_month = models.PositiveSmallIntegerField("月の日数", null=True, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name="取消対象"
    )
    reason = models.TextField("理由", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="記帳者"
    )
    created_at = models.DateTimeField("記帳日時", auto_now_add=True)

    objects = LedgerEntryQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "支払義務"
        verbose_name_plural = "支払義務台帳"
        permissions = [("reverse_ledgerentry", "支払義務を取消できる")]
        ordering = ["booked_month", "arisen_at", "pk"]
        indexes = [
            models.Index(fields=["booked_month", "kind", "id"], name="ledger_month_idx"),
            # 経理's home lists the rows one wrote, newest first: the close writes 750,000 a month under one name.
            models.Index(fields=["created_by", "created_at", "id"], name="ledger_by_writer_idx"),
            models.Index(fields=["booked_month", "arisen_at", "id"], name="ledger_booked_idx"),
            # 取引金額 is one of 電子帳簿保存法's searches: a range of amounts, and the count and total of the ledger
            # list, are read from this index alone (tests/test_hot_query_plans.py).
            models.Index(fields=["amount_yen"], name="ledger_amount_idx"),
        ]
        constraints = [
            # Exactly once (DOMAIN §3.9): one initial / one-time row per application and fee item.
            models.UniqueConstraint(
                fields=["application", "fee_item"],
                condition=Q(reverses__isnull=True, kind__in=[LedgerKind.INITIAL, LedgerKind.ONE_TIME]),
                name="ledger_once_per_application_fee",
            ),
            # One 月額費用 row per contract × start from each application (the billing start or a change); a
            # correction reverses it and writes the corrected row under its own application, so a reversed row
            # never blocks the row that corrects it.
            models.UniqueConstraint(
                fields=["option_contract", "fee_item", "effective_from", "application"],
                condition=Q(reverses__isnull=True, kind=LedgerKind.MONTHLY),
                name="ledger_monthly_once_per_start",
            ),
            # Month close (DOMAIN §3.11): one charge per option contract × fee item × month.
            models.UniqueConstraint(
                fields=["option_contract", "fee_item", "charge_month"],
                condition=Q(reverses__isnull=True, kind=LedgerKind.MONTHLY_CHARGE),
                name="ledger_charge_once_per_month",
            ),
            models.CheckConstraint(
                name="ledger_reversal_has_reason", condition=Q(reverses__isnull=True) | ~Q(reason="")
            ),
            models.CheckConstraint(
                name="ledger_charge_has_month",
                condition=~Q(kind__in=[LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT])
                | Q(charge_month__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_yen:,}円（#{self.pk}）"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("支払義務台帳の行は変更できません。訂正は取消行で行ってください。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("支払義務台帳の行は削除できません。訂正は取消行で行ってください。")


class MonthClose(models.Model):
    """月次締め: a closed month's charges are frozen in the ledger."""

    month = models.DateField("締め月", unique=True, help_text="JSTの月初日")
    closed_at = models.DateTimeField("締め日時")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="締め実行者"
    )
    charge_rows = models.PositiveIntegerField("月額料金の行数", default=0)
    adjustment_rows = models.PositiveIntegerField("調整の行数", default=0)
    # What the close saw, taken under its short lock before it read (contracts.services.month_close): every row at
    # or below them was committed and seen. The report of a closed month reads only ledger rows up to
    # `ledger_watermark` (taken at the end, its own rows included) and subscribers as of
    # `subscriber_history_watermark`, so regenerating it gives the same bytes; the next close looks again at the
    # contracts changed after `contract_history_watermark`, `terms_history_watermark` and `ledger_seen_watermark`.
    ledger_watermark = models.BigIntegerField("締め時点の台帳の最終番号", default=0)
    # Null for closes made before the close read at a snapshot: they read everything up to ledger_watermark.
    ledger_seen_watermark = models.BigIntegerField("締め開始時点の台帳の最終番号", null=True, blank=True)
    contract_history_watermark = models.BigIntegerField("締め時点のオプション契約履歴の最終番号", default=0)
    subscriber_history_watermark = models.BigIntegerField("締め時点の契約者履歴の最終番号", default=0)
    terms_history_watermark = models.BigIntegerField("締め時点の契約条件履歴の最終番号", default=0)
    # SHA-256 of the rows the close wrote, in their fixed order (contracts.billing.close_rows): equal to the
    # preview's (仮締め) it was confirmed on. Blank for closes made before the preview existed.
    fingerprint = models.CharField("締めた行のフィンガープリント", max_length=64, blank=True, default="")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "月次締め"
        verbose_name_plural = "月次締め"
        permissions = [
            ("export_report", "月次レポートを出力できる"),
            ("close_month", "月次締めを実行できる"),
            ("preview_close", "仮締め（締めの内容）を確認できる"),
        ]
        ordering = ["-month", "pk"]

    def __str__(self) -> str:
        return f"{wareki_month(self.month)} 締め"

    @property
    def ledger_read_up_to(self) -> int:
        """The last ledger id this close certainly read (every row at or below it was committed before it began)."""
        return self.ledger_watermark if self.ledger_seen_watermark is None else self.ledger_seen_watermark


class MonthSeal(models.Model):
    """封印: the hash chain over a closed month's ledger rows (contracts.billing.seal, docs/ledger_seal.md).

    One per close, written in the close's transaction (or, for a close made before seals existed, by `seal_ledger`
    from the rows as it found them: `as_found`). Append-only: `verify_ledger` recomputes it and names the first
    month whose rows no longer match. `chunks` are [first id, last id, rows, SHA-256] of each run of
    contracts.billing.seal.CHUNK_ROWS rows in id order, so a difference is narrowed to one run.
    """

    close = models.OneToOneField(MonthClose, on_delete=models.PROTECT, related_name="seal", verbose_name="月次締め")
    version = models.CharField("封印の方式", max_length=20)
    previous_hash = models.CharField("前の締めの封印", max_length=64, blank=True, help_text="最初の締めは空")
    rows_hash = models.CharField("台帳の行のハッシュ", max_length=64)
    row_count = models.PositiveBigIntegerField("行数")
    chunks = models.JSONField("区切りごとのハッシュ", default=list)
    seal_hash = models.CharField("封印", max_length=64)
    as_found = models.BooleanField(
        "締め後に封印", default=False, help_text="封印の導入前の締め: 封印した時点の台帳のまま封印しています"
    )
    sealed_at = models.DateTimeField("封印日時")
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="封印者"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "台帳の封印"
        verbose_name_plural = "台帳の封印"
        ordering = ["close__month", "pk"]

    def __str__(self) -> str:
        return f"{wareki_month(self.close.month)} 封印"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("台帳の封印は変更できません。")
        super().save(*args, **kwargs)


class MonthCloseSummary(models.Model):
    """A closed month's 集計 as its report gives it, stored once so that the accounting home reads twelve months
    without aggregating millions of ledger rows (contracts.services.month_summaries writes it).

    A closed month's report is frozen (DOMAIN §3.11), so its 集計 never changes after the close: this row is that
    集計, taken from the report itself (contracts.reports), not computed a second way. Append-only. Derived, so
    not in the history (like Subscriber.search_key): it can be read again from the month's report at any time.
    `lines` are [option id, option name, ledger kind, count, yen]; `rates` are [rate %, yen, tax yen].
    """

    close = models.OneToOneField(MonthClose, on_delete=models.PROTECT, related_name="summary", verbose_name="月次締め")
    lines = models.JSONField("オプション・種別ごとの内訳", default=list)
    rates = models.JSONField("税率ごとの金額", default=list)
    total_excl_yen = models.BigIntegerField("税抜合計（円）")
    total_tax_yen = models.BigIntegerField("消費税合計（円）")
    total_incl_yen = models.BigIntegerField("税込合計（円）")
    recorded_at = models.DateTimeField("記録日時")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="記録者"
    )

    class Meta:
        verbose_name = "締め月の集計"
        verbose_name_plural = "締め月の集計"
        ordering = ["-close__month", "pk"]
        constraints = [
            models.CheckConstraint(
                name="month_close_summary_incl_is_excl_plus_tax",
                condition=Q(total_incl_yen=F("total_excl_yen") + F("total_tax_yen")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.close.month:%Y-%m} 集計"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("締め月の集計は変更できません。")
        super().save(*args, **kwargs)


class MonthTaskJob(models.Model):
    """What a month's work run by a task worker shows while it runs (the close, a 速報 refresh): who asked and when,
    its status, and its progress over the month's contracts. Updated in place while the task runs; at most one job
    of a month is queued or running at once (each subclass's partial unique constraint)."""

    month = models.DateField("締め月", help_text="JSTの月初日")
    status = models.CharField(
        "状態", max_length=10, choices=MonthCloseJobStatus.choices, default=MonthCloseJobStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="依頼者"
    )
    requested_at = models.DateTimeField("依頼日時")
    task_id = models.CharField("タスクID", max_length=64, blank=True)
    started_at = models.DateTimeField("開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    contracts_total = models.PositiveIntegerField("対象契約数", default=0)
    contracts_done = models.PositiveIntegerField("処理済み契約数", default=0)
    rows_written = models.PositiveIntegerField("記帳した行数", default=0)
    message = models.TextField("結果", blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_CLOSE_JOB_STATUSES

    @property
    def percent(self) -> int:
        if self.status == MonthCloseJobStatus.DONE:
            return 100
        return 0 if not self.contracts_total else min(99, self.contracts_done * 100 // self.contracts_total)


class MonthCloseJob(MonthTaskJob):
    """A month close asked for on the staff screen and run by a task worker: its status and progress.

    Operational state, not a business record (the MonthClose it ends in is): updated in place while the task runs,
    no history. At most one job of a month is queued or running at once (a partial unique constraint).
    """

    close = models.ForeignKey(
        MonthClose, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="月次締め"
    )
    # The digest of the preview (仮締め) the close was confirmed on (CloseDigest.as_dict); the close is refused
    # when its rows differ from it. Null for a close asked for without a preview (never from the staff screen).
    preview = models.JSONField("確認した仮締め", null=True, blank=True)

    class Meta:
        verbose_name = "月次締めの実行"
        verbose_name_plural = "月次締めの実行"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["month"],
                condition=Q(status__in=ACTIVE_CLOSE_JOB_STATUSES),
                name="month_close_job_one_active_per_month",
            )
        ]

    def __str__(self) -> str:
        return f"{wareki_month(self.month)} 締め（{self.get_status_display()}）"


class ReportFigures(MonthTaskJob):
    """One computation of an open month's 速報 figures (集計, 月額 count, contracts that cannot be priced), asked for on
    the report page and made by a task worker (contracts.services.report_figures), so that the page reads them
    instead of pricing the whole month on every visit.

    Operational while it runs (status and progress are updated in place, like MonthCloseJob); once 完了 its figures
    are never changed: a later refresh is a new row, and the page shows the newest 完了 row of the month with when
    it was computed and whether the book changed since (`watermark`, contracts.billing.watermarks). Derived from
    the book, so not in the history (like MonthCloseSummary). At most one refresh of a month is queued or running.
    `lines` are [option id, option name, ledger kind, count, yen]; `rates` [rate %, yen, tax yen]; `unpriced`
    [option contract id, subscriber code, message] of the first UNPRICED_KEPT contracts that cannot be priced.
    """

    # The same job fields, named for a computation rather than a close.
    month = models.DateField("対象月", help_text="JSTの月初日")
    contracts_done = models.PositiveIntegerField("計算済み契約数", default=0)
    rows_written = models.PositiveIntegerField("計算した月額料金の行数", default=0)
    # What the book was when the figures were read (taken before reading them): the page compares it with now.
    watermark = models.JSONField("集計時点の台帳・契約の状態", default=dict)
    computed_at = models.DateTimeField("集計時点", null=True, blank=True)
    lines = models.JSONField("オプション・種別ごとの内訳", default=list)
    rates = models.JSONField("税率ごとの金額", default=list)
    total_excl_yen = models.BigIntegerField("税抜合計（円）", default=0)
    total_tax_yen = models.BigIntegerField("消費税合計（円）", default=0)
    total_incl_yen = models.BigIntegerField("税込合計（円）", default=0)
    charge_rows = models.PositiveIntegerField("月額料金の行数", default=0)
    unpriced_count = models.PositiveIntegerField("計算できない契約の数", default=0)
    unpriced = models.JSONField("計算できない契約", default=list)

    class Meta:
        verbose_name = "速報の集計"
        verbose_name_plural = "速報の集計"
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["month", "status", "computed_at", "id"], name="report_figures_latest_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["month"],
                condition=Q(status__in=ACTIVE_CLOSE_JOB_STATUSES),
                name="report_figures_one_active_per_month",
            ),
            models.CheckConstraint(
                name="report_figures_incl_is_excl_plus_tax",
                condition=Q(total_incl_yen=F("total_excl_yen") + F("total_tax_yen")),
            ),
        ]

    def __str__(self) -> str:
        return f"{wareki_month(self.month)} 速報の集計（{self.get_status_display()}）"
