"""Reads of a record's audit history for staff screens: who, when, why, what changed, and the record as of a day.

Works on any model tracked by django-simple-history, including records deleted since.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import models

from core.formats import wareki, wareki_datetime

from .clock import jst_midnight

HISTORY_TYPE_LABELS = {"+": "作成", "~": "変更", "-": "削除"}
EMPTY = "—"


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str
    why: str
    action: str
    changes: list[FieldChange] = field(default_factory=list)


@dataclass
class FieldValue:
    label: str
    value: str


def staff_full_name(user) -> str:
    """Return a staff member's name in Japanese order, 姓 名 (`受付 花子`); the username when none is recorded."""
    return f"{user.last_name} {user.first_name}".strip() or user.get_username()


def staff_name(user) -> str:
    """Return how a staff member is named on screen: `受付 花子（uketsuke）`."""
    if user is None:
        return "（記録なし）"
    full = f"{user.last_name} {user.first_name}".strip()
    return f"{full}（{user.username}）" if full and full != user.username else user.username


def _history_of(model: type[models.Model], pk):
    return model.history.filter(**{model._meta.pk.attname: pk})


def record_exists_in_history(model: type[models.Model], pk) -> bool:
    return _history_of(model, pk).exists()


def history_entries(model: type[models.Model], pk) -> list[HistoryEntry]:
    """Return the record's history, newest first, each entry with its field-by-field diff."""
    records = list(_history_of(model, pk).select_related("history_user").order_by("history_date", "history_id"))
    labels = _Labels(model)
    raw: list[tuple] = []
    previous = None
    for record in records:
        pairs = _pairs(model, record, previous)
        for name, old, new in pairs:
            labels.want(name, old)
            labels.want(name, new)
        raw.append((record, pairs))
        previous = record
    labels.fetch()

    entries = []
    for record, pairs in reversed(raw):
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=staff_name(record.history_user),
                why=record.history_change_reason or "",
                action=HISTORY_TYPE_LABELS.get(record.history_type, record.history_type),
                changes=[
                    FieldChange(labels.field_label(name), labels.show(name, old), labels.show(name, new))
                    for name, old, new in pairs
                ],
            )
        )
    return entries


def record_changes(record) -> list[FieldChange]:
    """Return what one historical row changed against the row before it (for the admin's history list)."""
    model = record.instance_type
    pairs = _pairs(model, record, record.prev_record)
    labels = _Labels(model)
    for name, old, new in pairs:
        labels.want(name, old)
        labels.want(name, new)
    labels.fetch()
    return [
        FieldChange(labels.field_label(name), labels.show(name, old), labels.show(name, new))
        for name, old, new in pairs
    ]


def _pairs(model, record, previous) -> list[tuple]:
    """Return (field name, old raw value, new raw value) for what `record` changed; a creation lists its values."""
    if record.history_type == "-":
        return []
    if previous is None:
        return [(f.name, None, _raw(record, f)) for f in _tracked_fields(model) if _raw(record, f) not in (None, "")]
    return [(change.field, change.old, change.new) for change in record.diff_against(previous).changes]


def record_as_of(model: type[models.Model], pk, day: dt.date) -> list[FieldValue] | None:
    """Return the record's fields as they stood at the end of JST `day`; None if it did not exist then."""
    end_of_day = jst_midnight(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)
    record = _history_of(model, pk).filter(history_date__lte=end_of_day).order_by("-history_date", "-history_id")
    record = record.first()
    if record is None or record.history_type == "-":
        return None
    labels = _Labels(model)
    values = [(f.name, _raw(record, f)) for f in _tracked_fields(model)]
    for name, value in values:
        labels.want(name, value)
    for name in labels.m2m_names:
        labels.want(name, _m2m_raw(record, name))
    labels.fetch()
    shown = [FieldValue(labels.field_label(name), labels.show(name, value)) for name, value in values]
    for name in labels.m2m_names:
        shown.append(FieldValue(labels.field_label(name), labels.show(name, _m2m_raw(record, name))))
    return shown


def _tracked_fields(model):
    # What the history holds: a field excluded from it (a derived one, like a search key) has no past to show.
    tracked = {f.name for f in model.history.model.tracked_fields}
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.name in tracked]


def _raw(record, f):
    return getattr(record, f.attname)


def _m2m_raw(record, name):
    """Return the related ids of an m2m field as recorded on a historical row, in simple-history's diff shape."""
    through = getattr(record, name)
    model = record.instance_type
    target = model._meta.get_field(name).related_model._meta.model_name
    return [{target: row[f"{target}_id"]} for row in through.values(f"{target}_id")]


class _Labels:
    """Turns raw history values into what staff read, fetching related objects in one query per model."""

    def __init__(self, model):
        self.model = model
        self.fields = {f.name: f for f in [*model._meta.concrete_fields, *model._meta.many_to_many]}
        self.m2m_names = [f.name for f in getattr(model.history.model, "_history_m2m_fields", [])]
        self.wanted: dict[type, set] = defaultdict(set)
        self.objects: dict[type, dict] = {}

    def field_label(self, name: str) -> str:
        f = self.fields.get(name)
        return str(f.verbose_name) if f is not None else name

    def _related(self, name):
        f = self.fields.get(name)
        return f.related_model if f is not None and (f.many_to_one or f.one_to_one or f.many_to_many) else None

    def want(self, name, value):
        related = self._related(name)
        if related is None or value in (None, ""):
            return
        if isinstance(value, list):
            key = related._meta.model_name
            self.wanted[related].update(row.get(key) for row in value if row.get(key) is not None)
        else:
            self.wanted[related].add(value)

    def fetch(self):
        for related, ids in self.wanted.items():
            queryset = related._base_manager.filter(pk__in=ids).select_related()
            self.objects[related] = {obj.pk: obj for obj in queryset}

    def _object_label(self, related, pk) -> str:
        obj = self.objects.get(related, {}).get(pk)
        if obj is None:
            return f"#{pk}（削除済み）"
        if related._meta.label_lower == "auth.user":
            return staff_name(obj)
        return str(obj)

    def show(self, name, value) -> str:
        if value is None or value == "":
            return EMPTY
        f = self.fields.get(name)
        related = self._related(name)
        if related is not None:
            if isinstance(value, list):
                key = related._meta.model_name
                shown = [self._object_label(related, row.get(key)) for row in value]
                return "、".join(sorted(shown)) if shown else EMPTY
            return self._object_label(related, value)
        if f is not None and f.choices:
            return str(dict(f.flatchoices).get(value, value))
        if isinstance(value, bool):
            return "はい" if value else "いいえ"
        if isinstance(value, dt.datetime):
            return wareki_datetime(value)
        if isinstance(value, dt.date):
            return wareki(value)
        if isinstance(value, int) and f is not None and name.endswith("_yen"):
            return f"{value:,}円"
        return str(value)
