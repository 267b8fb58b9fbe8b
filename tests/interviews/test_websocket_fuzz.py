"""Fuzzing both participant websockets with frames that must be refused:
every one is answered with an error frame, the socket stays open, and
nothing is stored. Seeded (hypothesis is not installed), so a failure names
a frame that can be replayed."""

import json
import logging
import random
import string
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application
from interviews import services as chat
from interviews.models import ChatMessage, Interview
from mgeplatform.models import DomainEvent
from studies import services
from studies.models import Participant
from tests.factories import PROLIFIC, enter
from values.models import ValuesCard

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES_PER_SOCKET = 10_000
SEED = 20250611

HANDLERS = {"ping", "state", "retry", "submit", "user_message", "card_edit"}
ERROR_CODES = {"malformed", "unknown_type", "too_long", "empty", "bad_text", "bad_card"}

NASTY = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\udbff\x00", "\ud83d"]
PLAIN = ["", " ", "\n\t", "ok", '=HYPERLINK("http://evil.example")', "@SUM(1)", "😀", "ä" * 3, "-1", "null"]


def _scalar(rng):
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            2**70,
            1.5,
            float("1e308"),
            rng.choice(PLAIN),
            "".join(rng.choices(string.printable, k=rng.randint(0, 30))),
        ]
    )


