"""The interview websocket, end to end through the gateway and Postgres."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from config.asgi import application
from interviews import services as chat
from interviews.models import ChatMessage, Interview
from mgeplatform.llm import gateway
from mgeplatform.llm.types import Done, LLMError, TextDelta, Usage
from mgeplatform.models import DomainEvent, LLMCall
from studies import services
from studies.models import Participant, Step, Study
from tests.factories import PROLIFIC, enter
from values.models import ValuesCard

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = [
    "Abortion is wrong, you should never do it.",
    "I care that people think about everyone affected, not only themselves, when they decide.",
    "When I thought I was pregnant in college I was scared and only thought about myself at first.",
    "Looking back I paid attention to how others would feel and to what my faith teaches me.",
]


def _setup(provider: str = "", scenario_key: str = "abortion"):
    study, _ = services.seed_case_study()
    if provider:
        study.llm_provider, study.llm_model = provider, "fake-model-1"
        study.save()
    client = Client()
    enter(client, study, **PROLIFIC)
    participant = Participant.objects.get()
    doc = study.consent_documents.get()
    services.record_consent(participant=participant, consent=doc, accepted=True)
    chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key=scenario_key))
    return study, client.cookies["sessionid"].value


async def setup(provider: str = ""):
    return await database_sync_to_async(_setup)(provider)


async def connect(slug, cookie):
    ws = WebsocketCommunicator(
        application,
        f"/ws/s/{slug}/interview/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected
    state = await ws.receive_json_from(timeout=5)
    assert state["type"] == "state"
    return ws, state


async def until(ws, kind, timeout=20):
    """Frames up to and including the first of type `kind`."""
    frames = []
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        frames.append(frame)
        if frame["type"] == kind:
            return frames


async def say(ws, text, client_id=None):
    await ws.send_json_to({"type": "user_message", "text": text, "client_id": client_id or text[:20]})
    return await until(ws, "message_complete")


async def db(fn):
    return await database_sync_to_async(fn)()


class FakeProvider:
    """Scriptable stand-in for a model provider (registered per test)."""

    def __init__(self, failures=0, delay=0.0, error_status=503):
        self.failures = failures
        self.delay = delay
        self.calls = 0
        self.error_status = error_status
        self.requests = []

    async def stream_chat(self, request, *, timeout):
        self.calls += 1
        self.requests.append(request)
        if self.failures > 0:
            self.failures -= 1
            raise LLMError("upstream overloaded", retryable=True, status=self.error_status)
        for word in ["Tell ", "me ", "more ", "about ", "that?"]:
            await asyncio.sleep(self.delay)
            yield TextDelta(word)
        yield Done(usage=Usage(input_tokens=100, cached_input_tokens=40, output_tokens=5), stop_reason="end_turn")


@pytest.fixture
def fake_provider():
    provider = FakeProvider()
    with gateway.override_provider("fake", lambda route: provider):
        yield provider


async def test_connect_sends_snapshot_with_greeting_and_offline_flag():
    study, cookie = await setup()
    ws, state = await connect(study.slug, cookie)
    assert state["interview"]["offline"] is True
    assert state["interview"]["scenario"]["prompt"].startswith("I am a Christian girl")
    assert len(state["messages"]) == 1 and state["messages"][0]["role"] == "assistant"
    assert "Everyone's input helps" in state["messages"][0]["content"]
    assert state["card"] is None and state["limits"]["max_chars"] == 4000
    await ws.disconnect()


async def test_reply_streams_token_by_token_and_is_saved(settings):
    settings.LLM_OFFLINE_STREAM_DELAY = 0.03  # a model that takes its time
    study, cookie = await setup()
    ws, _ = await connect(study.slug, cookie)
    frames = await say(ws, ANSWERS[0])
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "message" and frames[0]["message"]["content"] == ANSWERS[0]
    assert "reply_started" in kinds
    deltas = [f["text"] for f in frames if f["type"] == "delta"]
    assert len(deltas) >= 4  # words arrive in several frames, not all at the end
    complete = frames[-1]["message"]
    assert "".join(deltas) == complete["content"]
    assert "good thing you want to protect" in complete["content"]  # slogan → underlying good
    roles = await db(lambda: list(ChatMessage.objects.order_by("seq").values_list("role", flat=True)))
    assert roles == ["assistant", "user", "assistant"]
    call = await db(lambda: LLMCall.objects.get(purpose="interview.reply"))
    assert call.prompt_name == "interviewer" and call.prompt_version == "2" and len(call.prompt_hash) == 64
    assert call.provider == "offline" and call.output_tokens > 0 and call.ok
    await ws.disconnect()


async def _interview_to_card(ws):
    for answer in ANSWERS[:3]:
        await say(ws, answer)
    await ws.send_json_to({"type": "user_message", "text": ANSWERS[3], "client_id": "a4"})
    frames = await until(ws, "card_shown")
    follow = await until(ws, "message_complete")
    return frames[-1]["card"], follow[-1]["message"]


async def test_card_appears_in_chat_and_can_be_revised_by_chat():
    study, cookie = await setup()
    ws, _ = await connect(study.slug, cookie)
    card, follow_up = await _interview_to_card(ws)
    assert card["revision"] == 1 and card["source"] == "articulator"
    assert 3 <= len(card["policies"]) <= 5
    # Built from the participant's words ("how others would feel"), not their sentences pasted back.
    assert "FEELINGS of others" in card["policies"]
    assert not any(answer.rstrip(".") in p for p in card["policies"] for answer in ANSWERS)
    assert card["title"] in follow_up["content"]
    articulate = await db(lambda: LLMCall.objects.get(purpose="interview.articulate"))
    assert articulate.prompt_name == "articulator"

    await ws.send_json_to(
        {"type": "user_message", "text": 'Please change the title to "Faith and Care"', "client_id": "c1"}
    )
    frames = await until(ws, "card_shown")
    assert frames[-1]["card"]["title"] == "Faith and Care" and frames[-1]["card"]["revision"] == 2
    await until(ws, "message_complete")
    assert await db(lambda: ValuesCard.objects.count()) == 2  # every revision kept
    await ws.disconnect()


async def test_direct_edit_makes_a_revision_and_tells_the_interviewer():
    study, cookie = await setup()
    ws, _ = await connect(study.slug, cookie)
    await _interview_to_card(ws)
    await ws.send_json_to(
        {
            "type": "card_edit",
            "title": "Honest Care",
            "description": "The assistant should care.",
            "policies": ["MOMENTS when someone is scared", "FEELINGS of others affected"],
        }
    )
    frame = await ws.receive_json_from(timeout=5)
    assert frame["type"] == "card_shown"
    assert frame["card"] == {**frame["card"], "title": "Honest Care", "revision": 2, "source": "participant_edit"}
    note = await db(lambda: ChatMessage.objects.get(role="note"))
    assert "Honest Care" in note.content
    # A bad edit is refused and changes nothing.
    await ws.send_json_to({"type": "card_edit", "title": "", "description": "x", "policies": []})
    assert (await ws.receive_json_from(timeout=5))["code"] == "bad_card"
    assert await db(lambda: ValuesCard.objects.count()) == 2
    await ws.disconnect()


async def test_submit_ends_interview_and_double_submit_is_harmless():
    study, cookie = await setup()
    ws, _ = await connect(study.slug, cookie)
    await _interview_to_card(ws)
    await ws.send_json_to({"type": "submit"})
    frame = await ws.receive_json_from(timeout=5)
    assert frame["type"] == "submitted" and frame["next_url"] == f"/s/{study.slug}/journey/"
    await ws.send_json_to({"type": "submit"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "submitted"
    assert await db(lambda: DomainEvent.objects.filter(kind="values_card.submitted").count()) == 1
    participant = await db(lambda: Participant.objects.get())
    # The study's first participant: nothing to mark or judge yet, so on to the survey.
    assert participant.current_step == Step.SURVEY
    card = await db(lambda: ValuesCard.objects.get(submitted=True))
    assert card.revision == 1
    await ws.send_json_to({"type": "user_message", "text": "one more thing", "client_id": "late"})
    assert (await ws.receive_json_from(timeout=5))["code"] == "closed"
    await ws.disconnect()


async def test_interviewer_submits_when_participant_approves_in_chat():
    study, cookie = await setup()
    ws, _ = await connect(study.slug, cookie)
    await _interview_to_card(ws)
    await ws.send_json_to({"type": "user_message", "text": "Yes, that's exactly it.", "client_id": "ok"})
    frames = await until(ws, "submitted")
    assert frames[-1]["card"]["submitted"] is True
    assert await db(lambda: Interview.objects.get().status) == "submitted"
    await ws.disconnect()


async def test_reconnect_gets_transcript_and_card():
    study, cookie = await setup()
    ws, _ = await connect(study.slug, cookie)
    card, _ = await _interview_to_card(ws)
    await ws.disconnect()
    ws2, state = await connect(study.slug, cookie)
    contents = [m["content"] for m in state["messages"]]
    assert all(answer in contents for answer in ANSWERS)
    assert state["card"]["title"] == card["title"]
    assert state["replying"] is False and state["awaiting_reply"] is False
    await ws2.disconnect()


async def test_unanswered_turn_after_restart_is_answered_on_reconnect():
    study, cookie = await setup()
    interview = await db(lambda: Interview.objects.get())
    # The server saved the participant's turn and died before replying,
    # leaving a reply token whose heartbeat stopped.
    await db(lambda: chat.add_user_message(interview_id=interview.pk, text=ANSWERS[0], client_message_id="x1"))
    await db(
        lambda: Interview.objects.update(
            reply_token="00000000-0000-0000-0000-000000000001", reply_heartbeat_at=timezone.now() - timedelta(minutes=5)
        )
    )
    ws, state = await connect(study.slug, cookie)
    assert state["awaiting_reply"] is True
    frames = await until(ws, "message_complete")
    assert "good thing" in frames[-1]["message"]["content"]
    # The token is released just after the last frame is sent.
    for _ in range(100):
        if await db(lambda: Interview.objects.get().reply_token) is None:
            break
        await asyncio.sleep(0.02)
    assert await db(lambda: Interview.objects.get().reply_token) is None
    await ws.disconnect()


async def test_bad_frames_get_errors_and_change_nothing():
    study, cookie = await setup()
    ws, _ = await connect(study.slug, cookie)
    await ws.send_to(text_data="not json")
    assert (await ws.receive_json_from())["code"] == "malformed"
    await ws.send_json_to({"type": "user_message", "text": 42})
    assert (await ws.receive_json_from())["code"] == "malformed"
    await ws.send_json_to({"type": "__init__"})
    assert (await ws.receive_json_from())["code"] == "unknown_type"
    await ws.send_json_to({"type": "user_message", "text": "x" * 4001, "client_id": "long"})
    error = await ws.receive_json_from()
    assert error["code"] == "too_long" and "4,000" in error["message"]
    await ws.send_json_to({"type": "user_message", "text": "   ", "client_id": "blank"})
    assert (await ws.receive_json_from())["code"] == "empty"
    await ws.send_to(text_data="{" + "x" * 40_000 + "}")
    assert (await ws.receive_json_from())["code"] == "too_long"
    await ws.send_json_to({"type": "submit"})
    assert (await ws.receive_json_from())["code"] == "no_card"
    assert await db(lambda: ChatMessage.objects.count()) == 1
    await ws.disconnect()


async def test_message_while_streaming_is_refused(fake_provider):
    fake_provider.delay = 0.2
    study, cookie = await setup("fake")
    ws, _ = await connect(study.slug, cookie)
    await ws.send_json_to({"type": "user_message", "text": "first", "client_id": "m1"})
    await until(ws, "delta")
    await ws.send_json_to({"type": "user_message", "text": "second", "client_id": "m2"})
    frames = await until(ws, "error")
    assert frames[-1]["code"] == "busy"
    await until(ws, "message_complete")
    assert await db(lambda: list(ChatMessage.objects.filter(role="user").values_list("content", flat=True))) == [
        "first"
    ]
    await ws.disconnect()


async def test_double_sent_message_is_saved_once(fake_provider):
    study, cookie = await setup("fake")
    ws, _ = await connect(study.slug, cookie)
    await say(ws, "hello there", client_id="same")
    await ws.send_json_to({"type": "user_message", "text": "hello there", "client_id": "same"})
    frame = await ws.receive_json_from(timeout=5)
    assert frame["type"] == "message"
    assert await db(lambda: ChatMessage.objects.filter(role="user").count()) == 1
    await ws.disconnect()


async def test_the_interviewer_hears_the_whole_conversation_up_to_the_new_turn(fake_provider):
    study, cookie = await setup("fake")
    ws, _ = await connect(study.slug, cookie)
    await say(ws, "I care about honesty.", client_id="h1")
    await say(ws, "Even when it costs me.", client_id="h2")
    sent = [(m.role, m.content) for m in fake_provider.requests[-1].messages]
    assert sent[-3:] == [
        ("user", "I care about honesty."),
        ("assistant", "Tell me more about that?"),
        ("user", "Even when it costs me."),
    ]
    assert sent[0][0] == "assistant" and "Everyone's input helps" in sent[0][1]  # the greeting
    await ws.disconnect()


async def test_llm_failure_keeps_text_then_retry_answers(fake_provider):
    fake_provider.failures = 3  # more than LLM_MAX_ATTEMPTS
    study, cookie = await setup("fake")
    ws, _ = await connect(study.slug, cookie)
    await ws.send_json_to({"type": "user_message", "text": "my careful answer", "client_id": "r1"})
    frames = await until(ws, "error")
    assert frames[-1]["code"] == "llm_failed" and frames[-1]["retry"] is True
    assert fake_provider.calls == 3
    failed = await db(lambda: LLMCall.objects.get(ok=False))
    assert "overloaded" in failed.error and failed.attempts == 3
    assert await db(lambda: list(ChatMessage.objects.filter(role="user").values_list("content", flat=True))) == [
        "my careful answer"
    ]
    ws2, state = await connect(study.slug, cookie)
    assert state["last_error"] is True and state["awaiting_reply"] is True
    await ws2.disconnect()
    await ws.send_json_to({"type": "retry"})
    frames = await until(ws, "message_complete")
    assert frames[-1]["message"]["content"] == "Tell me more about that?"
    ok = await db(lambda: LLMCall.objects.get(ok=True))
    # An unknown model is counted at the fallback price, never as free.
    assert ok.cached_input_tokens == 40 and ok.estimated_cost_usd > 0
    await ws.disconnect()


async def test_two_tabs_see_the_same_conversation():
    study, cookie = await setup()
    tab_a, _ = await connect(study.slug, cookie)
    tab_b, _ = await connect(study.slug, cookie)
    await say(tab_a, ANSWERS[1])
    frames_b = await until(tab_b, "message_complete")
    assert frames_b[0]["type"] == "message" and frames_b[0]["message"]["content"] == ANSWERS[1]
    assert any(f["type"] == "delta" for f in frames_b)
    await tab_a.disconnect()
    await tab_b.disconnect()


async def test_no_interview_socket_before_consent():
    def _fresh():
        study, _ = services.seed_case_study()
        client = Client()
        enter(client, study, **PROLIFIC)
        return study, client.cookies["sessionid"].value

    study, cookie = await db(_fresh)
    ws = WebsocketCommunicator(
        application,
        f"/ws/s/{study.slug}/interview/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected and await ws.receive_output() == {"type": "websocket.close", "code": 4404}


async def test_submit_looks_for_a_matching_canonical_value_first():
    from values import embeddings
    from values.models import CanonicalValue

    study, cookie = await setup()
    ws, _ = await connect(study.slug, cookie)
    card, _ = await _interview_to_card(ws)

    def make_canonical():
        # The offline interviewer stands in for a language model here: its card takes part in matching.
        Study.objects.filter(pk=study.pk).update(include_scripted_cards=True)
        value = CanonicalValue.objects.create(
            study=study, title="Shared", description="Shared.", policies=card["policies"], origin="manual"
        )
        embeddings.embed_objects([value], study=study)
        return value

    canonical = await db(make_canonical)
    await ws.send_json_to({"type": "submit"})
    assert (await ws.receive_json_from(timeout=20))["type"] == "submitted"
    linked = await db(lambda: ValuesCard.objects.get(submitted=True).canonical_id)
    assert linked == canonical.pk
    await ws.disconnect()
