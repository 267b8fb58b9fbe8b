"""HTTP hardening that Django does not ship: which peers may say who the
client is (X-Forwarded-For), and the Content-Security-Policy header."""

from __future__ import annotations

import ipaddress

from django.conf import settings

# Headers a proxy sets to say who the client is and how it connected. From
# anyone but a trusted proxy they are lies the client told about itself.
FORWARDED_HEADERS = {
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"x-forwarded-port",
    b"x-real-ip",
    b"forwarded",
}


def _networks(entries) -> list:
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


class TrustedProxyMiddleware:
    """ASGI middleware for HTTP and websockets. A connection from an address
    in TRUSTED_PROXIES gets its client address from X-Forwarded-For (the
    nearest address that is not itself a trusted proxy) and keeps the
    forwarding headers, so Django sees X-Forwarded-Proto; from any other peer
    the forwarding headers are dropped and the peer's own address stands.
    daphne must run without --proxy-headers, which would trust everyone."""

    def __init__(self, app, trusted_proxies=None):
        self.app = app
        self._fixed = None if trusted_proxies is None else _networks(trusted_proxies)
        self._read: tuple = (None, [])

    @property
    def trusted(self) -> list:
        """The trusted networks: those given, or settings.TRUSTED_PROXIES as it is now (default: none)."""
        if self._fixed is not None:
            return self._fixed
        entries = tuple(settings.TRUSTED_PROXIES)
        if self._read[0] != entries:
            self._read = (entries, _networks(entries))
        return self._read[1]

    def is_trusted(self, address) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope = self.resolve(scope)
        return await self.app(scope, receive, send)

    def resolve(self, scope: dict) -> dict:
        client = scope.get("client")
        peer = _address(client[0]) if client else None
        headers = scope.get("headers") or []
        if not self.is_trusted(peer):
            kept = [(name, value) for name, value in headers if name.lower() not in FORWARDED_HEADERS]
            return {**scope, "headers": kept} if len(kept) != len(headers) else scope
        hops = [
            hop
            for name, value in headers
            if name.lower() == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
            if hop.strip()
        ]
        # Walk back from the nearest hop: the first address our proxies did not add is the client.
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                break  # garbage in the chain: keep the last address we could trust
            if not self.is_trusted(address):
                return {**scope, "client": (str(address), 0)}
            peer = address
        return {**scope, "client": (str(peer), client[1] if client else 0)}


class ContentSecurityPolicyMiddleware:
    """Adds Content-Security-Policy to every response that has none. Pages
    load scripts and styles from our own origin only; the admin also
    allows inline style attributes (Django's admin and our admin pages use
    them), never inline scripts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            admin = request.path.startswith(settings.CSP_ADMIN_PREFIX)
            response["Content-Security-Policy"] = settings.CSP_ADMIN if admin else settings.CSP
        return response
