"""An open tab takes over a reply whose server died, without a reload
(the real-process version, killing daphne, is in tests/faults/)."""

import asyncio
import time

import pytest
from django.utils import timezone

from interviews import services as chat
from interviews.models import ChatMessage, Interview
from tests.interviews import test_interview_consumer as base

pytestmark = pytest.mark.django_db(transaction=True)


async def test_open_tab_takes_over_a_dead_servers_reply_once_its_heartbeat_is_stale(settings):
    settings.INTERVIEW_REPLY_STALE_SECONDS = 1.5
    study, cookie = await base.setup()
    interview = await base.db(lambda: Interview.objects.get())
    # Another server saved the participant's turn, started answering and
    # died a moment ago: its heartbeat is still fresh.
    await base.db(
        lambda: chat.add_user_message(interview_id=interview.pk, text=base.ANSWERS[0], client_message_id="x1")
    )
    await base.db(
        lambda: Interview.objects.update(
            reply_token="00000000-0000-0000-0000-000000000001", reply_heartbeat_at=timezone.now()
        )
    )
    started = time.monotonic()
    ws, state = await base.connect(study.slug, cookie)
    assert state["replying"] is True

    # The tab sends nothing, yet the answer arrives once the heartbeat is stale.
    frames = await base.until(ws, "message_complete", timeout=10)
    assert 1.0 < time.monotonic() - started < 6
    assert "good thing" in frames[-1]["message"]["content"]
    assistant_turns = await base.db(lambda: ChatMessage.objects.filter(role="assistant").count())
    assert assistant_turns == 2  # the greeting and this one answer
    await ws.disconnect()


async def test_a_live_reply_is_not_taken_over_by_another_tab(settings):
    # A reply longer than the stale window: its heartbeat keeps it alive.
    settings.INTERVIEW_REPLY_STALE_SECONDS = 1.0
    settings.LLM_OFFLINE_STREAM_DELAY = 0.06
    study, cookie = await base.setup()
    ws1, _ = await base.connect(study.slug, cookie)
    ws2, _ = await base.connect(study.slug, cookie)
    started = time.monotonic()
    frames = await base.say(ws1, base.ANSWERS[0])
    assert time.monotonic() - started > 1.5
    assert [f["type"] for f in frames].count("reply_started") == 1
    other = await base.until(ws2, "message_complete")
    assert [f["type"] for f in other].count("reply_started") == 1
    await asyncio.sleep(1.5)  # past another stale window: still one answer
    contents = await base.db(
        lambda: list(ChatMessage.objects.filter(role="assistant").values_list("content", flat=True))
    )
    assert len(contents) == 2
    await ws1.disconnect()
    await ws2.disconnect()


async def test_a_tool_call_left_without_its_result_is_answered_as_failed_in_the_saved_transcript(settings):
    """The server died after saving the interviewer's call to the card
    writer, before its result. The reply taken over records a result saying
    the step failed (the transcript kept is what the model is sent, and what
    an auditor reads), then the interviewer carries on; a participant who
    types instead of waiting gets the same, before their turn."""
    from mgeplatform.llm import gateway

    settings.INTERVIEW_REPLY_STALE_SECONDS = 1.0
    study, cookie = await base.setup()
    interview = await base.db(lambda: Interview.objects.get())

    def died_in_the_tool_loop(call_id):
        chat.add_user_message(interview_id=interview.pk, text=base.ANSWERS[0], client_message_id=call_id)
        seq = ChatMessage.objects.filter(interview=interview).order_by("-seq").first().seq + 1
        ChatMessage.objects.create(
            interview=interview,
            seq=seq,
            role="assistant",
            content="Let me write that up.",
            tool_calls=[{"id": call_id, "name": "write_card", "arguments": {}}],
        )
        Interview.objects.update(
            reply_token="00000000-0000-0000-0000-000000000001",
            reply_heartbeat_at=timezone.now() - timezone.timedelta(seconds=30),
        )

    await base.db(lambda: died_in_the_tool_loop("toolu_dead_1"))
    ws, _ = await base.connect(study.slug, cookie)
    await base.until(ws, "message_complete", timeout=10)
    await ws.disconnect()
    rows = await base.db(
        lambda: list(
            ChatMessage.objects.filter(interview=interview)
            .order_by("seq")
            .values_list("role", "tool_call_id", "content")
        )
    )
    at = [r[1] for r in rows].index("toolu_dead_1")
    assert rows[at - 1][0] == "assistant" and rows[at][0] == "tool"
    assert rows[at][2] == gateway.DANGLING_TOOL_RESULT
    assert rows[at + 1][0] == "assistant"  # and the interviewer went on

    # Typing over a dangling call: its failed result is saved before the new turn.
    await base.db(lambda: Interview.objects.update(reply_token=None, reply_heartbeat_at=None))
    await base.db(lambda: died_in_the_tool_loop("toolu_dead_2"))
    await base.db(lambda: Interview.objects.update(reply_token=None, reply_heartbeat_at=None))
    await base.db(lambda: chat.add_user_message(interview_id=interview.pk, text="Are you still there?"))
    last = await base.db(
        lambda: list(
            ChatMessage.objects.filter(interview=interview).order_by("-seq").values_list("role", "tool_call_id")[:3]
        )
    )
    assert last[0] == ("user", "") and last[1] == ("tool", "toolu_dead_2") and last[2][0] == "assistant"
