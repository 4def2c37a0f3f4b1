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

    def handle(self, *args, month, user, **options):
        first_day = month_argument(month)
        actor = user_argument(user) if user else system_user()
        label = month_label(first_day)
        bar = None
        if self.stdout.isatty():
            from tqdm import tqdm

            bar = tqdm(unit="契約", desc=f"{label}の締め", file=self.stderr._out)

        def progress(done, total, written):
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.set_postfix_str(f"{written}行")
                bar.refresh()

        # The synchronous path: the close runs here, not in a worker (same service, same transaction).
        try:
            result = month_close_run(month=first_day, actor=actor, progress=progress)
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
