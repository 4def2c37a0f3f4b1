import re

from django.core.management.base import BaseCommand, CommandError

from contracts.management.arguments import month_argument, user_argument
from contracts.services.month_close import month_close_run, month_closed_already_message, month_label
from core.errors import DomainError
from core.formats import wareki_datetime
from core.history_write import system_user


class Command(BaseCommand):
    help = (
        "月次締め: 対象月の月額料金を台帳に書き込み、月を締めます。"
        "締め済みの月には何も書かず、終了コード1で終わります。"
        "例: close_month 2026-02（令和8年2月、R8.2 でも可）"
    )

    def add_arguments(self, parser):
        parser.add_argument("month", help="締める月（例: 2026-02、令和8年2月、R8.2）")
        parser.add_argument("--user", help="締めを実行する職員のユーザー名（既定: システムユーザー）")
        parser.add_argument(
            "--fingerprint",
            help="確認した仮締めのフィンガープリント（--preview の出力）。記帳する行が違うときは締めません",
        )
        parser.add_argument(
            "--preview",
            action="store_true",
            help="仮締め: 締めが記帳する行の合計とフィンガープリントを表示し、何も記帳しない",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            default=None,
            help="進捗バーを標準エラーに表示する（既定: 標準エラーが端末のときだけ表示）",
        )

    def handle(self, *args, month, user, fingerprint=None, progress=None, preview=False, **options):
        first_day = month_argument(month)
        if preview:
            return self._preview(first_day)
        actor = user_argument(user) if user else system_user()
        label = month_label(first_day)
        bar = None
        if fingerprint is not None and not re.fullmatch(r"[0-9a-f]{64}", fingerprint):
            raise CommandError("フィンガープリントは仮締めに表示される64桁の16進数で指定してください。")
        if progress or (progress is None and self.stderr.isatty()):
            from tqdm import tqdm

            bar = tqdm(unit="契約", desc=f"{label}の締め", file=self.stderr._out)

        def on_progress(done, total, written):
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.set_postfix_str(f"{written}行")
                bar.refresh()

        # The synchronous path: the close runs here, not in a worker (same service, same transaction).
        try:
            result = month_close_run(
                month=first_day,
                actor=actor,
                progress=on_progress,
                expected=None if fingerprint is None else {"fingerprint": fingerprint},
            )
        except DomainError as error:
            raise CommandError(str(error)) from error
        finally:
            if bar is not None:
                bar.close()
        close = result.close
        if not result.created:
            # Asked from a batch job, a second close is a mistake to notice, not a success.
            raise CommandError(month_closed_already_message(close))
        self.stdout.write(
            f"{label}を締めました（月額料金 {close.charge_rows} 行、調整 {close.adjustment_rows} 行）"
            f"（締め日時 {wareki_datetime(close.closed_at)}、締め実行者 {close.closed_by.get_username()}）。"
        )

    def _preview(self, month) -> None:
        """Print what the close would write (totals per option × kind × tax rate) and its fingerprint."""
        from contracts.reports.close_preview import close_preview

        try:
            preview = close_preview(month=month)
        except DomainError as error:
            raise CommandError(str(error)) from error
        label = month_label(month)
        self.stdout.write(f"{label}の仮締め（何も記帳していません）: {preview.row_count}行")
        for line in preview.totals:
            rate = f"税率{line.rate_percent}%"
            self.stdout.write(f"  {line.option_name}・{line.kind_label}・{rate}: {line.count}件 {line.amount_yen:,}円")
        for rate in preview.rates:
            self.stdout.write(f"  {rate.rate_percent}%対象 {rate.amount_yen:,}円・消費税 {rate.tax_yen:,}円")
        if preview.unpriced_count:
            self.stdout.write(f"  月額料金を計算できない契約が{preview.unpriced_count}件あります（締められません）。")
        self.stdout.write(f"フィンガープリント: {preview.fingerprint}")
