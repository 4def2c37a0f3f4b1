from django.db import models


class SubscriberKind(models.TextChoices):
    CORPORATE = "corporate", "法人"
    INDIVIDUAL = "individual", "個人"


class MonthCloseJobStatus(models.TextChoices):
    QUEUED = "queued", "待機中"
    RUNNING = "running", "実行中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"


ACTIVE_CLOSE_JOB_STATUSES = (MonthCloseJobStatus.QUEUED, MonthCloseJobStatus.RUNNING)


class OptionContractStatus(models.TextChoices):
    """The contract's workflow stage, which the services move; what staff see is its ContractState on a date."""

    APPROVED = "approved", "承諾済"
    BILLING = "billing", "課金開始日登録済"
    ENDED = "ended", "解約承諾済"


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
    CORRECTION = "correction", "訂正申込"


class CorrectionTarget(models.TextChoices):
    """What a 訂正申込 corrects (DOMAIN §3.17): a date or the terms of one period entered wrongly."""

    BILLING_START = "billing_start", "課金開始日"
    END_DATE = "end_date", "解約日（最終利用日）"
    TERMS = "terms", "数量・見積額"


class TermsEvent(models.TextChoices):
    """The event that set a period of a contract's terms (DOMAIN §3.16)."""

    APPROVAL = "approval", "新規利用申込の承諾"
    MIGRATION = "migration", "移行データの登録"
    CHANGE = "change", "契約内容変更申込の承諾"
    SUCCESSION = "succession", "経過措置による承継"
    CORRECTION = "correction", "訂正申込の承諾"


class ContractState(models.TextChoices):
    """A contract's status on a date, read from its dates (DOMAIN §3.18); never stored."""

    WAITING = "waiting", "課金開始待ち"
    BILLING = "billing", "課金中"
    ENDING = "ending", "解約予定"
    ENDED = "ended", "解約済"


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
