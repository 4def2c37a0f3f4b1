"""`load_demo` with the demo mapping table (accounting.demo), so the demo book's closed months export journals."""

from accounting.demo import load_mappings
from contracts.management.commands import load_demo
from core.errors import DomainError


class Command(load_demo.Command):
    def handle(self, *args, **options):
        super().handle(*args, **options)
        try:
            lines = load_mappings()
        except DomainError as error:
            raise load_demo.CommandError(f"デモの勘定科目の対応を登録できませんでした: {error}") from error
        for line in lines:
            self.stdout.write(line)
