"""Which pages may open the participant websockets: the Origin header must
name this site exactly, scheme and port included, as Django's CSRF check
does for forms. Channels' AllowedHostsOriginValidator compares host names
only, so a page on http://localhost:9999 (another local app) or on plain
http in front of an https site could talk to the sockets with the
participant's cookie.

Allowed origins:
- the socket's own origin: http or https (from ws/wss, or the proxy's
  X-Forwarded-Proto under SECURE_PROXY_SSL_HEADER) with the Host header,
  whose host must be in ALLOWED_HOSTS;
- every origin in CSRF_TRUSTED_ORIGINS (with its "*." subdomain wildcards);
- SITE_URL's origin.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[parts.scheme]


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}


def _secure(scope, headers) -> bool:
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, value = proxy
        forwarded = headers.get(name.removeprefix("HTTP_").replace("_", "-").lower())
        if forwarded is not None:
            return forwarded.split(",")[0].strip() == value
    return scope.get("scheme") in ("wss", "https")


def own_origin(scope) -> tuple[str, str, int] | None:
    """The origin of the page that served this socket, from its Host header
    (None when the host is not one of ALLOWED_HOSTS)."""
    headers = _headers(scope)
    scheme = "https" if _secure(scope, headers) else "http"
    domain, _port = split_domain_port(headers.get("host", ""))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return _origin(f"{scheme}://{headers['host']}")


def allowed(scope) -> bool:
    headers = _headers(scope)
    raw = headers.get("origin", "")
    origin = _origin(raw)
    if origin is None:  # missing, "null" (a sandboxed frame, a file), not http(s)
        return False
    if "host" in headers:
        if origin == own_origin(scope):
            return True
    else:
        # No Host header: ASGI test clients (a browser always sends one). The
        # server is taken to be an allowed host on the scheme's default port.
        scheme = "https" if _secure(scope, headers) else "http"
        if (
            origin[0] == scheme
            and origin[2] == DEFAULT_PORTS[scheme]
            and validate_host(origin[1], settings.ALLOWED_HOSTS)
        ):
            return True
    netloc = urlsplit(raw.strip()).netloc.lower()
    for trusted in [*settings.CSRF_TRUSTED_ORIGINS, getattr(settings, "SITE_URL", "")]:
        if "*" in trusted:  # "https://*.example.org", as Django's CSRF check reads it
            scheme, _, pattern = trusted.partition("://")
            if scheme == origin[0] and is_same_domain(netloc, pattern.lstrip("*")):
                return True
        elif trusted and _origin(trusted) == origin:
            return True
    return False


class OriginValidator:
    """ASGI middleware: a websocket from an origin that is not allowed is
    refused at the handshake (the page never gets a socket)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not allowed(scope):
            log.warning(
                "websocket %s refused: origin %r is not this site", scope.get("path"), _headers(scope).get("origin")
            )
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
