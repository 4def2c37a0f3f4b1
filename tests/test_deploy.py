"""Production settings pass Django's deployment checklist and keep no state on local disk."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a production process never has it.
BASE_ENV = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _run(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**BASE_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "a-long-random-secret-for-the-check-only-9f8e7d6c5b4a3928171615141312111009",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/backoffice",
    "DJANGO_ALLOWED_HOSTS": "backoffice.example.jp",
}


def test_production_settings_pass_check_deploy():
    result = _run("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": ""}
    result = _run("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY を設定してください。" in result.stderr


def test_production_keeps_sessions_in_the_database_and_static_files_in_whitenoise():
    script = (
        "from django.conf import settings as s;"
        "print(s.SESSION_ENGINE, s.STORAGES['staticfiles']['BACKEND'], s.DATABASES['default']['ENGINE'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env={**BASE_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.production", **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [
        "django.contrib.sessions.backends.db",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "django.db.backends.postgresql",
    ], result.stderr


def _default_settings(**env):
    """What manage.py runs with when no settings module is chosen (a deployment by mistake)."""
    chosen = ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DJANGO_SECRET_KEY")
    clean = {k: v for k, v in BASE_ENV.items() if k not in chosen}
    script = "from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY.startswith('dev-only'))"
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_manage_py_defaults_to_debug_off_and_a_key_of_its_own():
    result = _default_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_debug_is_on_only_when_make_run_asks_for_it():
    result = _default_settings(DJANGO_DEBUG="1")
    assert result.stdout.split() == ["True", "False"], result.stderr
    makefile = (ROOT / "Makefile").read_text()
    assert "DJANGO_DEBUG=1 $(PY) manage.py runserver" in makefile
