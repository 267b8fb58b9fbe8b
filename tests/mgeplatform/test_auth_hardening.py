"""Sign-in and HTTP hardening: who may say where a request comes from, the
failed-login limit, the Content-Security-Policy and how long staff stay
signed in."""

import asyncio
import re
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from mgeplatform.security import TrustedProxyMiddleware

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # allauth keeps its counters in the cache, which outlives a test
    yield
    cache.clear()


# --- X-Forwarded-For ----------------------------------------------------------------


def _seen_by_app(scope, proxies=("127.0.0.1", "10.0.0.0/8")):
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    async_to_sync(TrustedProxyMiddleware(app, trusted_proxies=list(proxies)))(scope, None, None)
    return seen


def _scope(peer, **headers):
    return {
        "type": "http",
        "client": (peer, 40000),
        "headers": [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()],
    }


def test_forwarded_headers_from_an_untrusted_peer_are_ignored():
    seen = _seen_by_app(
        _scope("203.0.113.9", x_forwarded_for="198.51.100.1", x_forwarded_proto="https", user_agent="curl")
    )
    assert seen["client"] == ("203.0.113.9", 40000)
    assert seen["headers"] == [(b"user-agent", b"curl")]  # the lies are gone; Django never sees "https"


def test_the_client_behind_a_trusted_proxy_is_the_nearest_untrusted_hop():
    # The client claimed 1.2.3.4 itself; our proxies (10.x) appended what they saw.
    seen = _seen_by_app(
        _scope("10.0.0.2", x_forwarded_for="1.2.3.4, 198.51.100.7, 10.0.0.1", x_forwarded_proto="https")
    )
    assert seen["client"] == ("198.51.100.7", 0)
    assert (b"x-forwarded-proto", b"https") in seen["headers"]


def test_by_default_no_proxy_is_trusted_not_even_one_on_this_machine():
    """Anything on the machine (another user's process, a misconfigured
    service) could otherwise claim any client address: a forged
    X-Forwarded-For from 127.0.0.1 changes nothing unless TRUSTED_PROXIES
    names loopback, which `scripts/dev.py run` does for itself."""
    from config.asgi import application

    assert settings.TRUSTED_PROXIES == []
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    middleware = TrustedProxyMiddleware(app)
    async_to_sync(middleware)(
        _scope("127.0.0.1", x_forwarded_for="198.51.100.7", x_forwarded_proto="https"), None, None
    )
    assert seen["client"] == ("127.0.0.1", 40000)
    assert seen["headers"] == []  # Django never hears "https" or the forged address
    assert not application.is_trusted(_ip("127.0.0.1")) and not application.is_trusted(_ip("::1"))
    run = (ROOT / "scripts" / "dev.py").read_text().split("def cmd_run", 1)[1].split("\ndef ", 1)[0]
    assert '"TRUSTED_PROXIES"' in run and "127.0.0.1,::1" in run


@pytest.mark.django_db(transaction=True)
def test_a_forged_x_forwarded_for_from_this_machine_is_counted_at_this_machine(coordinator):
    """With the default setting, rotating X-Forwarded-For from 127.0.0.1
    does not escape the failed-login limit either."""
    login = _served_login(coordinator, peer="127.0.0.1")
    for i in range(5):
        assert login("wrong password", f"198.51.100.{i}")[0] == 200
    assert "Too many failed login attempts" in login("x-coord-pass-1", "198.51.100.77")[1]


def _ip(text):
    import ipaddress

    return ipaddress.ip_address(text)


def test_the_served_application_checks_proxies_and_the_server_is_not_told_to_trust_everyone():
    from config.asgi import application

    assert isinstance(application, TrustedProxyMiddleware)
    dev = (ROOT / "scripts" / "dev.py").read_text()
    assert '"--proxy-headers"' not in dev  # daphne: off unless asked
    assert '"--no-proxy-headers"' in dev  # uvicorn: on (for 127.0.0.1) unless told not to


async def _asgi(app, method, path, *, peer, headers=(), body=b""):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": (peer, 40000),
        "server": ("testserver", 80),
    }
    pending, sent, never = [{"type": "http.request", "body": body, "more_body": False}], [], asyncio.Event()

    async def receive():
        if pending:
            return pending.pop(0)
        await never.wait()  # the client stays connected

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return (
        start["status"],
        start["headers"],
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
    )


