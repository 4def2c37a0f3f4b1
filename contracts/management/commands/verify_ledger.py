from django.core.management.base import BaseCommand, CommandError

from contracts.billing.seal import ledger_verify
from contracts.management.arguments import month_argument
from contracts.models import MonthClose
from core.formats import wareki_month


class Command(BaseCommand):
    help = (
        "台帳の検証: 締め済みの各月の台帳の行から封印を計算し直し、締め時の封印（前月の封印との連鎖）と照合します。"
        "一致しない月があれば、最初の月と、わかれば最初に違う行の番号を表示して終了コード1で終わります。"
        "何も書き込みません。例: verify_ledger、verify_ledger --month 2026-02"
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="この月だけを検証する（例: 2026-02、令和8年2月、R8.2）")

    def handle(self, *args, month=None, **options):
        only = month_argument(month) if month is not None else None
        if only is not None and not MonthClose.objects.filter(month=only).exists():
            raise CommandError(f"{wareki_month(only)}は締められていないため、検証する封印がありません。")
        checks = ledger_verify(month=only, progress=lambda check: self.stdout.write(check.message))
        if not checks:
            self.stdout.write("締め済みの月がないため、検証する封印はありません。")
            return
        failed = [check for check in checks if not check.ok]
        if failed:
            first = failed[0]
            row = f"（最初に違う行: #{first.row_id}）" if first.row_id is not None else ""
            raise CommandError(
                f"台帳の検証: {first.label}の台帳が封印と一致しません{row}。"
                f"一致しない月 {len(failed)}か月 / 検証した月 {len(checks)}か月。"
            )
        last = checks[-1].seal
        self.stdout.write(
            f"台帳の検証: {len(checks)}か月の締めがすべて封印と一致しました"
            f"（{sum(c.rows for c in checks):,}行、最後の封印 {last.seal_hash}）。"
        )
