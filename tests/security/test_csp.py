"""A Content-Security-Policy without 'unsafe-inline' on every page, and no inline script or style left to need it."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HEADER = "Content-Security-Policy"


def directives(response) -> dict[str, list[str]]:
    policy = response[HEADER]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_strict(response, name):
    policy = directives(response)
    assert "'unsafe-inline'" not in response[HEADER], name
    assert "'unsafe-eval'" not in response[HEADER], name
    assert policy["default-src"] == ["'none'"], name
    assert policy["script-src"] == ["'self'"], name
    assert policy["style-src"] == ["'self'"], name
    assert policy["frame-ancestors"] == ["'none'"], name


def test_every_kind_of_page_carries_the_policy(client, clerk):
    assert_strict(client.get(reverse("login")), "login")
    assert_strict(client.get(reverse("admin:login")), "admin login")
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    for name, url in {
        "home": reverse("home"),
        "auth log": reverse("security:auth_log"),
        "admin": reverse("admin:index"),
        "admin user change": reverse("admin:auth_user_change", args=[root.pk]),
        "404": "/no-such-page/",
    }.items():
        assert_strict(client.get(url), name)
    client.force_login(clerk)
    forbidden = client.get(reverse("security:auth_log"))
    assert forbidden.status_code == 403
    assert_strict(forbidden, "403")


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on* event attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_or_static_file_has_inline_script_or_style():
    found = []
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html"), *ROOT.glob("static/**/*.js")]
    for path in files:
        if ".venv" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            if path.suffix == ".js" and what != "javascript: URL":
                continue
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(ROOT)}: {what}: {match.group(0)!r}")
    assert found == []
