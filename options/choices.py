from django.db import models


class OptionStatus(models.TextChoices):
    ACTIVE = "active", "提供中"
    RETIRED = "retired", "廃止（承継済）"


class EligibilityKind(models.TextChoices):
    SERVICE_CONTRACT = "service", "当社サービスの契約者であること"
    CARRIER_LINE = "carrier_line", "特定の事業者サービスの契約（確認済）があること"


class FeeKind(models.TextChoices):
    INITIAL = "initial", "初期費用"
    MONTHLY = "monthly", "月額費用"
    ONE_TIME = "one_time", "一時費用"


class Pricing(models.TextChoices):
    FIXED = "fixed", "定額"
    PER_BLOCK = "per_block", "単位数あたり"
    QUOTED = "quoted", "個別見積（当社が別途契約者に示す金額）"


class ChargeBasis(models.TextChoices):
    PER_CONTRACT = "per_contract", "1契約あたり"
    PER_ACCOUNT = "per_account", "1契約アカウントあたり"
    PER_BLOCK = "per_block", "単位数あたり"


class Proration(models.TextChoices):
    """How a month in which billing starts or ends is charged (DOMAIN §3.6)."""

    DAILY = "daily", "日割り（切り捨て）"
    FULL_MONTH = "full_month", "1か月分"


class RevisionStatus(models.TextChoices):
    """Where a revision stands in its workflow (options.services.revisions.REVISION_TRANSITIONS)."""

    DRAFT = "draft", "下書き"
    REVIEW = "review", "確認待ち"
    PUBLISHED = "published", "公開済み"


# The revision workflow: the drafter sends the draft for review; a colleague sends it back or publishes it.
# A published revision never goes back (what it priced stands; a correction is a new revision).
REVISION_TRANSITIONS: dict[str, frozenset[str]] = {
    RevisionStatus.DRAFT: frozenset({RevisionStatus.REVIEW}),
    RevisionStatus.REVIEW: frozenset({RevisionStatus.DRAFT, RevisionStatus.PUBLISHED}),
    RevisionStatus.PUBLISHED: frozenset(),
}
