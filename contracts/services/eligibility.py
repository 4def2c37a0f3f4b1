"""利用の条件 as a guard: submission, approval and migrated registration refuse, naming the article, when they are
not met (DOMAIN §3.7, §3.13). The rule itself is the one evaluator, `contracts.selectors.eligibility_evaluate`."""

import datetime as dt

from contracts.models import Subscriber
from contracts.selectors import (
    EligibilityMode,
    EligibilityResult,
    GivenBasis,
    eligibility_check,
    eligibility_evaluate,
)
from core.errors import DomainError
from options.models import Option

__all__ = ["EligibilityResult", "eligibility_assert", "eligibility_check"]


def eligibility_assert(
    *,
    subscriber: Subscriber,
    option: Option,
    on: dt.date,
    mode: EligibilityMode = EligibilityMode.APPLICATION,
    given: GivenBasis | None = None,
) -> EligibilityResult:
    """Return the eligibility result, or raise DomainError with its message and article.

    A new application or an approval is refused as "not_eligible"; a migrated contract with the evaluator's code
    (basis_mismatch, basis_after_contract, basis_required), which the CSV import maps to its columns."""
    result = eligibility_evaluate(subscriber=subscriber, option=option, on=on, mode=mode, given=given)
    if not result.ok:
        # A deactivated subscriber is about the subscriber, not the option: the screens put it by that field.
        kept = mode == EligibilityMode.MIGRATED or result.code == "subscriber_inactive"
        code = result.code if kept else "not_eligible"
        raise DomainError(result.message, article=result.article, code=code)
    return result
