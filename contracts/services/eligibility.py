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
    new_use_evaluate,
)
from core.errors import DomainError
from options.models import Option

__all__ = ["EligibilityResult", "eligibility_assert", "eligibility_check", "new_use_assert"]

# Refusals about something other than the option's conditions keep their code: the screens put each by its field.
_KEPT_CODES = {"subscriber_inactive", "already_held", "duplicate_application"}


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
    return _asserted(result, kept=mode == EligibilityMode.MIGRATED)


def new_use_assert(*, subscriber: Subscriber, option: Option, on: dt.date) -> EligibilityResult:
    """Return `new_use_evaluate`'s result (利用の条件, not held already, no other open 新規利用申込), or raise
    DomainError: "not_eligible" for the conditions, "already_held" / "duplicate_application" for the others."""
    return _asserted(new_use_evaluate(subscriber=subscriber, option=option, on=on), kept=False)


def _asserted(result: EligibilityResult, *, kept: bool) -> EligibilityResult:
    if not result.ok:
        code = result.code if kept or result.code in _KEPT_CODES else "not_eligible"
        raise DomainError(result.message, article=result.article, code=code)
    return result
