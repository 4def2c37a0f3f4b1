from django.db import models


class SubscriberKind(models.TextChoices):
    CORPORATE = "corporate", "法人"
    INDIVIDUAL = "individual", "個人"


class OptionContractStatus(models.TextChoices):
    APPROVED = "approved", "承諾済（課金開始待ち）"
    BILLING = "billing", "課金中"
    ENDED = "ended", "解約済"


# The one map of allowed option-contract transitions.
OPTION_CONTRACT_TRANSITIONS: dict[str, set[str]] = {
    OptionContractStatus.APPROVED: {OptionContractStatus.BILLING, OptionContractStatus.ENDED},
    OptionContractStatus.BILLING: {OptionContractStatus.ENDED},
    OptionContractStatus.ENDED: set(),
}


class ApplicationKind(models.TextChoices):
    NEW = "new", "新規利用申込"
    CHANGE = "change", "契約内容変更申込"
    CANCEL = "cancel", "解約申込"


class ApplicationStatus(models.TextChoices):
    RECEIVED = "received", "受付"
    UNDER_REVIEW = "under_review", "審査中"
    APPROVED = "approved", "承諾"
    REJECTED = "rejected", "不承諾"
    WITHDRAWN = "withdrawn", "取下げ"


# The one map of allowed application transitions (受付 → 審査中 → 承諾 / 不承諾 / 取下げ).
APPLICATION_TRANSITIONS: dict[str, set[str]] = {
    ApplicationStatus.RECEIVED: {ApplicationStatus.UNDER_REVIEW, ApplicationStatus.WITHDRAWN},
    ApplicationStatus.UNDER_REVIEW: {
        ApplicationStatus.APPROVED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
    },
    ApplicationStatus.APPROVED: set(),
    ApplicationStatus.REJECTED: set(),
    ApplicationStatus.WITHDRAWN: set(),
}

OPEN_APPLICATION_STATUSES = (ApplicationStatus.RECEIVED, ApplicationStatus.UNDER_REVIEW)


class LedgerKind(models.TextChoices):
    INITIAL = "initial", "初期費用"
    MONTHLY = "monthly", "月額費用（課金開始）"
    ONE_TIME = "one_time", "一時費用"
    MONTHLY_CHARGE = "monthly_charge", "月額料金（月次）"
    ADJUSTMENT = "adjustment", "調整（締め済み月の訂正）"
