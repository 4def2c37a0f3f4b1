"""利用の条件 as a guard: submission and approval refuse, naming the article, when it is not met (DOMAIN §3.7)."""

import datetime as dt

from contracts.models import Subscriber
from contracts.selectors import EligibilityResult, eligibility_check
from core.errors import DomainError
from options.models import Option

__all__ = ["EligibilityResult", "eligibility_assert", "eligibility_check"]


def eligibility_assert(*, subscriber: Subscriber, option: Option, on: dt.date) -> EligibilityResult:
    """Return the eligibility result, or raise DomainError with its message and article."""
    result = eligibility_check(subscriber=subscriber, option=option, on=on)
    if not result.ok:
        raise DomainError(result.message, article=result.article, code="not_eligible")
    return result
