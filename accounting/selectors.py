"""Reads of the accounting app: the mapping table as staff see it, every option × fee kind with its mapping."""

from dataclasses import dataclass

from contracts.choices import LedgerKind
from options.models import Option

from .choices import JOURNAL_KINDS
from .models import AccountMapping


@dataclass(frozen=True)
class MappingRow:
    option: Option
    kind: str
    kind_label: str
    mapping: AccountMapping | None


def mapping_table() -> list[MappingRow]:
    """Every option × journal kind, with its mapping or None (two queries, whatever the number of rows)."""
    mappings = {(m.option_id, m.kind): m for m in AccountMapping.objects.select_related("updated_by")}
    options = Option.objects.select_related("section").order_by("section__number", "name", "pk")
    return [
        MappingRow(option, kind.value, LedgerKind(kind).label, mappings.get((option.pk, kind.value)))
        for option in options
        for kind in JOURNAL_KINDS
    ]
