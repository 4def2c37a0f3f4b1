"""What a journal line is booked as: the fee kinds a mapping is kept for, and the 税区分 per tax rate."""

from django.db import models

from contracts.choices import LedgerKind

# The ledger kinds that are money of the month (the report's 集計): one mapping per option × each of them.
JOURNAL_KINDS = (LedgerKind.INITIAL, LedgerKind.ONE_TIME, LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT)
JOURNAL_KIND_CHOICES = [(kind.value, kind.label) for kind in JOURNAL_KINDS]


class TaxClass(models.TextChoices):
    """The back office's own 税区分 of a sales line, per rate; each journal format names it in its product's words
    (accounting.formats). Tariff amounts are tax-exclusive and every charge is taxable (DOMAIN §3.10), so a sales
    line is 課税売上 at the rate in force on its charged date; 8% splits into the standard rate of 2014-04-01〜
    2019-09-30 and the reduced rate (軽減税率) the products keep apart since 2019-10-01."""

    SALES_10 = "sales_10", "課税売上10%（標準税率）"
    SALES_8 = "sales_8", "課税売上8%（旧標準税率）"
    SALES_8_REDUCED = "sales_8_reduced", "課税売上8%（軽減税率）"
    SALES_5 = "sales_5", "課税売上5%（旧税率）"


# The 税区分 a mapping may give each rate in force (contracts.billing.pricing.TAX_RATES), and the default.
TAX_CLASSES_BY_RATE: dict[int, tuple[TaxClass, ...]] = {
    10: (TaxClass.SALES_10,),
    8: (TaxClass.SALES_8, TaxClass.SALES_8_REDUCED),
    5: (TaxClass.SALES_5,),
}
