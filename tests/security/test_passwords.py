"""Argon2id hashes passwords in production; an existing PBKDF2 hash becomes Argon2id at the next login."""

import importlib
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password
from django.test import override_settings
from django.urls import reverse

from tests.test_deploy import BASE_ENV, PRODUCTION_ENV, ROOT

from .conftest import login

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
base = importlib.import_module("config.settings.base")


def test_base_settings_put_argon2_first_and_keep_the_older_hashers_for_upgrade():
    assert base.PASSWORD_HASHERS[0] == ARGON2
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS[1:]


def test_production_settings_hash_with_argon2id():
    script = (
        "from django.conf import settings as s; from django.contrib.auth.hashers import make_password;"
        "print(s.PASSWORD_HASHERS[0]); print(make_password('x').split('$')[1])"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env={**BASE_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.production", **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [ARGON2, "argon2id"], result.stderr


@override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS)
def test_argon2_library_is_installed():
    hasher = get_hasher("argon2")
    hasher._load_library()  # raises ValueError when argon2-cffi is missing
    assert make_password("x").startswith("argon2$argon2id$")


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS, AXES_ENABLED=True)
def test_a_pbkdf2_hash_becomes_argon2id_when_its_user_logs_in_through_the_login_page(client):
    user = get_user_model().objects.create(
        username="legacy", password=make_password("old-pass-2019", hasher="pbkdf2_sha256")
    )
    assert identify_hasher(user.password).algorithm == "pbkdf2_sha256"

    response = login(client, "legacy", "old-pass-2019")

    assert response.status_code == 302 and response["Location"] == reverse("home")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("old-pass-2019")
    assert client.get(reverse("home")).status_code == 200
