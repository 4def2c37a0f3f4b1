"""Helpers of the security tests (the browser test of the CSP is tests/browser/test_csp.py, beside its Chromium)."""

import pytest
from django.urls import reverse

PASSWORD = "pass-1234"


@pytest.fixture
def axes_on(settings):
    """Login throttling as in production (the test settings turn it off for the test client's login())."""
    settings.AXES_ENABLED = True
    return settings


def login(client, username, password=PASSWORD, **extra):
    """POST the real login page, as a person does (REMOTE_ADDR and headers through **extra)."""
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)
