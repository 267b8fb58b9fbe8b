"""Bad input on the interview websocket: refused with an error frame that
says what is wrong, nothing stored, the socket kept open; and no submission
while the interviewer is still answering."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from interviews import services as chat
from interviews.models import ChatMessage, Interview
from mgeplatform.llm import gateway
from mgeplatform.llm.types import Done, TextDelta, Usage
from studies import services
from studies.models import Participant
from tests.factories import PROLIFIC, enter
from values.models import ValuesCard

pytestmark = pytest.mark.django_db(transaction=True)


class SlowProvider:
    """A model that takes its time over each word."""

    async def stream_chat(self, request, *, timeout):
        for word in ["Tell ", "me ", "more ", "about ", "that?"]:
            await asyncio.sleep(0.15)
            yield TextDelta(word)
        yield Done(usage=Usage(input_tokens=10, output_tokens=5), stop_reason="end_turn")


@pytest.fixture
def slow_provider():
    with gateway.override_provider("slow", lambda route: SlowProvider()):
        yield


def _setup(provider=""):
    study, _ = services.seed_case_study()
    if provider:
        study.llm_provider, study.llm_model = provider, "slow-model"
        study.save()
    client = Client()
    enter(client, study, **PROLIFIC)
    participant = Participant.objects.get()
    services.record_consent(participant=participant, consent=study.consent_documents.get(), accepted=True)
    interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="abortion"))
    ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Care",
        description="Caring for others.",
        policies=["FEELINGS of others"],
        source="articulator",
    )
    return study, client.cookies["sessionid"].value


async def _connect(provider=""):
    study, cookie = await database_sync_to_async(_setup)(provider)
    ws = WebsocketCommunicator(
        application,
        f"/ws/s/{study.slug}/interview/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(timeout=5))["type"] == "state"
    return ws


async def _count(model, **filters):
    return await database_sync_to_async(lambda: model.objects.filter(**filters).count())()


async def _still_open(ws):
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=5) == {"type": "pong"}


async def test_unstorable_characters_are_refused_with_a_clear_error_and_the_socket_stays():
    ws = await _connect()
    frames = [
        '{"type": "user_message", "text": "I care\\u0000 about this", "client_id": "n1"}',  # NUL, escaped
        '{"type": "user_message", "text": "I care \\ud83d about this", "client_id": "s1"}',  # half an emoji
        '{"type": "user_message", "text": "lone \udfff raw", "client_id": "s2"}',
        '{"type": "user_message", "text": "fine", "client_id": "id\\u0000"}',
    ]
    for frame in frames:
        await ws.send_to(text_data=frame)
        error = await ws.receive_json_from(timeout=5)
        assert error["type"] == "error" and error["code"] == "bad_text", frame
        assert "cannot be saved" in error["message"]
        await _still_open(ws)
    assert await _count(ChatMessage, role="user") == 0
    # The same words without the bad character go through.
    await ws.send_json_to({"type": "user_message", "text": "I care about this", "client_id": "ok"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "message"
    await ws.disconnect()


async def test_deeply_nested_and_oversized_frames_are_refused():
    ws = await _connect()
    for frame, code in [
        ("[" * 5000 + "]" * 5000, "malformed"),
        ('{"type": "ping", "x": ' + "[" * 11 + "]" * 11 + "}", "malformed"),
        ('{"type": "ping", "n": ' + "9" * 5000 + "}", "malformed"),
        ("[" * 100_000, "too_long"),
    ]:
        await ws.send_to(text_data=frame)
        error = await ws.receive_json_from(timeout=5)
        assert error["type"] == "error" and error["code"] == code
        await _still_open(ws)
    await ws.disconnect()


async def test_policies_that_are_not_text_are_refused_never_dropped():
    ws = await _connect()
    edit = {"type": "card_edit", "title": "Honest care", "description": "The assistant should care."}
    for policies, message in [
        (["ok", 1, None, {}, ""], "Policy 2 should be text."),
        (["ok", "   ", "fine"], "Policy 2 is empty."),
        ([], "A card needs 1 to 10 policies; this one has 0."),
        ("one policy", "The policies should be a list of texts."),
        (["ok", "p" * 301], "Policy 2 can be at most 300 characters."),
    ]:
        await ws.send_json_to({**edit, "policies": policies})
        error = await ws.receive_json_from(timeout=5)
        assert error["code"] == "bad_card" and error["message"] == message, policies
    assert await _count(ValuesCard) == 1
    await ws.send_json_to({**edit, "policies": ["MOMENTS that matter", "  CHOICES people make  "]})
    shown = await ws.receive_json_from(timeout=5)
    assert shown["type"] == "card_shown" and shown["card"]["policies"] == ["MOMENTS that matter", "CHOICES people make"]
    await ws.disconnect()


async def test_submit_while_the_interviewer_answers_is_refused_and_nothing_follows_a_submission(slow_provider):
    ws = await _connect("slow")
    await ws.send_json_to({"type": "user_message", "text": "Here is what I think.", "client_id": "m1"})
    while (await ws.receive_json_from(timeout=5))["type"] != "delta":
        pass
    await ws.send_json_to({"type": "submit"})
    frames = []
    while not frames or frames[-1]["type"] != "message_complete":
        frames.append(await ws.receive_json_from(timeout=5))
    refusals = [f for f in frames if f["type"] == "error"]
    assert [f["code"] for f in refusals] == ["busy"] and "wait" in refusals[0]["message"]
    assert "submitted" not in [f["type"] for f in frames]
    assert await database_sync_to_async(lambda: Interview.objects.get().status)() == "active"
    # Once the reply is over (its token released), the submission goes through, and it is the last word.
    for _ in range(100):
        if await database_sync_to_async(lambda: Interview.objects.get().reply_token)() is None:
            break
        await asyncio.sleep(0.02)
    await ws.send_json_to({"type": "submit"})
    assert (await ws.receive_json_from(timeout=10))["type"] == "submitted"
    messages, cards = await _count(ChatMessage), await _count(ValuesCard)
    assert await ws.receive_nothing(timeout=0.5)
    assert (await _count(ChatMessage), await _count(ValuesCard)) == (messages, cards)
    await ws.disconnect()


def test_a_reply_in_progress_blocks_a_submission_at_the_service_too(db):
    study, _ = _setup()
    interview = Interview.objects.get()
    chat.add_user_message(interview_id=interview.pk, text="hello", client_message_id="h")
    assert chat.claim_reply(interview.pk) is not None
    with pytest.raises(chat.InterviewError) as refused:
        chat.submit_card(interview_id=interview.pk)
    assert refused.value.code == "busy"
    # The interviewer's own submit_values_card, from inside its reply, is not blocked by itself.
    assert chat.submit_card(interview_id=interview.pk, via="interviewer").submitted
