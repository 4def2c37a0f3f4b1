"""The catalogue of 個別規程 有料オプション: what may be sold, to whom, and at what price on which date."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .choices import ChargeBasis, EligibilityKind, FeeKind, OptionStatus, Pricing, Proration, RevisionStatus


class Service(models.Model):
    """A service of the company itself on which an option rests (IIJ Web ハイグレード2 サービス, ...)."""

    code = models.SlugField("コード", max_length=50, unique=True)
    name = models.CharField("サービス名", max_length=200)
    note = models.TextField("備考", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "当社サービス"
        verbose_name_plural = "当社サービス"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Carrier(models.Model):
    """A telecommunications carrier (電気通信事業者) other than the company."""

    code = models.SlugField("コード", max_length=50, unique=True)
    name = models.CharField("事業者名", max_length=200)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "電気通信事業者"
        verbose_name_plural = "電気通信事業者"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class CarrierService(models.Model):
    """A carrier's specific service that the subscriber contracts with that carrier (第1条)."""

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="services", verbose_name="事業者")
    code = models.SlugField("コード", max_length=50, unique=True)
    name = models.CharField("サービス名", max_length=200)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "事業者サービス"
        verbose_name_plural = "事業者サービス"
        ordering = ["carrier__name", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.carrier.name} {self.name}"


class Section(models.Model):
    """A section (節) of the regulation; each holds one option family."""

    number = models.PositiveSmallIntegerField("節", unique=True)
    title = models.CharField("表題", max_length=200)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "節"
        verbose_name_plural = "節"
        ordering = ["number", "pk"]

    def __str__(self) -> str:
        return f"第{self.number}節 {self.title}"