def _junk(rng, depth=0):
    """A JSON value of some shape, nested at most a few levels."""
    roll = rng.random()
    if depth > 2 or roll < 0.5:
        return _scalar(rng)
    if roll < 0.75:
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["a", "type", "text", "policies", ""]): _junk(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _with_nasty(rng, frame: dict) -> dict:
    """Put a NUL or lone surrogate somewhere in the frame: a value, a key, a list item."""
    nasty = rng.choice(NASTY)
    where = rng.random()
    if where < 0.4:
        frame[rng.choice(["text", "client_id", "title", "type"])] = rng.choice(PLAIN) + nasty
    elif where < 0.6:
        frame["k" + nasty] = 1
    else:
        frame["policies"] = ["fine policy", nasty + "x", "another"]
    return frame


def _dump(rng, frame) -> str:
    # Half as escapes (\ud800: what JSON.stringify sends), half as raw characters.
    return json.dumps(frame, ensure_ascii=rng.random() < 0.5, allow_nan=True)


def _deep(rng, max_chars) -> str:
    depth = rng.randint(11, min(12_000, max_chars // 2 - 40))
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    depth = min(depth, (max_chars - 40) // (len(opener) + 1))
    inner = opener * depth + "1" + closer * depth
    return rng.choice([inner, '{"type": "ping", "x": ' + inner + "}"])


def generate(rng, max_chars):
    """(text_data or None, bytes_data or None), always a frame to refuse."""
    kind = rng.randrange(13)
    if kind == 0:  # not JSON
        text = rng.choice(['{"type": "ping"', "{not json", "", "}", "'single'", "[1,", "\x00", "\ud800"])
        return text + "".join(rng.choices(string.printable, k=rng.randint(0, 20))), None
    if kind == 1:  # JSON, but not an object with a string type
        return _dump(
            rng,
            rng.choice(
                [[], [{"type": "ping"}], 1, "ping", None, {"type": rng.choice([1, None, [], {}])}, {"text": "hi"}]
            ),
        ), None
    if kind == 2:  # a type nobody handles
        name = rng.choice(["launch", "__init__", "on_ping", "receive", "PING", "ping ", "", "card-edit", "x" * 200])
        return _dump(rng, {"type": name, "data": _junk(rng)}), None
    if kind == 3:
        return _deep(rng, max_chars), None
    if kind in (4, 5):  # NUL or a lone surrogate in an otherwise ordinary frame
        base = rng.choice(
            [
                {"type": "user_message", "text": "hello", "client_id": "c"},
                {"type": "ping"},
                {"type": "card_edit", "title": "T", "description": "D", "policies": ["p"]},
            ]
        )
        return _dump(rng, _with_nasty(rng, dict(base))), None
    if kind == 6:  # over the frame size limit
        return json.dumps({"type": "ping", "pad": "x" * (max_chars + rng.randint(1, 500))}), None
    if kind == 7:
        return None, bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
    if kind == 8:  # a number with more digits than Python will read
        return '{"type": "ping", "n": ' + "9" * rng.randint(4301, 6000) + "}", None
    if kind == 9:  # a participant turn that is not text, empty or too long
        text = rng.choice([None, 5, [], {}, "", "   ", "\n", "y" * (settings.INTERVIEW_MAX_MESSAGE_CHARS + 1)])
        return _dump(rng, {"type": "user_message", "text": text, "client_id": "c" + str(rng.randrange(1000))}), None
    # kinds 10-12: a card edit with at least one thing wrong
    card = {
        "type": "card_edit",
        "title": "A fine title",
        "description": "A fine description.",
        "policies": ["MOMENTS that matter", "CHOICES people make"],
    }
    broken = rng.choice(["policy_junk", "policy_blank", "policies_type", "title", "description", "count", "long"])
    if broken == "policy_junk":
        card["policies"] = card["policies"] + [rng.choice([1, None, {}, [], True, 2.5])]
        rng.shuffle(card["policies"])
    elif broken == "policy_blank":
        card["policies"] = ["ok", rng.choice(["", " ", "\n"]), "fine"]
    elif broken == "policies_type":
        card["policies"] = rng.choice([None, "a policy", 3, {"0": "x"}])
    elif broken in ("title", "description"):
        card[broken] = rng.choice([None, 7, "", "  ", ["x"], "t" * 500])
    elif broken == "count":
        card["policies"] = rng.choice([[], [f"P{i}" for i in range(11)]])
    else:
        card["policies"] = ["ok", "p" * 301]
    if rng.random() < 0.2:
        del card[rng.choice(["title", "description", "policies"])]
    return _dump(rng, card), None


def _participant_with_card():
    study, _ = services.seed_case_study()
    client = Client()
    enter(client, study, **PROLIFIC)
    participant = Participant.objects.get()
    services.record_consent(participant=participant, consent=study.consent_documents.get(), accepted=True)
    interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="abortion"))
    # A card exists, so refused card edits are refused for what they hold, not for want of a card.
    ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Care",
        description="Caring.",
        policies=["FEELINGS of others"],
        source="articulator",
    )
    return study, client.cookies["sessionid"].value


def _state():
    participant = Participant.objects.get()
    return {
        "step": participant.current_step,
        "messages": ChatMessage.objects.count(),
        "cards": ValuesCard.objects.count(),
        "status": Interview.objects.get().status,
        "events": DomainEvent.objects.count(),
    }


async def _fuzz(path, cookie, max_chars, rng):
    ws = WebsocketCommunicator(
        application, path, headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())]
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=5))["type"] == "state"
    codes = {}
    for n in range(FRAMES_PER_SOCKET):
        text, data = generate(rng, max_chars)
        # send_input, not send_to: empty frames are frames too.
        await ws.send_input({"type": "websocket.receive", **({"text": text} if data is None else {"bytes": data})})
        reply = await ws.receive_json_from(timeout=5)
        assert reply["type"] == "error" and reply["code"] in ERROR_CODES and reply["message"], (n, text, data, reply)
        codes[reply["code"]] = codes.get(reply["code"], 0) + 1
        if n % 1000 == 999:  # still the same open socket, still answering
            await ws.send_json_to({"type": "ping"})
            assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
    assert await ws.receive_nothing(timeout=0.1)
    await ws.disconnect()
    return codes


async def test_ten_thousand_junk_frames_per_socket_are_refused_without_a_crash_or_a_change(caplog):
    caplog.set_level(logging.ERROR)
    study, cookie = await database_sync_to_async(_participant_with_card)()
    before = await database_sync_to_async(_state)()
    rng = random.Random(SEED)
    started = time.monotonic()
    interview_codes = await _fuzz(
        f"/ws/s/{study.slug}/interview/", cookie, settings.INTERVIEW_MAX_MESSAGE_CHARS * 6 + 2_000, rng
    )
    journey_codes = await _fuzz(f"/ws/s/{study.slug}/journey/", cookie, 64_000, rng)
    elapsed = time.monotonic() - started
    assert await database_sync_to_async(_state)() == before
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []  # no handler tracebacks
    # Every kind of refusal was exercised on the interview socket.
    assert set(interview_codes) == ERROR_CODES
    assert {"malformed", "unknown_type", "too_long", "bad_text"} <= set(journey_codes)
    print(
        f"fuzz: {2 * FRAMES_PER_SOCKET} frames in {elapsed:.1f} s; interview {interview_codes}; journey {journey_codes}"
    )
