"""Writes to contracts. Each public service is `<entity>_<action>(*, ..., actor)` and runs in its own durable
transaction; those made with `core.transactions.durable_service` also run, as `service.joined`, inside a caller's
transaction (the CSV import and the admin's change form compose those).

Import from here or from the module (`contracts.services.applications`); both name the same functions.
"""

from .applications import (
    application_approve,
    application_reject,
    application_set_quote,
    application_start_review,
    application_submit,
    application_withdraw,
)
from .base_contracts import base_contract_create, base_contract_end
from .carrier_lines import carrier_line_confirm, carrier_line_create, carrier_line_end
from .eligibility import EligibilityResult, eligibility_assert, eligibility_check
from .ledger import ledger_entry_reverse
from .migration_import import option_contracts_import
from .option_contracts import (
    option_contract_confirm_migrated,
    option_contract_end,
    option_contract_register_migrated,
    option_contract_set_billing_start,
)
from .subscribers import subscriber_create, subscriber_deactivate, subscriber_update
from .successions import SuccessionMove, successions_apply

__all__ = [
    "EligibilityResult",
    "SuccessionMove",
    "application_approve",
    "application_reject",
    "application_set_quote",
    "application_start_review",
    "application_submit",
    "application_withdraw",
    "base_contract_create",
    "base_contract_end",
    "carrier_line_confirm",
    "carrier_line_create",
    "carrier_line_end",
    "eligibility_assert",
    "eligibility_check",
    "ledger_entry_reverse",
    "option_contract_confirm_migrated",
    "option_contract_end",
    "option_contract_register_migrated",
    "option_contract_set_billing_start",
    "option_contracts_import",
    "subscriber_create",
    "subscriber_deactivate",
    "subscriber_update",
    "successions_apply",
]
