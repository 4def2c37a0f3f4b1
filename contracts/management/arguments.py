"""What the commands read from their arguments, refused as a CommandError in Japanese (exit code 1)."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from core.limits import date_out_of_bounds
from core.wareki import WarekiError, parse_month


def month_argument(text: str) -> dt.date:
    """Return the first day of the month `text` names, within the back office's dates (core.limits) as the
    month field of the screens requires (9999-12 would overflow the month's end; 0001-01 is no month of ours)."""
    try:
        first_day = parse_month(text)
    except WarekiError as error:
        raise CommandError(error.message) from error
    problem = date_out_of_bounds(first_day)
    if problem:
        raise CommandError(problem)
    return first_day


def user_argument(username: str):
    """Return the staff account named `username`; a name no account can have is refused before any query."""
    limit = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length
    if "\x00" in username:
        raise CommandError("ユーザー名に使えない文字（NUL）が含まれています。")
    if len(username) > limit:
        raise CommandError(f"ユーザー名が長すぎます（{limit}文字まで）。")
    try:
        return get_user_model().objects.get_by_natural_key(username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"ユーザー名「{username}」の職員が見つかりません。") from None
