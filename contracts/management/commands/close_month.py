from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from contracts.reports.selectors import month_close_of
from contracts.services.month_close import month_close_run, month_label
from core import clock
from core.errors import DomainError
from core.history_write import system_user
from core.wareki import WarekiError, parse_month


class Command(BaseCommand):
    help = (
        "月次締め: 対象月の月額料金を台帳に書き込み、月を締めます。締め済みの月には何も書きません。"
        "例: close_month 2026-02（令和8年2月、R8.2 でも可）"
    )

    def add_arguments(self, parser):
        parser.add_argument("month", help="締める月（例: 2026-02、令和8年2月、R8.2）")
        parser.add_argument("--user", help="締めを実行する職員のユーザー名（既定: システムユーザー）")

    def handle(self, *args, month, user, **options):
        try:
            first_day = parse_month(month)
        except WarekiError as error:
            raise CommandError(error.message) from error
        actor = self._actor(user)
        label = month_label(first_day)

        existing = month_close_of(month=first_day)
        if existing is not None:
            self.stdout.write(self._closed_message(existing, f"{label}は締め済みです。何も書き込みませんでした"))
            return
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
            close = month_close_run(month=first_day, actor=actor, progress=progress).close
        except DomainError as error:
            raise CommandError(str(error)) from error
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(
            self._closed_message(
                close, f"{label}を締めました（月額料金 {close.charge_rows} 行、調整 {close.adjustment_rows} 行）"
            )
        )

    def _actor(self, username):
        if not username:
            return system_user()
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"ユーザー名「{username}」の職員が見つかりません。") from None

    @staticmethod
    def _closed_message(close, head: str) -> str:
        closed_at = close.closed_at.astimezone(clock.JST)
        return f"{head}（締め日時 {closed_at:%Y-%m-%d %H:%M}、締め実行者 {close.closed_by.get_username()}）。"
