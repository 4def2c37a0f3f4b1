"""Session limits: 30 minutes idle (SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST), 12 hours at most.

The idle limit is Django's own: every request pushes the session's expiry SESSION_COOKIE_AGE further. The absolute
limit is the login time kept in the session (set on login), checked on every request.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils import timezone

LOGIN_AT = "security_login_at"
EXPIRED_MESSAGE = "ログインから{hours}時間が経ったため、ログアウトしました。もう一度ログインしてください。"


def mark_login(request) -> None:
    request.session[LOGIN_AT] = timezone.now().timestamp()


class SessionLifetimeMiddleware:
    """Log out a session SECURITY_SESSION_MAX_AGE seconds after its login, however active it has been.

    Placed after AuthenticationMiddleware and MessageMiddleware; the request then goes on as anonymous, so
    LoginRequiredMiddleware sends it to the login page (with ?next=), where the message says why.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            started = request.session.get(LOGIN_AT)
            max_age = int(settings.SECURITY_SESSION_MAX_AGE)
            if not isinstance(started, int | float):
                # A session from before this limit existed: its clock starts now.
                request.session[LOGIN_AT] = now
            elif now - started >= max_age:
                request.security_logout_reason = f"ログインから{max_age // 3600}時間の上限でログアウト"
                logout(request)
                messages.info(request, EXPIRED_MESSAGE.format(hours=max_age // 3600))
        return self.get_response(request)
