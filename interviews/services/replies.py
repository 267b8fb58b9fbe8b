"""The interviewer's reply: an async function that streams the answer through
the gateway and reports progress through an `emit` callback (the websocket
consumer sends those events to every tab of the interview), guarded by a
token with a heartbeat, and running the tools the interviewer calls."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from interviews.contracts import ShowValuesCardArgs, SubmitValuesCardArgs
from interviews.language import prompt_language
from interviews.models import ChatMessage, Interview
from interviews.selectors import message_payload, needs_reply, reply_alive
from interviews.services.cards import _articulate, match_before_submit, submit_card, submitted_event
from interviews.services.transcript import (
    ClaimedTurn,
    InterviewError,
    _answer_dangling_tool_calls,
    _context,
    _load_with_transcript,
    _lock_row,
    _next_seq,
    interviewer_prompt,
)
from mgeplatform.asyncdb import db_async
from mgeplatform.audit import participant_context
from mgeplatform.llm import contracts, gateway
from mgeplatform.llm.types import ChatRequest, LLMError, TextDelta, ToolCall

Emit = Callable[[dict], Awaitable[None]]


HEARTBEAT_SECONDS = 5


MAX_TOOL_ROUNDS = 4


DELTA_FLUSH_SECONDS = 0.1


TOOLS = [
    contracts.tool(
        "show_values_card",
        "Have the card writer turn the conversation so far into a values card and show it to the participant. "
        "Call again with change_request to revise the card as the participant asked.",
        ShowValuesCardArgs,
    ),
    contracts.tool(
        "submit_values_card",
        "Submit the current card once the participant has said it captures their value.",
        SubmitValuesCardArgs,
    ),
]


def heartbeat_seconds() -> float:
    # Several beats fit in the stale window, so a live reply never looks dead.
    return min(HEARTBEAT_SECONDS, settings.INTERVIEW_REPLY_STALE_SECONDS / 4)


def takeover_due_in(interview_id: int) -> float | None:
    """Seconds until an open tab may take over the reply to the unanswered
    turn: 0 when nobody alive holds it, the time left until its holder's
    heartbeat goes stale otherwise. None when there is nothing to take over
    (no turn waiting, or the last reply failed: the participant retries)."""
    interview = Interview.objects.get(pk=interview_id)
    if interview.last_error or not needs_reply(interview):
        return None
    if not reply_alive(interview):
        return 0.0
    assert interview.reply_heartbeat_at is not None  # reply_alive: a holder with a heartbeat
    stale_at = interview.reply_heartbeat_at + timedelta(seconds=settings.INTERVIEW_REPLY_STALE_SECONDS)
    return max(0.0, (stale_at - timezone.now()).total_seconds())


def claim_reply(interview_id: int) -> uuid.UUID | None:
    """Take the right to generate the next reply, if one is due and nobody
    alive holds it."""
    with transaction.atomic():
        interview = _lock_row(interview_id)
        if not needs_reply(interview) or reply_alive(interview):
            return None
        with participant_context(interview.participant_id):
            _answer_dangling_tool_calls(interview, list(interview.messages.order_by("seq")))
        interview.reply_token = uuid.uuid4()
        interview.reply_heartbeat_at = timezone.now()
        interview.save(update_fields=["reply_token", "reply_heartbeat_at"])
        return interview.reply_token


def _heartbeat(interview_id: int, token: uuid.UUID) -> bool:
    return Interview.objects.filter(pk=interview_id, reply_token=token).update(reply_heartbeat_at=timezone.now()) == 1


def _release(interview_id: int, token: uuid.UUID, error: str = "") -> None:
    Interview.objects.filter(pk=interview_id, reply_token=token).update(
        reply_token=None, reply_heartbeat_at=None, last_error=error
    )


def _save_assistant_turn(
    interview_id: int, text: str, tool_calls: list[ToolCall], record, release: uuid.UUID | None = None
) -> ChatMessage:
    """Save the interviewer's turn; with `release`, the reply ends here and
    its token is given back in the same transaction, so a participant who
    submits or answers the moment the turn is complete never finds the
    interviewer still "busy" (under load that gap was seconds)."""
    with transaction.atomic():
        interview = _lock_row(interview_id)
        if release is not None:
            _release(interview_id, release)
        return ChatMessage.objects.create(
            interview=interview,
            seq=_next_seq(interview),
            role=ChatMessage.Role.ASSISTANT,
            content=text,
            tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in tool_calls],
            llm_call=record,
            input_tokens=record.input_tokens if record else 0,
            output_tokens=record.output_tokens if record else 0,
        )


def _save_tool_result(interview_id: int, call_id: str, content: str) -> ChatMessage:
    with transaction.atomic():
        interview = _lock_row(interview_id)
        return ChatMessage.objects.create(
            interview=interview,
            seq=_next_seq(interview),
            role=ChatMessage.Role.TOOL,
            content=content,
            tool_call_id=call_id,
        )


async def run_reply(interview_id: int, token: uuid.UUID, emit: Emit, claimed: ClaimedTurn | None = None) -> None:
    """Generate the interviewer's reply (and any card it asks for), streaming
    events through `emit`. Always releases the reply token. `claimed`: what
    the claim read, for the first round."""
    heartbeat = asyncio.create_task(_beat(interview_id, token))
    error = ""
    released = False
    try:
        for _round in range(MAX_TOOL_ROUNDS):
            if claimed is not None:
                interview, messages, claimed = claimed.interview, claimed.transcript, None
            else:
                interview, messages = await db_async(_load_with_transcript)(interview_id)
            prompt = interviewer_prompt(interview.prompt_versions.get("interviewer", {}).get("version"))
            request = ChatRequest(
                model="",
                system=prompt.render(
                    scenario_prompt=interview.scenario.prompt, **prompt_language(interview.participant)
                ),
                messages=messages,
                tools=TOOLS,
                max_tokens=700,
            )
            reply_id = uuid.uuid4().hex
            await emit({"type": "reply_started", "reply_id": reply_id})
            call = gateway.stream_chat(request, _context(interview, "interview.reply", prompt))
            try:
                await _stream_deltas(call, reply_id, emit)
            except LLMError as err:
                await emit({"type": "reply_failed", "reply_id": reply_id})
                raise err
            result = call.result
            assert result is not None  # the stream ended without an error, so it has a result
            last = not result.tool_calls
            message = await db_async(_save_assistant_turn)(
                interview_id, result.text, result.tool_calls, call.record, release=token if last else None
            )
            released = last
            if last:
                heartbeat.cancel()  # before the frame: a beat after it would find no token, harmlessly
            await emit({"type": "message_complete", "reply_id": reply_id, "message": message_payload(message)})
            if last:
                return
            for tool_call in result.tool_calls:
                if not await _run_tool(interview_id, tool_call, emit):
                    return
    except LLMError as err:
        error = str(err)
        await emit(
            {
                "type": "error",
                "code": "llm_failed",
                "retry": True,
                "message": "The interviewer could not answer just now. Your message is saved; press Retry.",
            }
        )
    finally:
        heartbeat.cancel()
        if not released:
            await db_async(_release)(interview_id, token, error)


async def _stream_deltas(call, reply_id: str, emit: Emit) -> None:
    """Forward streamed text, coalescing words that arrive within
    DELTA_FLUSH_SECONDS into one frame: the first word goes out at once, and
    a fast model does not cost one websocket frame per token."""
    loop = asyncio.get_running_loop()
    buffer: list[str] = []
    last_flush = 0.0
    async for event in call:
        if isinstance(event, TextDelta):
            buffer.append(event.text)
            now = loop.time()
            if now - last_flush >= DELTA_FLUSH_SECONDS:
                await emit({"type": "delta", "reply_id": reply_id, "text": "".join(buffer)})
                buffer, last_flush = [], now
    if buffer:
        await emit({"type": "delta", "reply_id": reply_id, "text": "".join(buffer)})


async def _run_tool(interview_id: int, tool_call: ToolCall, emit: Emit) -> bool:
    """Carry out one tool call. False when the interview is over."""
    if tool_call.name == "show_values_card":
        try:
            change = ShowValuesCardArgs.model_validate(tool_call.arguments).change_request
        except ValidationError:
            change = None  # unusable arguments: write the card without a change request
        card, result = await _articulate(interview_id, change)
        await db_async(_save_tool_result)(interview_id, tool_call.id, result)
        if card is not None:
            await emit({"type": "card_shown", "card": card.as_dict()})
        return True
    if tool_call.name == "submit_values_card":
        try:
            await match_before_submit(interview_id)
            card = await db_async(submit_card)(interview_id=interview_id, via="interviewer")
        except InterviewError as err:
            await db_async(_save_tool_result)(interview_id, tool_call.id, f"NOT SUBMITTED: {err.message}")
            return True
        await db_async(_save_tool_result)(interview_id, tool_call.id, "SUBMITTED")
        await emit(await db_async(submitted_event)(card))
        return False
    await db_async(_save_tool_result)(interview_id, tool_call.id, f"Unknown tool {tool_call.name!r}.")
    return True


async def _beat(interview_id: int, token: uuid.UUID) -> None:
    while True:
        await asyncio.sleep(heartbeat_seconds())
        await db_async(_heartbeat)(interview_id, token)
