"""Date and money filters for staff screens; a builtin (settings TEMPLATES OPTIONS), so no {% load %}.

The formats themselves are core.formats, shared with tables, history and the admin.
"""

from django import template

from core.formats import wareki, wareki_datetime, wareki_month, wareki_only, yen

register = template.Library()

for _filter in (wareki, wareki_only, wareki_datetime, wareki_month, yen):
    register.filter(_filter.__name__, _filter)
