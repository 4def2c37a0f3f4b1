from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from options.models import Option

from .choices import JOURNAL_KIND_CHOICES, TAX_CLASSES_BY_RATE, TaxClass

# The strictest field length of the three products (弥生: 勘定科目・補助科目・部門 24 half-width characters, a
# full-width one counting two): a mapping is refused beyond it, so every journal file can hold its names.
ACCOUNT_NAME_WIDTH = 24


def _tax_choices(rate: int) -> list[tuple[str, str]]:
    return [(c.value, c.label) for c in TAX_CLASSES_BY_RATE[rate]]


class AccountMapping(models.Model):
    """勘定科目の対応: how the month's amounts of one option × fee kind are booked in the accounting system.

    The debit is the receivable (売掛金), the credit the sales account; 税区分 per tax rate in force. A journal
    of a closed month reads each mapping as it stood at the close (or, made after it, as first saved), so the
    journal is the same whenever it is regenerated (accounting.journals)."""

    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="+", verbose_name="オプション")
    kind = models.CharField("料金の種別", max_length=20, choices=JOURNAL_KIND_CHOICES)
    debit_account = models.CharField("借方勘定科目", max_length=ACCOUNT_NAME_WIDTH, default="売掛金")
    debit_sub_account = models.CharField("借方補助科目", max_length=ACCOUNT_NAME_WIDTH, blank=True)
    credit_account = models.CharField("貸方勘定科目", max_length=ACCOUNT_NAME_WIDTH, default="売上高")
    credit_sub_account = models.CharField("貸方補助科目", max_length=ACCOUNT_NAME_WIDTH, blank=True)
    department = models.CharField("部門", max_length=ACCOUNT_NAME_WIDTH, blank=True)
    tax_class_10 = models.CharField("税区分（10%）", max_length=20, choices=_tax_choices(10), default=TaxClass.SALES_10)
    tax_class_8 = models.CharField("税区分（8%）", max_length=20, choices=_tax_choices(8), default=TaxClass.SALES_8)
    tax_class_5 = models.CharField("税区分（5%）", max_length=20, choices=_tax_choices(5), default=TaxClass.SALES_5)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="更新者"
    )
    updated_at = models.DateTimeField("更新日時")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "勘定科目の対応"
        verbose_name_plural = "勘定科目の対応"
        ordering = ["option__section__number", "option__name", "kind", "pk"]
        constraints = [models.UniqueConstraint(fields=["option", "kind"], name="account_mapping_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.option.name} / {self.get_kind_display()}"

    def tax_class_for(self, rate_percent: int) -> str:
        return getattr(self, f"tax_class_{rate_percent}")
