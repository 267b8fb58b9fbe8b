"""Which pages may open the participant websockets (scheme and port count,
not only the host name), and the close codes a browser sees."""

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from studies import services
from tests.factories import PROLIFIC, enter

pytestmark = pytest.mark.django_db(transaction=True)


def _participant_cookie():
    study, _ = services.seed_case_study()
    client = Client()
    enter(client, study, **PROLIFIC)
    return study, client.cookies["sessionid"].value


async def _sync(fn):
    from asgiref.sync import sync_to_async

    return await sync_to_async(fn)()


async def _opens(slug, cookie, origin, host=None, secure=False, socket="journey"):
    headers = [(b"cookie", f"sessionid={cookie}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if host:
        headers.append((b"host", host.encode()))
    ws = WebsocketCommunicator(application, f"/ws/s/{slug}/{socket}/", headers=headers)
    if secure:
        ws.scope["scheme"] = "wss"
    connected, _ = await ws.connect()
    if connected:
        assert (await ws.receive_json_from())["type"] == "state"
        await ws.disconnect()
    return connected


async def test_origin_must_match_scheme_host_and_port_of_the_site(settings):
    settings.SITE_URL = "https://mge.example.org"  # the development default would allow http://localhost:8000
    study, cookie = await _sync(_participant_cookie)
    slug = study.slug
    # The page's own origin, as a browser sends it.
    assert await _opens(slug, cookie, "http://localhost:8000", host="localhost:8000")
    assert await _opens(slug, cookie, "https://localhost:8000", host="localhost:8000", secure=True)
    # Another app on the same machine, or plain http in front of an https site: refused.
    assert not await _opens(slug, cookie, "http://localhost:9999", host="localhost:8000")
    assert not await _opens(slug, cookie, "https://localhost:8000", host="localhost:8000")
    assert not await _opens(slug, cookie, "http://localhost:8000", host="localhost:8000", secure=True)
    assert not await _opens(slug, cookie, "http://evil.example.com:8000", host="evil.example.com:8000")
    # Without a Host header (never a browser): an allowed host on the default port of the socket's scheme.
    assert await _opens(slug, cookie, "http://localhost")
    assert not await _opens(slug, cookie, "http://localhost:9999")
    assert not await _opens(slug, cookie, "https://localhost")
    for junk in (None, "null", "file://", "localhost", "http://localhost:notaport", "ftp://localhost"):
        assert not await _opens(slug, cookie, junk, host="localhost:8000"), junk


async def test_trusted_origins_from_the_settings_are_allowed(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://mge.example.org", "https://*.studies.example.org"]
    settings.SITE_URL = "https://public.example.net"
    study, cookie = await _sync(_participant_cookie)
    # Behind a proxy the Host header may be the internal name.
    assert await _opens(study.slug, cookie, "https://mge.example.org", host="web:8000")
    assert await _opens(study.slug, cookie, "https://a.studies.example.org", host="web:8000")
    assert await _opens(study.slug, cookie, "https://public.example.net", host="web:8000")
    assert not await _opens(study.slug, cookie, "http://mge.example.org", host="web:8000")
    assert not await _opens(study.slug, cookie, "https://mge.example.org:8443", host="web:8000")
    assert not await _opens(study.slug, cookie, "https://a.studies.example.org.evil.com", host="web:8000")


async def test_close_codes_reach_the_browser_after_the_handshake():
    def _fresh():
        study, _ = services.seed_case_study()
        client = Client()
        enter(client, study, **PROLIFIC)
        return study, client.cookies["sessionid"].value

    study, cookie = await _sync(_fresh)
    for path, cookie_header, code in [
        ("journey", b"sessionid=nobody", 4403),
        ("interview", b"", 4403),
        ("interview", f"sessionid={cookie}".encode(), 4404),
    ]:
        ws = WebsocketCommunicator(
            application,
            f"/ws/s/{study.slug}/{path}/",
            headers=[(b"origin", b"http://localhost"), (b"cookie", cookie_header)],
        )
        connected, _ = await ws.connect()
        # Accepted first, so the browser's close event carries the code (not 1006).
        assert connected, path
        assert await ws.receive_output() == {"type": "websocket.close", "code": code}
