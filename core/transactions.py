"""The transaction of a write service (STYLE "Transactions and locks", after Zulip's actions)."""

from django.db import transaction


def durable_service(func):
    """Make `func` a top-level service: it runs in a durable transaction of its own.

    `service.joined` is the same function inside the caller's transaction (savepoint=False), for the few callers that
    own one on purpose: the CSV import (all rows or none) and the admin's change form, where Django's own
    transaction holds the save, the related saves and the admin log, so that a refusal rolls back all of them.
    """
    service = transaction.atomic(durable=True)(func)
    service.joined = transaction.atomic(savepoint=False)(func)
    return service
