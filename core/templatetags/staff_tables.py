"""One table row of a staff list, written in Python: `{% staff_table_row table row %}` (templates/tables/table.html).

django-tables2's own row template resolves `column.attrs.td.as_html`, `column.header` and `column.localize` for
every cell: `BoundColumn.attrs` rebuilds the table's and the column's attribute dicts each time, and the template
engine's lookups on top of it cost more than the cells themselves (a list of 50 rows × 9 columns spent ~60% of its
rendering there, bench/pages.py). A column's td attributes and its label are the same on every row unless its attrs
are callables of the record, so they are worked out once per table; the cells are still django-tables2's own
(`BoundRow.get_cell`: accessors, `render_*`, links, defaults), and the HTML written is the same.
"""

from dataclasses import dataclass

from django import template
from django.template.base import render_value_in_context
from django.templatetags.l10n import localize as localize_filter
from django.templatetags.l10n import unlocalize as unlocalize_filter
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@dataclass(frozen=True)
class _Column:
    bound: object  # django_tables2 BoundColumn
    td_html: str | None  # None: the attrs depend on the row (callables), computed per cell
    label: str


def _attrs_vary(table, bound) -> bool:
    """Whether the column's td attributes are computed from the row (a callable anywhere in them)."""
    attrs = {**dict(table.attrs), **dict(bound.column.attrs)}
    td = attrs.get("td", attrs.get("cell", {}))

    def has_callable(value) -> bool:
        if callable(value):
            return True
        return isinstance(value, dict) and any(has_callable(v) for v in value.values())

    return has_callable(td)


def _plan(table) -> list[_Column]:
    plan = getattr(table, "_staff_row_plan", None)
    if plan is None:
        plan = [
            _Column(
                bound=bound,
                td_html=None if _attrs_vary(table, bound) else bound.attrs["td"].as_html(),
                label=str(conditional_escape(bound.header)),
            )
            for bound in table.columns
        ]
        table._staff_row_plan = plan
    return plan


def _cell_html(value, localize, context) -> str:
    if localize is None:
        return render_value_in_context(value, context)
    # As `{{ cell|localize }}` / `{{ cell|unlocalize }}` in the library's template: the filter, then autoescape.
    shown = localize_filter(value) if localize else unlocalize_filter(value)
    return render_value_in_context(shown, context)


@register.simple_tag(takes_context=True)
def staff_table_row(context, table, row):
    """`<tr>` with each cell in its `<td>`, carrying the column's label (data-label: the phone's stacked cards)."""
    cells = []
    for column in _plan(table):
        bound = column.bound
        value = row.get_cell(bound.name)
        # As BoundRow.items() does: computed attrs (and a column's render) may read the current cell.
        bound.current_value, bound.current_record = value, row.record
        td = column.td_html if column.td_html is not None else bound.attrs["td"].as_html()
        cells.append(f'<td {td} data-label="{column.label}">{_cell_html(value, bound.localize, context)}</td>')
    return mark_safe(f"<tr {row.attrs.as_html()}>\n    " + "\n    ".join(cells) + "\n  </tr>")
