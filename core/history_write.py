"""The one way a service saves a tracked record: with the acting user and a reason in its history."""

from collections.abc import Callable, Iterable
from itertools import islice

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .limits import date_assert_in_bounds
from .text import TextKind, record_texts_assert_clean, text_assert_clean


def save_with_history(instance: models.Model, *, actor, reason: str, **save_kwargs) -> None:
    """Save `instance`, recording `actor` and `reason` on the history row simple-history writes.

    Whatever service saves, the record's texts follow the one text rule (core.text) and its dates lie within the
    declared bounds (core.limits): a refusal names the field, and nothing is saved.
    """
    record_assert_storable(instance)
    text_assert_clean(reason, label="変更理由", kind=TextKind.TEXT)
    instance._history_user = actor
    instance._change_reason = reason
    try:
        instance.save(**save_kwargs)
    finally:
        # A later save of the same object must state its own reason.
        del instance._change_reason


def record_assert_storable(instance: models.Model) -> None:
    """Refuse a record with a text the rule forbids or a date outside the bounds, naming the field."""
    record_texts_assert_clean(instance)
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            date_assert_in_bounds(getattr(instance, field.attname), label=str(field.verbose_name))


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


# The history row's own columns: everything else in a historical model is a copy of the record's fields.
_HISTORY_OWN = ("history_id", "history_date", "history_change_reason", "history_type", "history_user")


def bulk_append_with_history(
    model: type[models.Model],
    rows: Iterable[dict],
    *,
    actor,
    reason: str,
    batch_size: int = 5000,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Insert new records of one tracked model, each given as its fields by attribute name (no pk), with their
    "+" history rows, all stamped with `actor` and `reason`; return how many. `rows` may be a generator: it is
    consumed once, never held whole.

    On PostgreSQL the records go by COPY, a batch at a time, then their history rows by one INSERT … SELECT of
    the records just written: the set-based write of the month close, in bounded memory. The records written are
    told apart by the id they got (above the table's largest id before) and this write's time in their
    auto_now_add field. Elsewhere in batches through simple-history's bulk_create_with_history. Nothing here
    updates or deletes. `on_batch`, if given, is called after each batch with the records written so far.
    """
    if connection.vendor != "postgresql":
        written = 0
        iterator = iter(rows)
        while batch := [model(**row) for row in islice(iterator, batch_size)]:
            bulk_create_with_history(batch, model, default_user=actor, default_change_reason=reason)
            written += len(batch)
            if on_batch is not None:
                on_batch(written)
        return written
    now = timezone.now()
    opts = model._meta
    history = model.history.model
    record_fields = [f for f in opts.concrete_fields if not f.primary_key]
    copied = {f.attname for f in history._meta.concrete_fields if f.name not in _HISTORY_OWN}
    if copied != {opts.pk.attname, *(f.attname for f in record_fields)}:
        raise RuntimeError(f"{history.__name__} does not mirror {model.__name__}")
    stamped = [f for f in record_fields if getattr(f, "auto_now_add", False)]
    if not stamped:
        raise RuntimeError(f"{model.__name__} has no auto_now_add field to tell this write's records by")
    stamp_names = {f.attname for f in stamped}
    # psycopg adapts these Python values (text, numbers, dates, aware datetimes, ids) as they are; a field
    # left out gets its default.
    defaults = {f.attname: f.get_default() for f in record_fields if f.attname not in stamp_names}
    attnames = [f.attname for f in record_fields]
    quote = connection.ops.quote_name
    table, pk = quote(opts.db_table), quote(opts.pk.column)
    columns = ", ".join(quote(f.column) for f in record_fields)
    written = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max({pk}), 0) FROM {table}")
        before = cursor.fetchone()[0]
        iterator = iter(rows)
        # In batches: building the rows may read the database (the close's charges do), which cannot happen on
        # this connection while a COPY is open.
        while batch := [
            [now if name in stamp_names else row.get(name, defaults[name]) for name in attnames]
            for row in islice(iterator, batch_size)
        ]:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for record in batch:
                    copy.write_row(record)
            written += len(batch)
            if on_batch is not None:
                on_batch(written)
        if not written:
            return 0
        own = ", ".join(quote(c) for c in ("history_date", "history_change_reason", "history_type", "history_user_id"))
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({pk}, {columns}, {own}) "
            f"SELECT {pk}, {columns}, %s, %s, '+', %s FROM {table} WHERE {pk} > %s AND {quote(stamped[0].column)} = %s",
            [now, reason, actor.pk, before, now],
        )
        if cursor.rowcount != written:
            raise RuntimeError(f"{written} records written, {cursor.rowcount} history rows: the write is refused")
    return written
