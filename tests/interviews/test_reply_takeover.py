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
    await base.db(lambda: chat.add_user_message(interview_id=interview.pk, text=base.ANSWERS[0],
                                                client_message_id="x1"))
    await base.db(lambda: Interview.objects.update(reply_token="00000000-0000-0000-0000-000000000001",
                                                   reply_heartbeat_at=timezone.now()))
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
    contents = await base.db(lambda: list(ChatMessage.objects.filter(role="assistant").values_list("content",
                                                                                                 flat=True)))
    assert len(contents) == 2
    await ws1.disconnect()
    await ws2.disconnect()
