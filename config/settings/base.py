"""Settings shared by every environment. Environment files override, never fork."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-secret-6f1c0a2e9b")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "django_tables2",
    "django_filters",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "core",
    "options",
    # Before contracts: its permissions exist when contracts syncs the roles, and its monthly_report and
    # load_demo (which add the journals and the demo mapping) are the ones manage.py runs.
    "accounting",
    # Before contracts too: its permissions exist when contracts syncs the roles (システム管理者 reads the log).
    "exports",
    "contracts",
    # Its auth-log receivers run before axes' (security/apps.py).
    "security",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Every download (an attachment response) is written to the export log when its stream ends.
    "exports.middleware.ExportLogMiddleware",
    "security.middleware.SessionLifetimeMiddleware",
    "security.middleware.NoStoreForStaffMiddleware",
    "config.middleware.RefuseNulCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "security.context_processors.security",
                "contracts.context_processors.search_box",
                "contracts.context_processors.work_queues",
            ],
            "builtins": ["core.templatetags.wareki"],
        },
    },
]

# The primary database, named by DATABASE_URL; SQLite under var/ when unset (make run).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# A streaming replica of it, named by DATABASE_REPLICA_URL, for report and export reads only (core/db_router.py: the
# views that say so read there; every write, and every read of a service or the close, stays on the primary).
# Unset: no second alias, no router, one database as before.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0"))
    )
    DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background tasks (the month close) are rows in the database: any app server enqueues, any number of workers
# (`manage.py db_worker`) run them, and a result is read back from any of them.
# A job's file (exports) is kept this many days after it was written; `manage.py prune_exports` deletes older ones.
EXPORT_FILE_DAYS = 7
# Above this many 月額 rows the report page offers that CSV as a background job only (about 1 s of streaming here).
EXPORT_DIRECT_MAX_ROWS = 20_000

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Argon2id hashes new passwords; an older hash (PBKDF2, ...) is still accepted and rewritten as Argon2id at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Staff read Japanese whatever their browser asks for: no LocaleMiddleware (it would follow Accept-Language and
# give an English-locale browser the admin's English chrome), so every request runs in LANGUAGE_CODE.
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語")]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions live in the database so that any app server can serve any request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# 30 minutes idle: every request pushes the expiry on. 12 hours at most after login (security/sessions.py).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SECURITY_SESSION_MAX_AGE = 12 * 60 * 60

# Login throttling (django-axes, database handler: the counts are shared by every app server; security/lockouts.py).
# A username is locked after 5 failures, a source address after 20 (an office may share one address), each counted
# and locked for 30 minutes from the last failure, or until a システム管理者 releases it (/security/lockouts/).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = True
AXES_HANDLER = "security.lockouts.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = 5
SECURITY_IP_FAILURE_LIMIT = 20
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_RESET_ON_SUCCESS = False  # security.lockouts.LockoutHandler clears the username only
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_CLIENT_IP_CALLABLE = "security.client.client_ip"
AXES_DISABLE_ACCESS_LOG = True  # the auth log (security.AuthEvent) is the record of logins
AXES_ENABLE_ADMIN = False  # the one way to release a lockout is the recorded one: security.services.lockout_release
# How many reverse proxies in front append to X-Forwarded-For; 0: the header is ignored, REMOTE_ADDR is the client.
SECURITY_TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))

# Content-Security-Policy on every response, the admin included: only this origin's files, nothing inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    }
}

SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table"}

# The user that management commands write history as (every write records its actor, DOMAIN §3.15).
SYSTEM_USERNAME = "system"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
