from .base import *  # noqa: F403

DEBUG = False
# Fast hashing for the suite; tests/security/test_passwords.py proves the production order (Argon2id first).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client's login() authenticates without a request, which axes refuses; the lockout tests turn it on.
AXES_ENABLED = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
ALLOWED_HOSTS = ["*"]
