"""`monthly_report` with the journals: --format journal-yayoi|journal-freee|journal-mf writes a closed month's
journal (accounting.formats); every other format is the report's (contracts' monthly_report)."""

from accounting.formats import FORMATS, journal_export
from contracts.management.commands import monthly_report
from core.errors import DomainError


class Command(monthly_report.Command):
    help = monthly_report.Command.help + " 仕訳: --format journal-yayoi|journal-freee|journal-mf（締め済みの月のみ）"
    formats = [*monthly_report.Command.formats, *FORMATS]

    def export(self, *, month, fmt, part, replacement):
        if fmt not in FORMATS:
            return super().export(month=month, fmt=fmt, part=part, replacement=replacement)
        if part is not None or replacement is not None:
            raise DomainError("仕訳の出力では --part と --replacement は指定できません。", code="journal_options")
        return journal_export(month=month, fmt=fmt)
