"""The one way a service saves a tracked record: with the acting user and a reason in its history."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models


def save_with_history(instance: models.Model, *, actor, reason: str, **save_kwargs) -> None:
    """Save `instance`, recording `actor` and `reason` on the history row simple-history writes."""
    instance._history_user = actor
    instance._change_reason = reason
    try:
        instance.save(**save_kwargs)
    finally:
        # A later save of the same object must state its own reason.
        del instance._change_reason


def system_user():
    """Return the named user that management commands act as (created on first use, cannot log in)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=settings.SYSTEM_USERNAME,
        defaults={"first_name": "システム", "last_name": "", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