class Option(models.Model):
    """An option (オプション機能) of a section, current or retired."""

    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="options", verbose_name="節")
    code = models.SlugField("コード", max_length=50, unique=True)
    name = models.CharField("オプション名", max_length=200)
    status = models.CharField("状態", max_length=10, choices=OptionStatus.choices, default=OptionStatus.ACTIVE)
    retired_on = models.DateField("廃止日", null=True, blank=True)
    condition_article = models.CharField("利用の条件の条", max_length=20, help_text="例: 第1条")
    fee_article = models.CharField("料金の条", max_length=20, help_text="例: 第2条")
    annex_ref = models.CharField("別紙", max_length=40, blank=True, help_text="例: 別紙1(1)")
    description = models.TextField("説明", blank=True)
    # A revision drafted in the staff screens may add an option or retire one. An option it adds takes no contract
    # until that revision is published and in force (options.selectors.option_retired_refusal); an option it
    # retires stays as it is until the revision is published, which then writes status and retired_on (its 実施日).
    introduced_by = models.ForeignKey(
        "TariffRevision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="options_introduced",
        verbose_name="追加した改定",
    )
    retired_by = models.ForeignKey(
        "TariffRevision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="options_retired",
        verbose_name="廃止する改定",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "オプション機能"
        verbose_name_plural = "オプション機能"
        ordering = ["section__number", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                name="option_retired_has_date",
                condition=Q(status=OptionStatus.ACTIVE, retired_on__isnull=True)
                | Q(status=OptionStatus.RETIRED, retired_on__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.name


class OptionVariant(models.Model):
    """The service or 細目 under which an option is priced (タイプA, タイプE, 追加アカウント使用料, ...)."""

    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="variants", verbose_name="オプション")
    code = models.SlugField("コード", max_length=50)
    name = models.CharField("サービス・細目", max_length=200)
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="対応する当社サービス"
    )

    history = HistoricalRecords()

    CHOICE_LABEL_RELATED = ("option",)  # what choice_label reads

    class Meta:
        verbose_name = "サービス・細目"
        verbose_name_plural = "サービス・細目"
        ordering = ["option__section__number", "option__name", "code", "pk"]
        constraints = [models.UniqueConstraint(fields=["option", "code"], name="variant_unique_code_per_option")]

    def __str__(self) -> str:
        return self.name

    def choice_label(self) -> str:
        """The variant as a choice among all options' (「標準」 alone names four): `オプション ／ 細目`."""
        return f"{self.option.name} ／ {self.name}"


class EligibilityRule(models.Model):
    """Who may use an option (利用の条件): one of a set of services, or a confirmed carrier line."""

    option = models.ForeignKey(
        Option, on_delete=models.PROTECT, related_name="eligibility_rules", verbose_name="オプション"
    )
    kind = models.CharField("条件の種類", max_length=20, choices=EligibilityKind.choices)
    article = models.CharField("根拠条文", max_length=20, help_text="例: 第3条")
    services = models.ManyToManyField(
        Service, blank=True, related_name="+", verbose_name="必要な当社サービス（いずれか）"
    )
    carrier_services = models.ManyToManyField(
        CarrierService, blank=True, related_name="+", verbose_name="必要な事業者サービス（いずれか）"
    )
    description = models.TextField("条件の文言", blank=True)

    history = HistoricalRecords(m2m_fields=[services, carrier_services])

    class Meta:
        verbose_name = "利用の条件"
        verbose_name_plural = "利用の条件"
        ordering = ["option__section__number", "article", "pk"]

    def __str__(self) -> str:
        return f"{self.option.name}（{self.article}）"


class TariffRevision(models.Model):
    """An amendment of the regulation (附則), in force from its 実施日."""

    title = models.CharField("表題", max_length=100, help_text="例: 平成26年3月1日変更")
    amended_on = models.DateField("変更日", unique=True)
    effective_on = models.DateField("実施日", db_index=True)
    provisions = models.TextField("附則の本文")
    # The regulation's own revisions were published before this system; a revision drafted in the staff screens
    # starts as a draft, which pricing never reads (options.selectors.fee_schedule).
    status = models.CharField(
        "状態", max_length=10, choices=RevisionStatus.choices, default=RevisionStatus.PUBLISHED, db_index=True
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="起案者",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="公開者",
    )
    published_at = models.DateTimeField("公開日時", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "改定（附則）"
        verbose_name_plural = "改定（附則）"
        ordering = ["effective_on", "amended_on", "pk"]
        permissions = [
            ("publish_tariffrevision", "改定を公開できる"),
            ("preview_tariffrevision", "改定の影響を試算できる"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        """Not yet published: in the drafter's hands or waiting for a colleague's review."""
        return self.status != RevisionStatus.PUBLISHED


class FeeItem(models.Model):
    """A fee of 別紙1 as set by one revision; it stays in force until a later revision sets the same key.

    The key is (option, variant, kind). A later row with `discontinued` ends the fee.
    """

    revision = models.ForeignKey(
        TariffRevision, on_delete=models.PROTECT, related_name="fee_items", verbose_name="適用開始の改定"
    )
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="fee_items", verbose_name="オプション")
    variant = models.ForeignKey(
        OptionVariant, on_delete=models.PROTECT, related_name="fee_items", verbose_name="サービス・細目"
    )
    kind = models.CharField("料金種別", max_length=10, choices=FeeKind.choices)
    name = models.CharField("細目名", max_length=200)
    pricing = models.CharField("料金の定め方", max_length=10, choices=Pricing.choices)
    amount_yen = models.PositiveIntegerField("金額（円）", null=True, blank=True, help_text="個別見積では空欄")
    block_size = models.PositiveIntegerField("単位数", null=True, blank=True, help_text="例: 10アカウントあたり → 10")
    charge_basis = models.CharField("課金単位", max_length=20, choices=ChargeBasis.choices)
    proration = models.CharField("月途中の扱い", max_length=20, choices=Proration.choices, default=Proration.DAILY)
    discontinued = models.BooleanField("この改定で廃止", default=False)
    article = models.CharField("根拠条文", max_length=20, help_text="例: 第2条")
    annex_ref = models.CharField("別紙", max_length=40, blank=True)
    note = models.TextField("備考", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "料金細目"
        verbose_name_plural = "料金細目"
        ordering = ["option__section__number", "option__name", "variant__code", "kind", "revision__effective_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "variant", "kind"], name="fee_item_once_per_revision"),
            models.CheckConstraint(
                name="fee_item_pricing_consistent",
                condition=Q(discontinued=True)
                | Q(pricing=Pricing.FIXED, amount_yen__isnull=False, block_size__isnull=True)
                | Q(pricing=Pricing.PER_BLOCK, amount_yen__isnull=False, block_size__gt=0)
                | Q(pricing=Pricing.QUOTED, amount_yen__isnull=True, block_size__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.option.name} / {self.name}（{self.get_kind_display()}・{self.revision.title}）"

    @property
    def price_label(self) -> str:
        if self.discontinued:
            return "廃止"
        if self.pricing == Pricing.QUOTED:
            return "当社が別途契約者に示す金額"
        if self.pricing == Pricing.PER_BLOCK:
            return f"{self.block_size}アカウントあたり {self.amount_yen:,}円"
        return f"{self.amount_yen:,}円"


class Succession(models.Model):
    """A retired option whose contracts continue as another option (平成26年3月1日変更 附則第2項〜第4項)."""

    from_option = models.ForeignKey(
        Option, on_delete=models.PROTECT, related_name="successions_out", verbose_name="旧オプション"
    )
    to_option = models.ForeignKey(
        Option, on_delete=models.PROTECT, related_name="successions_in", verbose_name="承継先オプション"
    )
    revision = models.ForeignKey(
        TariffRevision, on_delete=models.PROTECT, related_name="successions", verbose_name="根拠の改定"
    )
    effective_on = models.DateField("承継日")
    contracts_made_until = models.DateField("対象となる契約の成立日（以前）")
    provision = models.CharField("根拠規定", max_length=100, help_text="例: 平成26年3月1日変更 附則第2項")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "承継"
        verbose_name_plural = "承継"
        ordering = ["effective_on", "provision", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["from_option"], name="succession_once_per_option"),
            models.CheckConstraint(name="succession_not_to_itself", condition=~Q(from_option=models.F("to_option"))),
        ]

    def __str__(self) -> str:
        return f"{self.from_option.name} → {self.to_option.name}（{self.provision}）"
