"""Local settings: the embedded SQLite database of `make run`, and manage.py's default.

Safe if deployed by mistake: DEBUG is off unless DJANGO_DEBUG=1 (which `make run` sets), and the secret key is
never the published development key but one generated for this checkout (var/secret_key) unless
DJANGO_SECRET_KEY names one.
"""

import os
import secrets

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"


def _checkout_secret_key() -> str:
    path = BASE_DIR / "var" / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting together keep the one key the first wrote.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _checkout_secret_key()

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Static files come from the app folders (no collectstatic) whether DEBUG is on or off.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
