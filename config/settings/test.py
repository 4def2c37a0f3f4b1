import copy

from .base import *  # noqa: F403

DEBUG = False
# Fast hashing for the suite; tests/security/test_passwords.py proves the production order (Argon2id first).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client's login() authenticates without a request, which axes refuses; the lockout tests turn it on.
AXES_ENABLED = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
ALLOWED_HOSTS = ["*"]

# The report and export views read from `replica` (core/db_router.py). Here it is a TEST MIRROR of the primary: the
# same test database through a second connection, so the routing runs in every test. In the real-replica run
# (ops/check_replica.sh, DATABASE_REPLICA_URL set) it is the streaming standby, which the mirror setting points at
# the primary's test database (Django copies only its NAME): the standby replays it from the primary.
if "replica" not in DATABASES:  # noqa: F405
    DATABASES["replica"] = copy.deepcopy(DATABASES["default"])  # noqa: F405
DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405
DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
