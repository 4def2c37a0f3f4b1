"""The source address of a request: REMOTE_ADDR, or X-Forwarded-For only when settings say the proxies are trusted.

SECURITY_TRUSTED_PROXY_COUNT is the number of reverse proxies in front of the app that each append the address they
received from to X-Forwarded-For (nginx: `proxy_add_x_forwarded_for`). With 0 (the default) the header is ignored,
since any client can send it; with N the client is the N-th address from the right, the one the outermost trusted
proxy saw. A header that is missing, too short or not an address falls back to REMOTE_ADDR.
"""

import ipaddress

from django.conf import settings


def _address(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    remote = _address(request.META.get("REMOTE_ADDR", "") or "")
    count = int(getattr(settings, "SECURITY_TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return _address(forwarded[-count]) or remote


def user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:255]
