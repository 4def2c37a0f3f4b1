"""Links every staff screen shares: a record's history page. Load with `{% load records %}`."""

from django import template
from django.urls import NoReverseMatch, reverse

from core.history_read import HISTORY_TYPE_LABELS, staff_full_name
from core.history_read import staff_name as _staff_name

register = template.Library()

# The URL namespace of each app's history pages (options/urls.py, contracts/urls.py).
_NAMESPACES = {"options": "options", "contracts": "contracts", "accounting": "accounting"}


@register.filter
def history_url(obj) -> str:
    """Return the URL of `obj`'s history page, or '' when its model has none."""
    if obj is None:
        return ""
    opts = obj._meta
    namespace = _NAMESPACES.get(opts.app_label)
    if namespace is None:
        return ""
    try:
        return reverse(f"{namespace}:history_{opts.model_name}", args=[obj.pk])
    except NoReverseMatch:
        return ""


@register.filter
def staff_name(user) -> str:
    return _staff_name(user)


@register.filter
def staff_greeting(user) -> str:
    return staff_full_name(user)


@register.inclusion_tag("history/_link.html")
def history_link(obj, label="変更履歴"):
    return {"url": history_url(obj), "label": label}


@register.filter
def history_action(record) -> str:
    """作成 / 変更 / 削除 for a historical row (simple-history's own labels have no Japanese)."""
    return HISTORY_TYPE_LABELS.get(record.history_type, record.history_type)
