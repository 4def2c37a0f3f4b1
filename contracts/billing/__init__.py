"""Billing: the terms timeline, pricing, the month's charges and adjustments, and the one ledger-row builder."""
