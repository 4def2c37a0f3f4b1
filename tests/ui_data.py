"""Deprecated: the screen tests' builders now live in tests.factories (one layer, through the services).

These names stay so that tests written against them keep working; new tests import tests.factories.
"""

from tests.factories import SWP, billing_contract, submit_swp, swp, swp_subscriber
from tests.factories import review_and_approve as approve

__all__ = ["SWP", "approve", "billing_contract", "submit_swp", "swp", "swp_subscriber"]
