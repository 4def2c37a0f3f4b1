"""Login throttling on django-axes' database handler (one table, so every app server sees the same counts).

A username is locked after AXES_FAILURE_LIMIT failures, a source address after SECURITY_IP_FAILURE_LIMIT failures
(higher: the staff of one office may share one address behind NAT), each counted within AXES_COOLOFF_TIME of the
last failure; the lock lasts until AXES_COOLOFF_TIME has passed since the last failure, or until a システム管理者
releases it (security.services.lockout_release). A successful login clears that username's failures.
"""

import datetime as dt
from dataclasses import dataclass

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

USERNAME = "username"
IP_ADDRESS = "ip_address"
LABELS = {USERNAME: "ユーザー名", IP_ADDRESS: "送信元アドレス"}


def _parameter_name(parameter) -> str | None:
    """'username' or 'ip_address' for a plain lockout parameter (a string or a one-item list); None otherwise."""
    if isinstance(parameter, str):
        return parameter
    if len(parameter) == 1:
        return parameter[0]
    return None


def failure_limit(parameter: str) -> int:
    if parameter == IP_ADDRESS:
        return int(settings.SECURITY_IP_FAILURE_LIMIT)
    return int(settings.AXES_FAILURE_LIMIT)


class LockoutHandler(AxesDatabaseHandler):
    """AxesDatabaseHandler with a limit per lockout parameter and a reset of the username on a successful login."""

    def get_failures(self, request, credentials=None) -> int:
        """The failures of the parameter nearest its own limit, scaled to AXES_FAILURE_LIMIT.

        axes compares this one number with AXES_FAILURE_LIMIT (L); the address has its own limit (A), so its count n
        enters as floor(n × L / A), which reaches L exactly when n reaches A.
        """
        limit = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        worst = 0
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            name = _parameter_name(parameter)
            own = failure_limit(name) if name == IP_ADDRESS else limit
            worst = max(worst, failures * limit // own)
        return worst

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        # Only this username's rows: clearing the address too would let anyone with one valid account reset the
        # counter of an address that is trying many usernames.
        AccessAttempt.objects.filter(username=user.get_username()).delete()


@dataclass(frozen=True)
class Lockout:
    parameter: str
    value: str
    failures: int
    limit: int
    last_failure: dt.datetime
    until: dt.datetime | None

    @property
    def label(self) -> str:
        return LABELS[self.parameter]

    @property
    def description(self) -> str:
        return f"{self.label} {self.value}"


def current_lockouts(*, username: str | None = None, ip_address: str | None = None, now=None) -> list[Lockout]:
    """Every username and address locked now (or only those of the given username / address), newest first."""
    now = now or timezone.now()
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.all()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=now - cool_off)
    wanted = {USERNAME: username, IP_ADDRESS: ip_address}
    names = [_parameter_name(p) for p in settings.AXES_LOCKOUT_PARAMETERS]
    found = []
    for name in (USERNAME, IP_ADDRESS):
        if name not in names:
            continue
        rows = attempts.exclude(**{f"{name}__isnull": True})
        if username is not None or ip_address is not None:
            if wanted[name] is None:
                continue
            rows = rows.filter(**{name: wanted[name]})
        limit = failure_limit(name)
        grouped = (
            rows.values(name)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by()
        )
        for row in grouped:
            until = row["last"] + cool_off if cool_off is not None else None
            found.append(Lockout(name, row[name], row["failures"], limit, row["last"], until))
    return sorted(found, key=lambda lockout: (lockout.last_failure, lockout.parameter), reverse=True)


def cool_off_minutes() -> int | None:
    cool_off = get_cool_off()
    return None if cool_off is None else int(cool_off.total_seconds() // 60)
