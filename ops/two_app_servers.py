"""The client of ops/check_two_app_servers.sh: one browser's cookies used on two app servers behind one address.

Usage: two_app_servers.py URL_A URL_B MONTH (e.g. http://127.0.0.1:18101 http://127.0.0.1:18102 2026-11)

Each request goes to the server named, as a load balancer would send it: the public host name in `Host`, HTTPS
said by `X-Forwarded-Proto`, the client's address in `X-Forwarded-For`. The cookies are this script's, sent to
whichever server (the session cookie is Secure; this client plays the browser behind the TLS proxy). Prints what it
proved; exits 1 with the step that failed. Standard library only.
"""

import http.client
import json
import re
import sys
import time
import urllib.parse
from dataclasses import dataclass, field

HOST = "backoffice.test"
ORIGIN = f"https://{HOST}"
PASSWORD = "demo-pass-2026"  # contracts/demo.py
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PREVIEW = re.compile(r'name="preview" value="([^"]+)"')


class Failed(Exception):
    pass


def check(condition, message: str) -> None:
    if not condition:
        raise Failed(message)


@dataclass
class Response:
    status: int
    headers: dict
    text: str


@dataclass
class Browser:
    """One staff member's browser: its cookie jar and source address."""

    address: str
    cookies: dict = field(default_factory=dict)

    def request(self, server: str, method: str, path: str, form: dict | None = None) -> Response:
        url = urllib.parse.urlsplit(server)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        headers = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": self.address}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "Origin": ORIGIN, "Referer": ORIGIN + path}
        connection.request(method, path, body=body, headers=headers)
        raw = connection.getresponse()
        for name, value in raw.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, raw.read().decode("utf-8"))
        connection.close()
        return response

    def get(self, server: str, path: str) -> Response:
        return self.request(server, "GET", path)

    def post(self, server: str, path: str, page: str, form: dict) -> Response:
        """Submit a form of `page` (its own CSRF token) to `server` (any of them)."""
        token = TOKEN.search(self.get(server, page).text)
        check(token, f"{page} on {server} has no CSRF token")
        return self.request(server, "POST", path, {"csrfmiddlewaretoken": token.group(1), **form})

    def log_in(self, server: str, username: str, password: str = PASSWORD) -> Response:
        return self.post(server, "/accounts/login/", "/accounts/login/", {"username": username, "password": password})


def main(a: str, b: str, month: str) -> None:
    # 1. Log in on A; the same cookie is a session on B: a page that needs a permission, a write, a refusal.
    clerk = Browser("198.51.100.10")
    response = clerk.log_in(a, "uketsuke")
    check(response.status == 302 and "sessionid" in clerk.cookies, f"login on A failed ({response.status})")
    page = clerk.get(b, "/subscribers/new/")
    check(page.status == 200 and "契約者" in page.text, f"B did not know A's session ({page.status})")
    code = f"TWO-{int(time.time())}"
    created = clerk.post(
        b,
        "/subscribers/new/",
        "/subscribers/new/",
        {"code": code, "name": "二台構成商事", "kana": "ニダイコウセイショウジ", "kind": "corporate"},
    )
    check(created.status == 302, f"registering a subscriber on B failed ({created.status}): {created.text[:300]}")
    detail = clerk.get(a, created.headers["location"])
    check(detail.status == 200 and code in detail.text, "A does not show the subscriber registered on B")
    forbidden = clerk.get(b, "/security/auth-log/")
    check(forbidden.status == 403, f"B let a 受付担当 read the auth log ({forbidden.status})")
    print(f"session: logged in on A, registered {code} on B with A's cookie, read it on A; B refused the auth log")

    # 2. Five failed logins on A lock the username on B too (django-axes keeps its counts in the database).
    attacker = Browser("198.51.100.20")
    for attempt in range(1, 6):
        failed = attacker.log_in(a, "shonin", "wrong-password")
        check(failed.status in (200, 429), f"failed login {attempt} on A answered {failed.status}")
    locked = Browser("198.51.100.21").log_in(b, "shonin")
    check(
        locked.status == 429 and "ログインを一時停止しています" in locked.text,
        f"B let a username locked on A log in ({locked.status})",
    )
    print("lockout: 5 failures for shonin on A; the right password on B is refused (429, the lockout page)")

    # 3. A close asked for on A is queued, run by the worker, and its result read on B.
    keiri = Browser("198.51.100.30")
    check(keiri.log_in(a, "keiri").status == 302, "keiri could not log in on A")
    preview = keiri.get(a, f"/reports/monthly/preview/?month={month}")
    token = PREVIEW.search(preview.text)
    check(preview.status == 200 and token, f"the close preview of {month} on A offers no close ({preview.status})")
    queued = keiri.post(
        a,
        "/reports/monthly/close/",
        f"/reports/monthly/preview/?month={month}",
        {"month": month, "preview": token.group(1)},
    )
    check(queued.status == 302 and "/reports/monthly/close/" in queued.headers.get("location", ""), "no job queued")
    job_path = urllib.parse.urlsplit(queued.headers["location"]).path
    deadline = time.monotonic() + 180
    while True:
        job = keiri.get(b, job_path + "?format=json")
        check(job.status == 200, f"B cannot read the job ({job.status})")
        state = json.loads(job.text)
        if not state["active"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    check(state["status"] == "done", f"the close did not finish on the worker: {state}")
    check(state["rows_written"] > 0, f"the close wrote no rows: {state}")
    report = keiri.get(b, f"/reports/monthly/?month={month}")
    check(report.status == 200 and 'class="badge approved">確定' in report.text, "B does not show the month as closed")
    print(
        f"tasks: the close of {month} queued on A ({job_path}), run by db_worker, {state['rows_written']} rows, "
        "read on B as 完了 and the month 確定"
    )


if __name__ == "__main__":
    try:
        main(*sys.argv[1:4])
    except (Failed, OSError) as error:  # OSError: a server that does not answer
        print(f"two app servers: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