def _served_login(user, peer):
    """Sign-in attempts through the served ASGI application (not the test
    client), from `peer`, each with an X-Forwarded-For header."""
    from config.asgi import application

    call = async_to_sync(_asgi)
    _, headers, body = call(application, "GET", "/accounts/login/", peer=peer)
    cookies = SimpleCookie()
    for name, value in headers:
        if name.lower() == b"set-cookie":
            cookies.load(value.decode())
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    cookie_header = (b"cookie", "; ".join(f"{k}={v.value}" for k, v in cookies.items()).encode())

    def login(password, forwarded_for):
        form = urlencode({"login": user.email, "password": password, "csrfmiddlewaretoken": token}).encode()
        status, _, body = call(
            application,
            "POST",
            "/accounts/login/",
            peer=peer,
            body=form,
            headers=[
                cookie_header,
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"x-forwarded-for", forwarded_for.encode()),
            ],
        )
        return status, body.decode()

    return login


@pytest.mark.django_db(transaction=True)
def test_a_forged_x_forwarded_for_does_not_escape_the_failed_login_limit(coordinator):
    """An attacker who connects directly and rotates X-Forwarded-For is still
    counted at their own address, and locked out there."""
    login = _served_login(coordinator, peer="203.0.113.9")
    for i in range(5):
        assert login("wrong password", f"198.51.100.{i}")[0] == 200
    status, body = login("x-coord-pass-1", "198.51.100.77")
    assert status == 200 and "Too many failed login attempts" in body


@pytest.mark.django_db(transaction=True)
def test_behind_the_trusted_proxy_each_client_address_is_counted_on_its_own(coordinator, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]  # a proxy on the same machine, named by the deployment
    login = _served_login(coordinator, peer="127.0.0.1")
    for _ in range(5):
        login("wrong password", "203.0.113.9")
    assert "Too many failed login attempts" in login("x-coord-pass-1", "203.0.113.9")[1]
    assert login("x-coord-pass-1", "198.51.100.20")[0] == 302  # the owner, elsewhere, behind the same proxy


# --- the failed-login limit -----------------------------------------------------------


def _sign_in(client, user, password):
    return client.post("/accounts/login/", {"login": user.email, "password": password})


def test_the_right_password_from_another_address_works_after_a_lockout(coordinator):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        assert "not correct" in _sign_in(attacker, coordinator, "guess").content.decode()
    locked = _sign_in(attacker, coordinator, "x-coord-pass-1")
    assert locked.status_code == 200 and "Too many failed login attempts" in locked.content.decode()

    owner = Client(REMOTE_ADDR="198.51.100.20")
    response = _sign_in(owner, coordinator, "x-coord-pass-1")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_the_lockout_at_one_address_is_short(coordinator, settings):
    from allauth.core.internal.ratelimit import parse_rate

    per_account = [
        parse_rate(rate) for rate in settings.ACCOUNT_RATE_LIMITS["login_failed"].split(",") if rate.endswith("/key")
    ]
    assert per_account and all(rate.duration <= 5 * 60 for rate in per_account)


# --- Content-Security-Policy ----------------------------------------------------------


def test_participant_pages_have_a_strict_content_security_policy(study, participant_client):
    for response in (participant_client.get(f"/s/{study.slug}/", follow=True), Client().get("/")):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "style-src 'self'" in policy
        assert "unsafe" not in policy and "frame-ancestors 'none'" in policy


def test_admin_pages_have_a_policy_that_allows_inline_styles_but_no_inline_scripts(coordinator):
    client = Client()
    client.force_login(coordinator)
    policy = client.get("/admin/")["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self' 'unsafe-inline'" in policy
    assert Client().get("/accounts/login/")["Content-Security-Policy"] == settings.CSP


def test_no_template_has_inline_scripts_or_event_handlers():
    for template in (ROOT / "templates").rglob("*.html"):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), template
        assert not re.search(r"\son[a-z]+\s*=", html), template
        if "admin" not in template.parts:
            assert "style=" not in html, template


# --- session length -------------------------------------------------------------------


def test_staff_sign_ins_last_twelve_hours_and_participants_keep_theirs(coordinator, participant_client):
    staff = Client()
    assert "Keep me signed in" not in staff.get("/accounts/login/").content.decode()  # no month-long staff sessions
    response = _sign_in(staff, coordinator, "x-coord-pass-1")
    assert response.cookies["sessionid"]["max-age"] == 12 * 60 * 60
    assert staff.session.get_expiry_age() == 12 * 60 * 60
    previewing = Client()  # a staff member who signs in through the admin's own path is covered too
    previewing.force_login(coordinator)
    assert previewing.session.get_expiry_age() == 12 * 60 * 60
    assert participant_client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 30 * 24 * 60 * 60
