"""The journey websocket: session-bound, origin-checked, robust to junk."""

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


def _connect(slug, cookie=None, origin="http://localhost"):
    headers = [(b"origin", origin.encode())]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, f"/ws/s/{slug}/journey/", headers=headers)


async def _sync(fn):
    from asgiref.sync import sync_to_async

    return await sync_to_async(fn)()


async def test_participant_gets_state_and_answers_to_ping():
    study, cookie = await _sync(_participant_cookie)
    ws = _connect(study.slug, cookie)
    connected, _ = await ws.connect()
    assert connected
    assert await ws.receive_json_from() == {"type": "state", "step": "consent"}
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    await ws.disconnect()


async def test_malformed_and_unknown_frames_get_error_frames_and_keep_the_socket():
    study, cookie = await _sync(_participant_cookie)
    ws = _connect(study.slug, cookie)
    await ws.connect()
    await ws.receive_json_from()
    await ws.send_to(text_data="{not json")
    assert (await ws.receive_json_from())["code"] == "malformed"
    await ws.send_to(text_data="[1, 2]")
    assert (await ws.receive_json_from())["code"] == "malformed"
    await ws.send_to(bytes_data=b"\x00\x01")
    assert (await ws.receive_json_from())["code"] == "malformed"
    await ws.send_json_to({"type": "launch_rockets"})
    assert (await ws.receive_json_from())["code"] == "unknown_type"
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    await ws.disconnect()


async def test_without_a_participant_session_the_socket_is_refused():
    study, _ = await _sync(_participant_cookie)
    ws = _connect(study.slug, cookie=None)
    connected, _ = await ws.connect()
    # Accepted, then closed: a browser sees 4403 only after the handshake.
    assert connected
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4403}


async def test_foreign_origin_is_rejected():
    study, cookie = await _sync(_participant_cookie)
    ws = _connect(study.slug, cookie, origin="https://evil.example.com")
    connected, _ = await ws.connect()
    assert not connected


async def test_state_pushed_through_the_channel_layer_reaches_the_browser():
    from channels.layers import get_channel_layer

    from studies.models import Participant
    from studies.steps import participant_group

    study, cookie = await _sync(_participant_cookie)
    ws = _connect(study.slug, cookie)
    await ws.connect()
    await ws.receive_json_from()
    participant = await _sync(lambda: Participant.objects.get())
    await get_channel_layer().group_send(
        participant_group(participant.pk), {"type": "participant.state", "step": "interview"}
    )
    assert await ws.receive_json_from() == {"type": "state", "step": "interview"}
    await ws.disconnect()


async def test_a_refresh_for_the_same_step_reaches_the_browser_with_its_step():
    from channels.layers import get_channel_layer

    from studies.models import Participant
    from studies.steps import participant_group

    study, cookie = await _sync(_participant_cookie)
    ws = _connect(study.slug, cookie)
    await ws.connect()
    first = await ws.receive_json_from()
    participant = await _sync(lambda: Participant.objects.get())
    await get_channel_layer().group_send(
        participant_group(participant.pk), {"type": "participant.state", "refresh": True}
    )
    assert await ws.receive_json_from() == {"type": "state", "step": first["step"], "refresh": True}
    await ws.disconnect()
